-- +goose Up
-- See the PostgreSQL migration.
ALTER TABLE workspaces ADD COLUMN first_element_signatures BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE workspaces DROP COLUMN first_element_signatures;
