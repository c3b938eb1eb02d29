-- +goose Up
CREATE TABLE workspaces (
    id                         TEXT PRIMARY KEY,
    name                       TEXT NOT NULL,
    is_default                 BOOLEAN NOT NULL DEFAULT FALSE,
    secret                     TEXT NOT NULL DEFAULT '',
    secret_set_at              DATETIME,
    secret_set_by              TEXT NOT NULL DEFAULT '',
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at DATETIME,
    created_at                 DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at                 DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX workspaces_one_default ON workspaces (is_default) WHERE is_default;

CREATE TABLE events (
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
    CONSTRAINT events_workspace_message UNIQUE (workspace_id, message_id)
);
CREATE INDEX events_ws_received ON events (workspace_id, received_at DESC, id DESC);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE settings;
DROP TABLE events;
DROP TABLE workspaces;
