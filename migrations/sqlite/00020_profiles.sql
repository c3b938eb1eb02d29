-- +goose Up
-- Profiles are derived from the events by internal/profiles and can always be
-- rebuilt from them (`inlet profiles rebuild`); nothing here is the only copy
-- of anything except the API tokens, erasure records and suppressions.

-- Where the profile follower is in each workspace's event feed. The row is
-- locked FOR UPDATE while a batch is applied, so two instances never apply
-- the same batch; every profile write happens under that lock.
CREATE TABLE profile_cursors (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    tx           BIGINT NOT NULL DEFAULT 0,
    id           BIGINT NOT NULL DEFAULT 0,
    updated_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- One row per person: profile_key is "u:<canonical userId>" or, for a
-- profile with only anonymous ids, "a:<anonymousId>". doc holds traits (each
-- with the timestamp and messageId that set it), groups, counts and names.
CREATE TABLE profiles (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    profile_key  TEXT NOT NULL,
    user_id      TEXT NOT NULL DEFAULT '',
    anonymous_id TEXT NOT NULL DEFAULT '',
    first_seen   DATETIME NOT NULL,
    last_seen    DATETIME NOT NULL,
    event_count  BIGINT NOT NULL DEFAULT 0,
    doc          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, profile_key)
);
CREATE INDEX profiles_ws_last_seen ON profiles (workspace_id, last_seen DESC, profile_key);

-- Every identity (kind user or anon) and the profile it belongs to, with why:
-- own, link (the first event carrying both ids), alias, capped (the profile
-- already holds the most anonymous ids allowed). candidate is the profile it
-- would join without the cap; owner_user the userId that claimed an anonymous id.
CREATE TABLE profile_identities (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    profile_key  TEXT NOT NULL,
    candidate    TEXT NOT NULL DEFAULT '',
    owner_user   TEXT NOT NULL DEFAULT '',
    via          TEXT NOT NULL,
    via_ts       DATETIME,
    via_message  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, kind, value)
);
CREATE INDEX profile_identities_profile ON profile_identities (workspace_id, profile_key);
CREATE INDEX profile_identities_owner ON profile_identities (workspace_id, owner_user) WHERE owner_user <> '';
CREATE INDEX profile_identities_candidate ON profile_identities (workspace_id, candidate) WHERE candidate <> '';

-- The earliest event linking each (anonymousId, userId) pair. An anonymous id
-- belongs to the userId of its earliest link overall, so a shared device does
-- not fuse two customers, whatever order the events arrive in.
CREATE TABLE profile_links (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    anonymous_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    ts           DATETIME NOT NULL,
    message_id   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, anonymous_id, user_id)
);
CREATE INDEX profile_links_user ON profile_links (workspace_id, user_id);

-- Every alias call: previous_id's profile merges into user_id's.
CREATE TABLE profile_aliases (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL,
    previous_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    ts           DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, message_id)
);
CREATE INDEX profile_aliases_previous ON profile_aliases (workspace_id, previous_id);
CREATE INDEX profile_aliases_user ON profile_aliases (workspace_id, user_id);

-- Scalar trait values (strings up to 256 characters, numbers, booleans) for
-- finding profiles by a trait, e.g. ?trait.email=.
CREATE TABLE profile_trait_values (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    profile_key  TEXT NOT NULL,
    PRIMARY KEY (workspace_id, key, value, profile_key)
);
CREATE INDEX profile_trait_values_profile ON profile_trait_values (workspace_id, profile_key);

-- Group traits, per group, merged by the same latest-timestamp rule.
CREATE TABLE profile_groups (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    group_id     TEXT NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, group_id)
);

-- Ids refused as identities ("undefined", "null", "0", too long, …) and how
-- many events carried each, so an admin can see what a source sends wrong.
CREATE TABLE profile_refused_ids (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    events       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, kind, value)
);

-- Read API tokens: only the SHA-256 of each token is kept.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    scope        TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME,
    CONSTRAINT api_tokens_token_hash UNIQUE (token_hash)
);
CREATE INDEX api_tokens_ws_created ON api_tokens (workspace_id, created_at DESC);

-- Who asked for which erasure and when; never the erased ids or data.
CREATE TABLE erasures (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    requested_by   TEXT NOT NULL,
    requested_at   DATETIME NOT NULL,
    finished_at    DATETIME,
    identities     INTEGER NOT NULL DEFAULT 0,
    events_deleted BIGINT NOT NULL DEFAULT 0,
    suppressed     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX erasures_ws_requested ON erasures (workspace_id, requested_at DESC);

-- Suppressed identities, as SHA-256 of (kind, id) so the list does not keep
-- the erased ids in the clear. Events carrying one are acknowledged and dropped.
CREATE TABLE suppressions (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id_hash      TEXT NOT NULL,
    erasure_id   TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, id_hash)
);
CREATE INDEX suppressions_erasure ON suppressions (erasure_id);

-- Group traits are recomputed after an erasure from the group's remaining
-- calls; only group calls carry a group_id, so this index stays small.
CREATE INDEX events_ws_group ON events (workspace_id, group_id) WHERE group_id <> '';

-- +goose Down
DROP INDEX events_ws_group;
DROP TABLE suppressions;
DROP TABLE erasures;
DROP TABLE api_tokens;
DROP TABLE profile_refused_ids;
DROP TABLE profile_groups;
DROP TABLE profile_trait_values;
DROP TABLE profile_aliases;
DROP TABLE profile_links;
DROP TABLE profile_identities;
DROP TABLE profiles;
DROP TABLE profile_cursors;
