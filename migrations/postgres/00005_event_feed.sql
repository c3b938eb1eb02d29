-- +goose Up
-- The transaction that inserted each event, so readers that follow the events
-- (profiles, destinations, the live view) can read in commit-safe order: an id
-- is handed out at insert, not at commit, so a lower id may become visible
-- after a higher one. Readers only read rows whose transaction is older than
-- every transaction still running (pg_snapshot_xmin), in (tx_id, id) order.
-- A stable default: existing rows all get this migration's id, no rewrite.
ALTER TABLE events ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_ws_feed ON events (workspace_id, tx_id, id);

-- +goose Down
DROP INDEX events_ws_feed;
ALTER TABLE events DROP COLUMN tx_id;
