-- +goose Up
-- Dedupe per source (security review item 7): an event from one source (the
-- webhook, or one write key) may never suppress an event from another, so a
-- holder of a public browser write key cannot claim a messageId first and
-- block the genuine webhook event. Retries within one source still dedupe.
-- message_id comes second so lookups by (workspace, message id) keep using
-- this index. Existing rows are unique on (workspace_id, message_id), hence
-- on this wider key too: the new constraint is built before the old one is
-- dropped and no row has to change.
ALTER TABLE events ADD CONSTRAINT events_workspace_message_source UNIQUE (workspace_id, message_id, source, source_key);
ALTER TABLE events DROP CONSTRAINT events_workspace_message;

-- +goose Down
-- Going back keeps the first stored copy of each message id.
DELETE FROM events e USING events f
 WHERE e.workspace_id = f.workspace_id AND e.message_id = f.message_id AND e.id > f.id;
ALTER TABLE events ADD CONSTRAINT events_workspace_message UNIQUE (workspace_id, message_id);
ALTER TABLE events DROP CONSTRAINT events_workspace_message_source;
