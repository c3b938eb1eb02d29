-- +goose Up
-- See the PostgreSQL migration. SQLite has no regular expressions: GLOB
-- checks that everything after "enc:v1:" is base64 characters.
UPDATE workspaces SET secret = 'plain:' || secret
 WHERE secret <> ''
   AND NOT (substr(secret, 1, 7) = 'enc:v1:' AND substr(secret, 8) NOT GLOB '*[^A-Za-z0-9+/=]*'
            AND length(secret) >= 47 AND (length(secret) - 7) % 4 = 0);
UPDATE workspaces SET previous_secret = 'plain:' || previous_secret
 WHERE previous_secret <> ''
   AND NOT (substr(previous_secret, 1, 7) = 'enc:v1:' AND substr(previous_secret, 8) NOT GLOB '*[^A-Za-z0-9+/=]*'
            AND length(previous_secret) >= 47 AND (length(previous_secret) - 7) % 4 = 0);

-- +goose Down
UPDATE workspaces SET secret = substr(secret, 7) WHERE substr(secret, 1, 6) = 'plain:';
UPDATE workspaces SET previous_secret = substr(previous_secret, 7) WHERE substr(previous_secret, 1, 6) = 'plain:';
