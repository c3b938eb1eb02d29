-- +goose Up
-- Security review item 1: an array signed only over element 0 (Segment's
-- Webhooks (Actions) destination with batching) is accepted only where the
-- workspace's admin turned it on, since anyone holding one signed event can
-- append events of their own to it. Off by default, also for existing
-- workspaces: a forged batch must not get in anywhere by default.
ALTER TABLE workspaces ADD COLUMN first_element_signatures BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE workspaces DROP COLUMN first_element_signatures;
