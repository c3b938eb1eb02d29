-- +goose Up
-- SMTP settings of a workspace (issue 21). Unset fields fall back to
-- SMTP_URL / EMAIL_FROM; the password is sealed like the shared secrets
-- (enc:v1:… with ENCRYPTION_KEY, plain:… without) and never shown again.
CREATE TABLE email_settings (
    workspace_id  TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    host          TEXT NOT NULL DEFAULT '',
    port          INTEGER NOT NULL DEFAULT 0,
    username      TEXT NOT NULL DEFAULT '',
    password      TEXT NOT NULL DEFAULT '',
    tls_mode      TEXT NOT NULL DEFAULT '',
    from_name     TEXT NOT NULL DEFAULT '',
    from_address  TEXT NOT NULL DEFAULT '',
    reply_to      TEXT NOT NULL DEFAULT '',
    frequency_cap TEXT NOT NULL DEFAULT '',
    updated_at    DATETIME NOT NULL,
    updated_by    TEXT NOT NULL DEFAULT ''
);

-- Liquid templates, by key within a workspace.
CREATE TABLE email_templates (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    subject       TEXT NOT NULL,
    html          TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL DEFAULT '',
    transactional BOOLEAN NOT NULL DEFAULT 0,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

-- Subscription groups: opt-out by default (members are subscribed until
-- they unsubscribe); opt_in groups send only to who subscribed.
CREATE TABLE subscription_groups (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    opt_in       BOOLEAN NOT NULL DEFAULT 0,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

-- A user's explicit choice per group (no row: the group's default). Kept
-- when a group is deleted and made again, like a list's unsubscribes.
CREATE TABLE subscriptions (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    group_key    TEXT NOT NULL,
    subscribed   BOOLEAN NOT NULL,
    changed_at   DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, user_id, group_key)
);

-- +goose Down
DROP TABLE subscriptions;
DROP TABLE subscription_groups;
DROP TABLE email_templates;
DROP TABLE email_settings;
