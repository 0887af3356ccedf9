-- The same schema as migrations/sqlite, statement for statement. The differences:
-- - text compares byte by byte (COLLATE "C"), as in SQLite: the users list has the same
--   order on both databases, and ids compare (and de-duplicate) fast;
-- - storage settings, explained where they are.
-- Ids are UUID text, times are Unix milliseconds (BIGINT), enums are checked text.

CREATE TABLE users (
    id             TEXT COLLATE "C" PRIMARY KEY,
    username       TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name   TEXT COLLATE "C" NOT NULL,
    -- lower-cased "username display name", for case-insensitive search on every database
    search_key     TEXT COLLATE "C" NOT NULL,
    -- lower-cased display name: the list's order, the same on every database
    sort_key       TEXT COLLATE "C" NOT NULL,
    role           TEXT COLLATE "C" NOT NULL CHECK (role IN ('admin', 'support', 'member')),
    status         TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'deactivated')),
    password_hash  TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT  NOT NULL,
    last_seen_at   BIGINT
);
CREATE INDEX users_by_sort_key ON users (sort_key, username);

CREATE TABLE sessions (
    id              TEXT COLLATE "C" PRIMARY KEY,
    -- SHA-256 of the bearer token, hex; the token itself is never stored
    token_hash      TEXT COLLATE "C" NOT NULL UNIQUE,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    client          TEXT COLLATE "C" NOT NULL CHECK (client IN ('app', 'web')),
    created_at      BIGINT  NOT NULL,
    last_seen_at    BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    revoked_at      BIGINT,
    revoked_reason  TEXT COLLATE "C",
    -- groups the sessions one forced logout revoked, to count them in the same transaction
    revocation_id   BIGINT
)
-- Room on every page for a second version of every row, so that revoking sessions (no
-- indexed column changes) is a HOT update even when one statement revokes them all: a
-- logout-all of 100k sessions then writes 100k WAL records instead of 350k (index entries
-- for each row) and takes about 190 ms instead of 1.2 s.
WITH (fillfactor = 45);
-- Deliberately not a partial index on live sessions: a logout-all would then have to
-- delete every entry from it, which costs more than the update itself.
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE audit (
    id                TEXT COLLATE "C" PRIMARY KEY,
    at                BIGINT  NOT NULL,
    actor_id          TEXT COLLATE "C" NOT NULL,
    actor_username    TEXT COLLATE "C" NOT NULL,
    action            TEXT COLLATE "C" NOT NULL,
    target_user_id    TEXT COLLATE "C",
    target_username   TEXT COLLATE "C",
    sessions_revoked  BIGINT  NOT NULL,
    users_affected    BIGINT  NOT NULL,
    keep_admins       BIGINT
);
CREATE INDEX audit_newest_first ON audit (at, id);
