-- +goose Up
-- Identity you can trust (issue 17 item 1). Write keys live in browsers and
-- apps, so an alias sent with one must not merge two known users: every
-- write key gets a kind, client (public: browser, mobile) or server (a
-- secret kept on a server); the keys that exist become client.
ALTER TABLE write_keys ADD COLUMN kind TEXT NOT NULL DEFAULT 'client';
ALTER TABLE write_keys ADD CONSTRAINT write_keys_kind CHECK (kind IN ('client', 'server'));

-- Whether the event came from a trusted source (the signed webhook, or a
-- server write key), fixed when it is stored, so a rebuild decides as the
-- first application did even after a key's kind changes. Added with TRUE so
-- PostgreSQL does not rewrite the table; only Tracking API rows (sent with
-- what are now client keys) are rewritten to FALSE.
ALTER TABLE events ADD COLUMN trusted BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE events SET trusted = FALSE WHERE source <> 'webhook';
ALTER TABLE events ALTER COLUMN trusted SET DEFAULT FALSE;

-- seen: some event carried the id in its own role (a userId as userId, an
-- anonymous id as anonymousId); rows an alias's previousId creates are not
-- seen until an event carries them. Merge decisions and the lists the API
-- shows read it.
ALTER TABLE profile_identities ADD COLUMN seen BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per distinct alias call and its trust: the same messageId sent
-- through a client key and through the webhook is two calls, and a copy
-- from a public key must never decide what the signed one says.
DROP TABLE profile_aliases;
CREATE TABLE profile_aliases (
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL,
    previous_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    trusted      BOOLEAN NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, message_id, previous_id, user_id, trusted)
);
CREATE INDEX profile_aliases_previous ON profile_aliases (workspace_id, previous_id);
CREATE INDEX profile_aliases_user ON profile_aliases (workspace_id, user_id);

-- Alias calls that did not merge, and why: untrusted (two users with events
-- of their own, asked by a client key) or max_user_ids (the merged profile
-- would hold more than PROFILE_MAX_USER_IDS userIds). Derived like the rest
-- of the profile tables: recomputed with the alias's component, rebuilt
-- from the events.
CREATE TABLE profile_merge_refusals (
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL,
    previous_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    trusted      BOOLEAN NOT NULL,
    reason       TEXT NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, message_id, previous_id, user_id, trusted)
);
CREATE INDEX profile_merge_refusals_previous ON profile_merge_refusals (workspace_id, previous_id);
CREATE INDEX profile_merge_refusals_user ON profile_merge_refusals (workspace_id, user_id);
CREATE INDEX profile_merge_refusals_ts ON profile_merge_refusals (workspace_id, ts DESC, message_id);

-- Profiles made under the old rules (every alias merged) are rebuilt from
-- the events by the follower, which starts again from the beginning of each
-- workspace's feed.
DELETE FROM profiles;
DELETE FROM profile_identities;
DELETE FROM profile_links;
DELETE FROM profile_trait_values;
DELETE FROM profile_groups;
DELETE FROM profile_refused_ids;
UPDATE profile_cursors SET tx = 0, id = 0;

-- +goose Down
DROP TABLE profile_merge_refusals;
DROP TABLE profile_aliases;
CREATE TABLE profile_aliases (
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL,
    previous_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, message_id)
);
CREATE INDEX profile_aliases_previous ON profile_aliases (workspace_id, previous_id);
CREATE INDEX profile_aliases_user ON profile_aliases (workspace_id, user_id);
ALTER TABLE profile_identities DROP COLUMN seen;
ALTER TABLE events DROP COLUMN trusted;
ALTER TABLE write_keys DROP CONSTRAINT write_keys_kind;
ALTER TABLE write_keys DROP COLUMN kind;
DELETE FROM profiles;
DELETE FROM profile_identities;
DELETE FROM profile_links;
DELETE FROM profile_trait_values;
DELETE FROM profile_groups;
DELETE FROM profile_refused_ids;
UPDATE profile_cursors SET tx = 0, id = 0;
