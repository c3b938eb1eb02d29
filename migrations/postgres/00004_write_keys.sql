-- +goose Up
-- Write keys authenticate the HTTP Tracking API (/v1/*). Only a SHA-256 of
-- each key is kept, so reading this table does not let anyone send events;
-- prefix is the key's first characters, for telling keys apart on screen.
CREATE TABLE write_keys (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    key_hash     TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    CONSTRAINT write_keys_key_hash UNIQUE (key_hash)
);
CREATE INDEX write_keys_ws_created ON write_keys (workspace_id, created_at DESC);

-- +goose Down
DROP TABLE write_keys;
