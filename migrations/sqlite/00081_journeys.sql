-- +goose Up
-- Journeys (issue 21): definitions by key with a version (running
-- instances finish on theirs), instances as rows, and the messages table
-- that is both the outbox (status queued) and the messages log.
CREATE TABLE journeys (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    version      INTEGER NOT NULL,
    definition   TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT 0,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
CREATE TABLE journey_versions (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    version      INTEGER NOT NULL,
    definition   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, key, version)
);
-- Where each workspace's journey follower is in the event feed.
CREATE TABLE journey_cursors (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    cursor_tx    BIGINT NOT NULL,
    cursor_id    BIGINT NOT NULL
);
CREATE TABLE journey_instances (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    journey_key  TEXT NOT NULL,
    version      INTEGER NOT NULL,
    user_id      TEXT NOT NULL,
    status       TEXT NOT NULL,           -- active, completed, exited
    step         INTEGER NOT NULL,        -- index of the step it is at (or waits in)
    wake_at      DATETIME,             -- a wait's end; NULL when not waiting
    event        TEXT NOT NULL,           -- the triggering event's JSON
    trigger_id   TEXT NOT NULL,           -- the triggering event's messageId
    entered_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
-- One instance per triggering event (a redelivered event enters once).
CREATE UNIQUE INDEX journey_instances_trigger ON journey_instances (workspace_id, journey_key, user_id, trigger_id);
CREATE INDEX journey_instances_user ON journey_instances (workspace_id, user_id);
CREATE INDEX journey_instances_due ON journey_instances (wake_at) WHERE status = 'active' AND wake_at IS NOT NULL;
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    send_key     TEXT NOT NULL,           -- journey.instance.step: also the Message-ID
    instance_id  BIGINT NOT NULL DEFAULT 0,
    journey_key  TEXT NOT NULL DEFAULT '',
    step_id      TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL,
    to_addr      TEXT NOT NULL DEFAULT '',
    template_key TEXT NOT NULL,
    group_key    TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,           -- queued, sent, skipped, failed, bounced
    reason       TEXT NOT NULL DEFAULT '',
    reply        TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      DATETIME NOT NULL,
    created_at   DATETIME NOT NULL,
    at           DATETIME NOT NULL
);
CREATE UNIQUE INDEX messages_send_key ON messages (workspace_id, send_key);
CREATE INDEX messages_due ON messages (next_at, id) WHERE status IN ('queued', 'sending');
CREATE INDEX messages_ws_id ON messages (workspace_id, id DESC);
-- A user's messages: the log's filter, and the frequency cap's count.
CREATE INDEX messages_user ON messages (workspace_id, user_id, at);
-- Addresses a 5xx bounced: nothing more is sent to them until lifted.
CREATE TABLE email_bounces (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    address      TEXT NOT NULL,
    reply        TEXT NOT NULL,
    at           DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, address)
);

-- +goose Down
DROP TABLE email_bounces;
DROP TABLE messages;
DROP TABLE journey_instances;
DROP TABLE journey_cursors;
DROP TABLE journey_versions;
DROP TABLE journeys;
