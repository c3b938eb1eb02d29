-- +goose Up
-- The event that changed a profile (its traits, its identities) travels
-- with the profile follower's mark, so that the audience transitions it
-- causes name that event in their history instead of a bare "profile".
ALTER TABLE audience_dirty ADD COLUMN message_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audience_dirty DROP COLUMN message_id;
