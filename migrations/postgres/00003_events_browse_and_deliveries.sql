-- +goose Up
-- One index per dashboard filter, each ending in the page order so a filtered
-- page is an index range read that stops after 51 rows, however many match.
CREATE INDEX events_ws_type_received ON events (workspace_id, type, received_at DESC, id DESC);
CREATE INDEX events_ws_event_received ON events (workspace_id, event, received_at DESC, id DESC);
CREATE INDEX events_ws_user_received ON events (workspace_id, user_id, received_at DESC, id DESC);
CREATE INDEX events_ws_anon_received ON events (workspace_id, anonymous_id, received_at DESC, id DESC);

-- The connection status survives restarts through these two tables, written
-- by a background flusher. No foreign key to workspaces: a flush must never
-- be wedged by one row, and rows of a removed workspace are trimmed anyway.
CREATE TABLE delivery_attempts (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id UUID NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    source       TEXT NOT NULL DEFAULT 'webhook',
    outcome      TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    status       INTEGER NOT NULL,
    accepted     INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX delivery_attempts_ws_at ON delivery_attempts (workspace_id, at DESC, id DESC);

-- Per minute and outcome: how many requests, and how many events they stored
-- or found already stored. Flushes add to a row, so instances sharing a
-- database do not overwrite each other's counts.
CREATE TABLE delivery_minutes (
    workspace_id UUID NOT NULL,
    minute       TIMESTAMPTZ NOT NULL,
    outcome      TEXT NOT NULL,
    requests     BIGINT NOT NULL DEFAULT 0,
    accepted     BIGINT NOT NULL DEFAULT 0,
    duplicates   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, minute, outcome)
);
CREATE INDEX delivery_minutes_minute ON delivery_minutes (minute);

-- +goose Down
DROP TABLE delivery_minutes;
DROP TABLE delivery_attempts;
DROP INDEX events_ws_anon_received;
DROP INDEX events_ws_user_received;
DROP INDEX events_ws_event_received;
DROP INDEX events_ws_type_received;
