-- +goose Up
-- Security review item 9: a stored secret must say whether it is encrypted.
-- Encrypted values keep "enc:v1:" + base64(nonce ‖ ciphertext ‖ tag); plain
-- ones now start with "plain:", so a plaintext secret that happens to begin
-- with "enc:v1:" is no longer taken for an encrypted one. Existing values
-- are encrypted only if they have that exact shape (base64 of at least
-- 12 + 16 bytes); everything else was plaintext and gets the prefix.
UPDATE workspaces SET secret = 'plain:' || secret
 WHERE secret <> ''
   AND NOT (secret ~ '^enc:v1:[A-Za-z0-9+/]+={0,2}$' AND length(secret) >= 47 AND (length(secret) - 7) % 4 = 0);
UPDATE workspaces SET previous_secret = 'plain:' || previous_secret
 WHERE previous_secret <> ''
   AND NOT (previous_secret ~ '^enc:v1:[A-Za-z0-9+/]+={0,2}$' AND length(previous_secret) >= 47 AND (length(previous_secret) - 7) % 4 = 0);

-- +goose Down
UPDATE workspaces SET secret = substr(secret, 7) WHERE secret LIKE 'plain:%';
UPDATE workspaces SET previous_secret = substr(previous_secret, 7) WHERE previous_secret LIKE 'plain:%';
