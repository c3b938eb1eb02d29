-- +goose Up
-- See the PostgreSQL migration. Times are text in the store's fixed UTC
-- layout, so text order is time order. cursor_tx is always 0 (id order).
-- Destinations: HTTP endpoints every committed event of a workspace is
-- forwarded to (Standard Webhooks signed). Each keeps its own position in the
-- commit-safe feed (cursor_tx, cursor_id: see store.FeedCursor) and a lease
-- (leased_by, leased_until) so exactly one instance works it at a time.
-- Secrets are whsec_… strings, sealed like the Segment secret when
-- ENCRYPTION_KEY is set.
CREATE TABLE destinations (
    id                         TEXT PRIMARY KEY,
    workspace_id               TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                       TEXT NOT NULL DEFAULT '',
    url                        TEXT NOT NULL,
    event_types                TEXT NOT NULL DEFAULT '', -- comma-separated; empty = every type
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at DATETIME,
    paused                     BOOLEAN NOT NULL DEFAULT FALSE,
    paused_reason              TEXT NOT NULL DEFAULT '',
    cursor_tx                  BIGINT NOT NULL,
    cursor_id                  BIGINT NOT NULL,
    leased_by                  TEXT NOT NULL DEFAULT '',
    leased_until               DATETIME NOT NULL DEFAULT '1970-01-01 00:00:00.000000000+00:00',
    delivered_count            BIGINT NOT NULL DEFAULT 0,
    failed_count               BIGINT NOT NULL DEFAULT 0,
    created_at                 DATETIME NOT NULL,
    updated_at                 DATETIME NOT NULL
);
CREATE INDEX destinations_ws_created ON destinations (workspace_id, created_at);

-- Events of a destination that still need sending apart from the feed: a
-- failed delivery waiting for its next attempt, a replayed event, or one that
-- gave up (failed) and waits for "retry failed now". event_id is events.id;
-- no foreign key, so deleting old events is never blocked: a row whose event
-- is gone is dropped when it comes due.
CREATE TABLE destination_retries (
    destination_id TEXT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    event_id       BIGINT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        DATETIME NOT NULL,
    first_failed_at DATETIME,
    last_status    INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    failed         BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (destination_id, event_id)
);
CREATE INDEX destination_retries_due ON destination_retries (destination_id, failed, next_at);

-- The recent attempts a destination's page shows (kept short per destination).
CREATE TABLE destination_attempts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    destination_id TEXT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    at             DATETIME NOT NULL,
    event_id       BIGINT NOT NULL,
    message_id     TEXT NOT NULL,
    webhook_id     TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    status         INTEGER NOT NULL,
    latency_ms     INTEGER NOT NULL,
    outcome        TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    response       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX destination_attempts_dest ON destination_attempts (destination_id, id DESC);

-- +goose Down
DROP TABLE destination_attempts;
DROP TABLE destination_retries;
DROP TABLE destinations;
