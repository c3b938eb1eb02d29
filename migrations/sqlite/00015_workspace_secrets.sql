-- +goose Up
-- See the PostgreSQL migration: one row per secret, expires_at NULL is the
-- current one, at most 3 per workspace.
CREATE TABLE workspace_secrets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    secret       TEXT NOT NULL,
    set_at       DATETIME NOT NULL,
    set_by       TEXT NOT NULL DEFAULT '',
    expires_at   DATETIME
);
CREATE INDEX workspace_secrets_ws ON workspace_secrets (workspace_id, set_at DESC, id DESC);
CREATE UNIQUE INDEX workspace_secrets_one_current ON workspace_secrets (workspace_id) WHERE expires_at IS NULL;

-- The previous secret first, so its id is lower: set_at ties are ordered by id.
INSERT INTO workspace_secrets (workspace_id, secret, set_at, set_by, expires_at)
SELECT id, previous_secret, COALESCE(secret_set_at, updated_at), '', previous_secret_expires_at
FROM workspaces WHERE previous_secret <> '' AND previous_secret_expires_at IS NOT NULL;
INSERT INTO workspace_secrets (workspace_id, secret, set_at, set_by, expires_at)
SELECT id, secret, COALESCE(secret_set_at, updated_at), secret_set_by, NULL FROM workspaces WHERE secret <> '';
UPDATE workspaces SET secret = '', previous_secret = '', previous_secret_expires_at = NULL;

ALTER TABLE delivery_attempts ADD COLUMN credential TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE delivery_attempts DROP COLUMN credential;
UPDATE workspaces SET
    secret = COALESCE((SELECT s.secret FROM workspace_secrets s WHERE s.workspace_id = workspaces.id AND s.expires_at IS NULL), ''),
    previous_secret = COALESCE((SELECT s.secret FROM workspace_secrets s WHERE s.workspace_id = workspaces.id AND s.expires_at IS NOT NULL
                                ORDER BY s.set_at DESC, s.id DESC LIMIT 1), ''),
    previous_secret_expires_at = (SELECT s.expires_at FROM workspace_secrets s WHERE s.workspace_id = workspaces.id AND s.expires_at IS NOT NULL
                                  ORDER BY s.set_at DESC, s.id DESC LIMIT 1);
DROP TABLE workspace_secrets;
