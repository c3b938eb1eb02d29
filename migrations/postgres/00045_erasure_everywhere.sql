-- +goose Up
-- Issue 17: who asked for an erasure now includes where it came from (api,
-- dashboard, cli, segment: a Segment deletion request); a workspace can turn
-- off treating Segment's "delete" calls as erasures; a destination can opt
-- in to a signed erasure notice; the connection status counts events of
-- erased (suppressed) ids apart from duplicates (issue 19 item 15).
ALTER TABLE erasures ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN segment_deletes BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE destinations ADD COLUMN erasure_notice BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE delivery_attempts ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE delivery_minutes ADD COLUMN suppressed BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE delivery_minutes DROP COLUMN suppressed;
ALTER TABLE delivery_attempts DROP COLUMN suppressed;
ALTER TABLE destinations DROP COLUMN erasure_notice;
ALTER TABLE workspaces DROP COLUMN segment_deletes;
ALTER TABLE erasures DROP COLUMN source;
