-- +goose Up
-- Every shared secret saved within the rotation grace keeps verifying until
-- its own grace ends (or an admin revokes it), so one row per secret instead
-- of a current and a single previous column. expires_at NULL marks the
-- current secret; the store keeps at most 3 rows per workspace.
CREATE TABLE workspace_secrets (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    secret       TEXT NOT NULL, -- sealed like the old columns (enc:v1:… when ENCRYPTION_KEY is set)
    set_at       TIMESTAMPTZ NOT NULL,
    set_by       TEXT NOT NULL DEFAULT '',
    expires_at   TIMESTAMPTZ
);
CREATE INDEX workspace_secrets_ws ON workspace_secrets (workspace_id, set_at DESC, id DESC);
CREATE UNIQUE INDEX workspace_secrets_one_current ON workspace_secrets (workspace_id) WHERE expires_at IS NULL;

INSERT INTO workspace_secrets (workspace_id, secret, set_at, set_by, expires_at)
SELECT id, previous_secret, COALESCE(secret_set_at, updated_at) - interval '1 microsecond', '', previous_secret_expires_at
FROM workspaces WHERE previous_secret <> '' AND previous_secret_expires_at IS NOT NULL;
INSERT INTO workspace_secrets (workspace_id, secret, set_at, set_by, expires_at)
SELECT id, secret, COALESCE(secret_set_at, updated_at), secret_set_by, NULL FROM workspaces WHERE secret <> '';
-- The old columns no longer hold a copy of any secret.
UPDATE workspaces SET secret = '', previous_secret = '', previous_secret_expires_at = NULL;

-- Which secret (current / previous, by its last characters) or write key
-- verified each delivery.
ALTER TABLE delivery_attempts ADD COLUMN credential TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE delivery_attempts DROP COLUMN credential;
UPDATE workspaces w SET secret = s.secret, secret_set_at = s.set_at, secret_set_by = s.set_by
FROM workspace_secrets s WHERE s.workspace_id = w.id AND s.expires_at IS NULL;
UPDATE workspaces w SET previous_secret = p.secret, previous_secret_expires_at = p.expires_at
FROM (SELECT DISTINCT ON (workspace_id) workspace_id, secret, expires_at FROM workspace_secrets
      WHERE expires_at IS NOT NULL ORDER BY workspace_id, set_at DESC, id DESC) p
WHERE p.workspace_id = w.id;
DROP TABLE workspace_secrets;
