-- The same counts as migrations/sqlite/0016 (read it for why and what they keep). Here the
-- triggers run once per statement over its changed rows (transition tables), so a
-- logout-all of 100,000 sessions changes each user's counts once, in one set-based UPDATE,
-- instead of running a function per session.
ALTER TABLE sessions ADD COLUMN counted BIGINT NOT NULL DEFAULT 1;
UPDATE sessions SET counted = 0 WHERE revoked_at IS NOT NULL;
ALTER TABLE users ADD COLUMN live_app_sessions BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN live_web_sessions BIGINT NOT NULL DEFAULT 0;
UPDATE users SET
    live_app_sessions = (SELECT COUNT(*) FROM sessions s WHERE s.user_id = users.id
        AND s.client = 'app' AND s.counted = 1 AND s.revoked_at IS NULL),
    live_web_sessions = (SELECT COUNT(*) FROM sessions s WHERE s.user_id = users.id
        AND s.client = 'web' AND s.counted = 1 AND s.revoked_at IS NULL);
CREATE INDEX sessions_counted_by_expiry ON sessions (expires_at) WHERE counted = 1;
CREATE INDEX users_by_live_sessions
    ON users ((live_app_sessions + live_web_sessions) DESC, sort_key, username);

-- Each function adds to each user's counts what one statement changed: (user, client,
-- +1 or -1) per session whose counting changed, summed per user.
CREATE FUNCTION sessions_counted_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users u SET live_app_sessions = u.live_app_sessions + d.app,
                       live_web_sessions = u.live_web_sessions + d.web
    FROM (SELECT user_id, SUM(CASE WHEN client = 'app' THEN 1 ELSE 0 END) AS app,
                 SUM(CASE WHEN client = 'web' THEN 1 ELSE 0 END) AS web
          FROM new_sessions WHERE counted = 1 AND revoked_at IS NULL GROUP BY user_id) d
    WHERE u.id = d.user_id;
    RETURN NULL;
END $$;

CREATE FUNCTION sessions_counted_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The old and the new rows are the same sessions: what counts now less what counted
    -- before, per user (no join of the two tables, which carry no statistics).
    UPDATE users u SET live_app_sessions = u.live_app_sessions + d.app,
                       live_web_sessions = u.live_web_sessions + d.web
    FROM (SELECT user_id, SUM(CASE WHEN client = 'app' THEN n ELSE 0 END) AS app,
                 SUM(CASE WHEN client = 'web' THEN n ELSE 0 END) AS web
          FROM (SELECT user_id, client, 1 AS n FROM new_sessions
                WHERE counted = 1 AND revoked_at IS NULL
                UNION ALL
                SELECT user_id, client, -1 AS n FROM old_sessions
                WHERE counted = 1 AND revoked_at IS NULL) changed
          GROUP BY user_id
          HAVING SUM(CASE WHEN client = 'app' THEN n ELSE 0 END) <> 0
              OR SUM(CASE WHEN client = 'web' THEN n ELSE 0 END) <> 0) d
    WHERE u.id = d.user_id;
    RETURN NULL;
END $$;

CREATE FUNCTION sessions_counted_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users u SET live_app_sessions = u.live_app_sessions - d.app,
                       live_web_sessions = u.live_web_sessions - d.web
    FROM (SELECT user_id, SUM(CASE WHEN client = 'app' THEN 1 ELSE 0 END) AS app,
                 SUM(CASE WHEN client = 'web' THEN 1 ELSE 0 END) AS web
          FROM old_sessions WHERE counted = 1 AND revoked_at IS NULL GROUP BY user_id) d
    WHERE u.id = d.user_id;
    RETURN NULL;
END $$;

CREATE TRIGGER sessions_counted_on_insert AFTER INSERT ON sessions
    REFERENCING NEW TABLE AS new_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_counted_on_insert();
CREATE TRIGGER sessions_counted_on_update AFTER UPDATE ON sessions
    REFERENCING OLD TABLE AS old_sessions NEW TABLE AS new_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_counted_on_update();
CREATE TRIGGER sessions_counted_on_delete AFTER DELETE ON sessions
    REFERENCING OLD TABLE AS old_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_counted_on_delete();
