-- The same schema as migrations/sqlite, statement for statement; the differences are
-- PostgreSQL storage settings, each explained where it is.
-- Ids are UUID text, times are Unix milliseconds (BIGINT), enums are checked text.

CREATE TABLE users (
    id             TEXT    PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    -- lower-cased "username display name", for case-insensitive search on every database
    search_key     TEXT    NOT NULL,
    -- lower-cased display name: the list's order, the same on every database
    sort_key       TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('admin', 'support', 'member')),
    status         TEXT    NOT NULL CHECK (status IN ('active', 'deactivated')),
    password_hash  TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    last_seen_at   BIGINT
);
CREATE INDEX users_by_sort_key ON users (sort_key, username);

CREATE TABLE sessions (
    id              TEXT    PRIMARY KEY,
    -- SHA-256 of the bearer token, hex; the token itself is never stored
    token_hash      TEXT    NOT NULL UNIQUE,
    user_id         TEXT    NOT NULL REFERENCES users (id),
    client          TEXT    NOT NULL CHECK (client IN ('app', 'web')),
    created_at      BIGINT  NOT NULL,
    last_seen_at    BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    revoked_at      BIGINT,
    revoked_reason  TEXT,
    -- groups the sessions one forced logout revoked, to count them in the same transaction
    revocation_id   BIGINT
)
-- Room on every page so that revoking a session (no indexed column changes) is a HOT
-- update: a logout-all then rewrites rows in place instead of adding an entry to each of
-- the three indexes per session.
WITH (fillfactor = 70);
-- Deliberately not a partial index on live sessions: a logout-all would then have to
-- delete every entry from it, which costs more than the update itself.
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE audit (
    id                TEXT    PRIMARY KEY,
    at                BIGINT  NOT NULL,
    actor_id          TEXT    NOT NULL,
    actor_username    TEXT    NOT NULL,
    action            TEXT    NOT NULL,
    target_user_id    TEXT,
    target_username   TEXT,
    sessions_revoked  BIGINT  NOT NULL,
    users_affected    BIGINT  NOT NULL,
    keep_admins       BIGINT
);
CREATE INDEX audit_newest_first ON audit (at, id);
