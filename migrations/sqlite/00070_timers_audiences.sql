-- +goose Up
-- Durable timers (internal/timers): one row per (kind, workspace, key), due
-- at due_at. A worker claims due rows (one writer at a time on SQLite; then
-- claimed_until marks them taken for a while) and deletes a row once its
-- handler is done, unless the handler moved it to a new due_at meanwhile.
-- Audiences use them for window edges; journeys will for waits.
CREATE TABLE timers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    due_at        DATETIME NOT NULL,
    claimed_until DATETIME,
    attempts      INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT timers_kind_key UNIQUE (kind, workspace_id, key)
);
CREATE INDEX timers_due ON timers (due_at);

-- Audience definitions. version is the newest definition; current_version
-- the one memberships are answered from (0 before the first build ends).
-- While they differ the newest is being built: build_after is how far
-- through the profiles (by profile_key) the build has come.
CREATE TABLE audiences (
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    name            TEXT NOT NULL,
    definition      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    current_version INTEGER NOT NULL DEFAULT 0,
    current_def     TEXT NOT NULL DEFAULT '',
    build_after     TEXT,
    build_done      BIGINT NOT NULL DEFAULT 0,
    build_total     BIGINT NOT NULL DEFAULT 0,
    leaves_ready    BOOLEAN NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

-- Where the audience follower is in each workspace's feed (never past the
-- profile follower's cursor). Locked FOR UPDATE by every audience write.
CREATE TABLE audience_cursors (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    tx           BIGINT NOT NULL DEFAULT 0,
    id           BIGINT NOT NULL DEFAULT 0,
    updated_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- What one identity's events say about one performed leaf (by content
-- hash): a count and the newest timestamps (JSON), see audiences.LeafState.
CREATE TABLE audience_leaf_states (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    leaf_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    state        TEXT NOT NULL,
    PRIMARY KEY (workspace_id, leaf_id, kind, value)
);
CREATE INDEX audience_leaf_states_identity ON audience_leaf_states (workspace_id, kind, value);

-- Leaves whose states were filled from the stored events.
CREATE TABLE audience_leaves (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    leaf_id      TEXT NOT NULL,
    PRIMARY KEY (workspace_id, leaf_id)
);

-- One row per (audience version, profile) ever evaluated as a member:
-- member now or not, since when, and how many transitions it has had (the
-- transition number in the emitted messageId).
CREATE TABLE audience_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    audience_key TEXT NOT NULL,
    version      INTEGER NOT NULL,
    profile_key  TEXT NOT NULL,
    member       BOOLEAN NOT NULL,
    since        DATETIME NOT NULL,
    seq          INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, audience_key, version, profile_key)
);
CREATE INDEX audience_members_profile ON audience_members (workspace_id, profile_key);

-- Every transition: entered or exited, when, and why (the causing event's
-- messageId, "time" for a window's edge, "merged", "build").
CREATE TABLE audience_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    audience_key TEXT NOT NULL,
    version      INTEGER NOT NULL,
    profile_key  TEXT NOT NULL,
    user_id      TEXT NOT NULL DEFAULT '',
    entered      BOOLEAN NOT NULL,
    at           DATETIME NOT NULL,
    cause        TEXT NOT NULL
);
CREATE INDEX audience_history_audience ON audience_history (workspace_id, audience_key, id DESC);
CREATE INDEX audience_history_profile ON audience_history (workspace_id, profile_key);
CREATE INDEX audience_history_at ON audience_history (at);

-- Profiles the profile follower wrote or deleted, written in its batch's
-- transaction while the workspace has audiences: the audience engine
-- re-evaluates them (a merge or a re-link can change a profile that no
-- event of the batch names) and deletes the rows it took, by id.
CREATE TABLE audience_dirty (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    profile_key  TEXT NOT NULL
);
CREATE INDEX audience_dirty_ws ON audience_dirty (workspace_id, id);

-- +goose Down
DROP TABLE audience_dirty;
DROP TABLE audience_history;
DROP TABLE audience_members;
DROP TABLE audience_leaves;
DROP TABLE audience_leaf_states;
DROP TABLE audience_cursors;
DROP TABLE audiences;
DROP TABLE timers;
