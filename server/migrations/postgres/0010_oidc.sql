-- Sign-in through the organisation's identity provider (OpenID Connect).
-- Who a provider says a user is: (provider, subject) is one Curfew user.
CREATE TABLE user_identities (
    provider    TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    linked_at   BIGINT  NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_by_user ON user_identities (user_id);
-- A sign-in started and not yet back from the provider: used once, within minutes. The
-- state's hash is the key; `browser_hash` binds it to the browser that started it (its
-- cookie), so a callback link sent to someone else signs nobody in.
CREATE TABLE oidc_logins (
    state_hash     TEXT    PRIMARY KEY,
    browser_hash   TEXT    NOT NULL,
    provider       TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    pkce_verifier  TEXT    NOT NULL,
    return_to      TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX oidc_logins_by_age ON oidc_logins (created_at);
-- Which provider session a Curfew session came from, for back-channel logout.
ALTER TABLE sessions ADD COLUMN idp_provider TEXT;
ALTER TABLE sessions ADD COLUMN idp_subject TEXT;
ALTER TABLE sessions ADD COLUMN idp_sid TEXT;
CREATE INDEX sessions_by_idp_sid ON sessions (idp_provider, idp_sid);
CREATE INDEX sessions_by_idp_subject ON sessions (idp_provider, idp_subject);
