-- +goose Up
CREATE TABLE admins (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL, -- stored lower-cased, so the unique key is case-blind
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT admins_email UNIQUE (email)
);

-- Sessions live here, not only in the cookie, so signing out (or a password
-- reset) really ends them: a copied old cookie finds no row.
CREATE TABLE admin_sessions (
    id           TEXT PRIMARY KEY, -- SHA-256 of the cookie's token, never the token itself
    admin_id     UUID NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    data         TEXT NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- +goose Down
DROP TABLE admin_sessions;
DROP TABLE admins;
