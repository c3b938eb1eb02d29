-- +goose Up
-- One index per dashboard filter, each ending in the page order so a filtered
-- page is an index range read that stops after 51 rows, however many match.
CREATE INDEX events_ws_type_received ON events (workspace_id, type, received_at DESC, id DESC);
CREATE INDEX events_ws_event_received ON events (workspace_id, event, received_at DESC, id DESC);
CREATE INDEX events_ws_user_received ON events (workspace_id, user_id, received_at DESC, id DESC);
CREATE INDEX events_ws_anon_received ON events (workspace_id, anonymous_id, received_at DESC, id DESC);

-- See the PostgreSQL migration for why there is no foreign key. Times are
-- text in the store's fixed UTC layout, so text order is time order.
CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    at           DATETIME NOT NULL,
    source       TEXT NOT NULL DEFAULT 'webhook',
    outcome      TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    status       INTEGER NOT NULL,
    accepted     INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX delivery_attempts_ws_at ON delivery_attempts (workspace_id, at DESC, id DESC);

CREATE TABLE delivery_minutes (
    workspace_id TEXT NOT NULL,
    minute       DATETIME NOT NULL,
    outcome      TEXT NOT NULL,
    requests     INTEGER NOT NULL DEFAULT 0,
    accepted     INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, minute, outcome)
);
CREATE INDEX delivery_minutes_minute ON delivery_minutes (minute);

-- +goose Down
DROP TABLE delivery_minutes;
DROP TABLE delivery_attempts;
DROP INDEX events_ws_anon_received;
DROP INDEX events_ws_user_received;
DROP INDEX events_ws_event_received;
DROP INDEX events_ws_type_received;
