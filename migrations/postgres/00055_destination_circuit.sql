-- +goose Up
-- A destination's circuit (see internal/delivery/circuit.go): while its
-- receiver is down the worker probes with one event at a time instead of
-- spending each event's own retry schedule. The worker keeps the state in
-- memory; these columns let any instance's page show it and let an instance
-- that takes the lease over carry on probing.
ALTER TABLE destinations ADD COLUMN circuit_open_since TIMESTAMPTZ;
ALTER TABLE destinations ADD COLUMN circuit_next_probe TIMESTAMPTZ;
ALTER TABLE destinations ADD COLUMN circuit_probes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE destinations ADD COLUMN circuit_reason TEXT NOT NULL DEFAULT '';
-- A receiver's Retry-After for one event: draining the backlog after a
-- recovery never sends the event before it.
ALTER TABLE destination_retries ADD COLUMN not_before TIMESTAMPTZ;

-- +goose Down
ALTER TABLE destination_retries DROP COLUMN not_before;
ALTER TABLE destinations DROP COLUMN circuit_reason;
ALTER TABLE destinations DROP COLUMN circuit_probes;
ALTER TABLE destinations DROP COLUMN circuit_next_probe;
ALTER TABLE destinations DROP COLUMN circuit_open_since;
