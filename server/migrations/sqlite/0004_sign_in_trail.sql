-- Sign-ins and failed sign-ins are audited: from where, by which client, and why a
-- failure failed.
ALTER TABLE audit ADD COLUMN address TEXT;
ALTER TABLE audit ADD COLUMN client TEXT;
ALTER TABLE audit ADD COLUMN reason TEXT;
