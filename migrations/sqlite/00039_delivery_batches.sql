-- +goose Up
-- The key of every connection-status batch already added to
-- delivery_attempts / delivery_minutes. A flush whose COMMIT landed but was
-- reported as failed (a deadline passed) is retried with the same key and
-- then adds nothing, so a slow database never counts a delivery twice.
-- Keys are forgotten with the minutes they counted.
CREATE TABLE delivery_batches (
    batch_key TEXT PRIMARY KEY,
    saved_at  DATETIME NOT NULL
);
CREATE INDEX delivery_batches_saved_at ON delivery_batches (saved_at);

-- +goose Down
DROP TABLE delivery_batches;
