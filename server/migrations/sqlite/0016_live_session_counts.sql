-- Each user's live sessions, kept as counts on the user (app and web), so that the list's
-- sessions order, its Online filter and chip counts and the session summary read the
-- users, not every session, at 100,000 users.
--
-- A session counts while `counted = 1 AND revoked_at IS NULL`. The triggers below change
-- the counts in the very statement that inserts, revokes or deletes a session, whichever
-- statement it is. A session whose time runs out (`expires_at`) is not touched by any
-- statement when it happens: the store sets its `counted` to 0 before it reads the counts
-- (`Store::settle_expired`, which finds such sessions through the index below), so the
-- counts are exact at the moment of the read.
ALTER TABLE sessions ADD COLUMN counted BIGINT NOT NULL DEFAULT 1;
UPDATE sessions SET counted = 0 WHERE revoked_at IS NOT NULL;
ALTER TABLE users ADD COLUMN live_app_sessions BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN live_web_sessions BIGINT NOT NULL DEFAULT 0;
UPDATE users SET
    live_app_sessions = (SELECT COUNT(*) FROM sessions s WHERE s.user_id = users.id
        AND s.client = 'app' AND s.counted = 1 AND s.revoked_at IS NULL),
    live_web_sessions = (SELECT COUNT(*) FROM sessions s WHERE s.user_id = users.id
        AND s.client = 'web' AND s.counted = 1 AND s.revoked_at IS NULL);
-- The sessions still counted whose time may have run out, by when it does.
CREATE INDEX sessions_counted_by_expiry ON sessions (expires_at) WHERE counted = 1;
-- The sessions order (most live sessions first, then by name) pages through this index.
CREATE INDEX users_by_live_sessions
    ON users ((live_app_sessions + live_web_sessions) DESC, sort_key, username);

CREATE TRIGGER sessions_counted_on_insert AFTER INSERT ON sessions
WHEN NEW.counted = 1 AND NEW.revoked_at IS NULL
BEGIN
    UPDATE users SET
        live_app_sessions = live_app_sessions + (NEW.client = 'app'),
        live_web_sessions = live_web_sessions + (NEW.client = 'web')
    WHERE id = NEW.user_id;
END;

CREATE TRIGGER sessions_counted_on_update AFTER UPDATE OF revoked_at, counted ON sessions
WHEN (OLD.counted = 1 AND OLD.revoked_at IS NULL) <> (NEW.counted = 1 AND NEW.revoked_at IS NULL)
BEGIN
    UPDATE users SET
        live_app_sessions = live_app_sessions + (NEW.client = 'app')
            * ((NEW.counted = 1 AND NEW.revoked_at IS NULL) - (OLD.counted = 1 AND OLD.revoked_at IS NULL)),
        live_web_sessions = live_web_sessions + (NEW.client = 'web')
            * ((NEW.counted = 1 AND NEW.revoked_at IS NULL) - (OLD.counted = 1 AND OLD.revoked_at IS NULL))
    WHERE id = NEW.user_id;
END;

CREATE TRIGGER sessions_counted_on_delete AFTER DELETE ON sessions
WHEN OLD.counted = 1 AND OLD.revoked_at IS NULL
BEGIN
    UPDATE users SET
        live_app_sessions = live_app_sessions - (OLD.client = 'app'),
        live_web_sessions = live_web_sessions - (OLD.client = 'web')
    WHERE id = OLD.user_id;
END;
