-- Set when a window moved to another start after its users were warned: it stays announced
-- (GET /notices, a new notice stream) at its new time, in the "moved" words, although the
-- move planned its warnings again (so none of them may be done yet).
ALTER TABLE maintenance_windows ADD COLUMN moved_after_warning BIGINT NOT NULL DEFAULT 0;
