-- +goose Up
CREATE TABLE workspaces (
    id                         UUID PRIMARY KEY,
    name                       TEXT NOT NULL,
    is_default                 BOOLEAN NOT NULL DEFAULT FALSE,
    secret                     TEXT NOT NULL DEFAULT '',
    secret_set_at              TIMESTAMPTZ,
    secret_set_by              TEXT NOT NULL DEFAULT '',
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at TIMESTAMPTZ,
    created_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                 TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- At most one default workspace, even when two instances start at once.
CREATE UNIQUE INDEX workspaces_one_default ON workspaces (is_default) WHERE is_default;

CREATE TABLE events (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL,
    type         TEXT NOT NULL,
    event        TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL DEFAULT '',
    anonymous_id TEXT NOT NULL DEFAULT '',
    group_id     TEXT NOT NULL DEFAULT '',
    previous_id  TEXT NOT NULL DEFAULT '',
    timestamp    TIMESTAMPTZ,
    received_at  TIMESTAMPTZ NOT NULL,
    source       TEXT NOT NULL DEFAULT 'webhook', -- webhook or http_api
    source_key   TEXT NOT NULL DEFAULT '',        -- which write key, for http_api
    -- json, not jsonb: keeps the event's text as sent and accepts numbers jsonb cannot hold.
    raw          JSON NOT NULL,
    CONSTRAINT events_workspace_message UNIQUE (workspace_id, message_id)
);
-- Newest-first browsing per workspace, the dashboard's main query.
CREATE INDEX events_ws_received ON events (workspace_id, received_at DESC, id DESC);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE settings;
DROP TABLE events;
DROP TABLE workspaces;
