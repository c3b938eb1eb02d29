-- +goose Up
-- Dedupe per source: see the PostgreSQL migration. SQLite cannot drop a table
-- constraint, so the table is rebuilt with the same columns, rows and ids
-- (AUTOINCREMENT continues from the highest id) and its indexes recreated.
CREATE TABLE events_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL,
    type         TEXT NOT NULL,
    event        TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL DEFAULT '',
    anonymous_id TEXT NOT NULL DEFAULT '',
    group_id     TEXT NOT NULL DEFAULT '',
    previous_id  TEXT NOT NULL DEFAULT '',
    timestamp    DATETIME,
    received_at  DATETIME NOT NULL,
    source       TEXT NOT NULL DEFAULT 'webhook', -- webhook or http_api
    source_key   TEXT NOT NULL DEFAULT '',        -- which write key, for http_api
    raw          TEXT NOT NULL,
    CONSTRAINT events_workspace_message_source UNIQUE (workspace_id, message_id, source, source_key)
);
INSERT INTO events_new (id, workspace_id, message_id, type, event, user_id, anonymous_id, group_id, previous_id, timestamp, received_at, source, source_key, raw)
SELECT id, workspace_id, message_id, type, event, user_id, anonymous_id, group_id, previous_id, timestamp, received_at, source, source_key, raw FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_ws_received ON events (workspace_id, received_at DESC, id DESC);
CREATE INDEX events_ws_type_received ON events (workspace_id, type, received_at DESC, id DESC);
CREATE INDEX events_ws_event_received ON events (workspace_id, event, received_at DESC, id DESC);
CREATE INDEX events_ws_user_received ON events (workspace_id, user_id, received_at DESC, id DESC);
CREATE INDEX events_ws_anon_received ON events (workspace_id, anonymous_id, received_at DESC, id DESC);
CREATE INDEX events_ws_feed ON events (workspace_id, id);

-- +goose Down
-- Going back keeps the first stored copy of each message id.
DELETE FROM events WHERE id NOT IN (SELECT min(id) FROM events GROUP BY workspace_id, message_id);
CREATE UNIQUE INDEX events_workspace_message ON events (workspace_id, message_id);
