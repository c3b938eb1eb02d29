-- +goose Up
-- SQLite has one writer at a time, so commit order is id order; the feed
-- reads by id alone and needs no transaction column. This index serves the
-- same per-workspace feed reads as PostgreSQL's events_ws_feed.
CREATE INDEX events_ws_feed ON events (workspace_id, id);

-- +goose Down
DROP INDEX events_ws_feed;
