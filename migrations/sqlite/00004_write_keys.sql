-- +goose Up
-- See the PostgreSQL migration. Times are text in the store's fixed UTC
-- layout, so text order is time order.
CREATE TABLE write_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    key_hash     TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME,
    CONSTRAINT write_keys_key_hash UNIQUE (key_hash)
);
CREATE INDEX write_keys_ws_created ON write_keys (workspace_id, created_at DESC);

-- +goose Down
DROP TABLE write_keys;
