-- +goose Up
-- Whether a destination receives the Audience Entered/Exited events that
-- audiences emit into the workspace's stream (source audiences). On by
-- default: they are events like any other; a receiver that only wants what
-- the apps sent turns them off on the destination's page.
ALTER TABLE destinations ADD COLUMN skip_audience_events BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE destinations DROP COLUMN skip_audience_events;
