-- +goose Up
-- The journey engine (issue 21): instances are placed by step id (steps
-- nest in branch and waitFor), waits and timeouts are durable timers of
-- kind "journey" (internal/timers), and wake_at is no longer written.
ALTER TABLE journey_instances ADD COLUMN step_id TEXT NOT NULL DEFAULT '';
-- The triggering event's values of the properties named in the journey's
-- match lists (JSON), so reentry "always" keeps one running instance per
-- user and values.
ALTER TABLE journey_instances ADD COLUMN match_key TEXT NOT NULL DEFAULT '';
-- Set when a timer came due while the journey was disabled: the instance
-- holds, and enabling the journey schedules the timer again at this time.
ALTER TABLE journey_instances ADD COLUMN held_due TIMESTAMPTZ;
ALTER TABLE journey_instances ADD COLUMN held_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX journey_instances_running ON journey_instances (workspace_id, journey_key, user_id, match_key) WHERE status = 'active';
CREATE INDEX journey_instances_step ON journey_instances (workspace_id, journey_key, step_id) WHERE status = 'active';
CREATE INDEX journey_instances_held ON journey_instances (workspace_id, journey_key) WHERE held_due IS NOT NULL;
-- Each step an instance went past (for the per-step counts): one row per
-- (instance, step), so a redo counts once.
CREATE TABLE journey_passes (
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    journey_key  TEXT NOT NULL,
    instance_id  BIGINT NOT NULL,
    step_id      TEXT NOT NULL,
    PRIMARY KEY (instance_id, step_id)
);
CREATE INDEX journey_passes_steps ON journey_passes (workspace_id, journey_key, step_id);
-- A broadcast's progress through its audience's members (keyset by
-- profile_key): a restart resumes after the last batch; done once.
CREATE TABLE journey_broadcasts (
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    journey_key  TEXT NOT NULL,
    after_key    TEXT NOT NULL DEFAULT '',
    entered      BIGINT NOT NULL DEFAULT 0,
    done         BOOLEAN NOT NULL DEFAULT FALSE,
    started_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, journey_key)
);
-- Webhook steps: the intent (queued with the step), its attempts and the
-- outcome; a timer of kind "journey_webhook" drives each attempt.
CREATE TABLE journey_webhooks (
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    send_key     TEXT NOT NULL,           -- journey.instance.step: also the webhook-id's seed
    instance_id  BIGINT NOT NULL,
    journey_key  TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    destination  TEXT NOT NULL,           -- the destination's name
    body         TEXT NOT NULL,
    status       TEXT NOT NULL,           -- queued, sent, failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    reply        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, send_key)
);
CREATE INDEX journey_webhooks_user ON journey_webhooks (workspace_id, user_id);

-- +goose Down
DROP TABLE journey_webhooks;
DROP TABLE journey_broadcasts;
DROP TABLE journey_passes;
DROP INDEX journey_instances_held;
DROP INDEX journey_instances_step;
DROP INDEX journey_instances_running;
ALTER TABLE journey_instances DROP COLUMN held_key;
ALTER TABLE journey_instances DROP COLUMN held_due;
ALTER TABLE journey_instances DROP COLUMN match_key;
ALTER TABLE journey_instances DROP COLUMN step_id;
