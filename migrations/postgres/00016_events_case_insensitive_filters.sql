-- +goose NO TRANSACTION
-- +goose Up
-- The events page matches event names and user ids case-insensitively
-- ("order completed" finds "Order Completed"). Each filter gets an index on
-- lower(column) ending in the page order, so a filtered page is still a
-- range read that stops after 51 rows. CONCURRENTLY: a big events table keeps
-- taking writes while they build. The exact event-name index served only
-- that filter and goes; the exact user/anonymous indexes stay for lookups
-- by id.
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_ws_event_ci ON events (workspace_id, lower(event), received_at DESC, id DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_ws_user_ci ON events (workspace_id, lower(user_id), received_at DESC, id DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_ws_anon_ci ON events (workspace_id, lower(anonymous_id), received_at DESC, id DESC);
DROP INDEX CONCURRENTLY IF EXISTS events_ws_event_received;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_ws_event_received ON events (workspace_id, event, received_at DESC, id DESC);
DROP INDEX CONCURRENTLY IF EXISTS events_ws_anon_ci;
DROP INDEX CONCURRENTLY IF EXISTS events_ws_user_ci;
DROP INDEX CONCURRENTLY IF EXISTS events_ws_event_ci;
