-- Maintenance entries say which window they concern.
ALTER TABLE audit ADD COLUMN window_id TEXT;
