-- +goose Up
-- An API token may carry an expiry (`inlet token create --expires 90d`, the
-- dashboard's date field); NULL never expires, as every token made before.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN expires_at;
