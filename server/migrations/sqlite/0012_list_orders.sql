-- The users list sorted by last activity pages through this index (most recent first,
-- never active last, the username breaking ties), so a page deep in 100,000 users is a
-- short index range, not a sort of every user.
CREATE INDEX users_by_last_active ON users (COALESCE(last_seen_at, -1) DESC, username);
-- "Sign out sessions idle for more than N days" finds the live sessions last used before
-- a moment without reading the ended ones.
CREATE INDEX sessions_live_by_last_seen ON sessions (last_seen_at) WHERE revoked_at IS NULL;
-- A bulk deactivation marks the accounts it changed with its id, so that the same
-- transaction ends exactly their sessions and names them in its audit entry, whatever
-- the selection's filter says once they are changed.
ALTER TABLE users ADD COLUMN status_change BIGINT;
CREATE INDEX users_by_status_change ON users (status_change);
