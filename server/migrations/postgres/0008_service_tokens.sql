-- Service tokens: named, scoped bearer tokens for scripts and provisioning. Only the
-- SHA-256 of a token is stored. `scopes` is a comma-separated list ("read,force_logout").
-- A name is unique among tokens not revoked.
CREATE TABLE service_tokens (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    name               TEXT COLLATE "C" NOT NULL,
    token_hash         TEXT COLLATE "C" NOT NULL UNIQUE,
    scopes             TEXT COLLATE "C" NOT NULL,
    created_at         BIGINT  NOT NULL,
    created_by         TEXT COLLATE "C" NOT NULL,
    expires_at         BIGINT,
    last_used_at       BIGINT,
    last_used_address  TEXT COLLATE "C",
    revoked_at         BIGINT
);
CREATE UNIQUE INDEX service_tokens_live_name ON service_tokens (name) WHERE revoked_at IS NULL;
-- Who acted: NULL for a person, 'service_token' for a token (actor_id is then its id).
ALTER TABLE audit ADD COLUMN actor_kind TEXT COLLATE "C";
