-- +goose Up
-- See the PostgreSQL migration. SQLite's lower() folds ASCII only; the query
-- applies the same lower() to the filter value, so both sides fold alike.
CREATE INDEX events_ws_event_ci ON events (workspace_id, lower(event), received_at DESC, id DESC);
CREATE INDEX events_ws_user_ci ON events (workspace_id, lower(user_id), received_at DESC, id DESC);
CREATE INDEX events_ws_anon_ci ON events (workspace_id, lower(anonymous_id), received_at DESC, id DESC);
DROP INDEX events_ws_event_received;

-- +goose Down
CREATE INDEX events_ws_event_received ON events (workspace_id, event, received_at DESC, id DESC);
DROP INDEX events_ws_anon_ci;
DROP INDEX events_ws_user_ci;
DROP INDEX events_ws_event_ci;
