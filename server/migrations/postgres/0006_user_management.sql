-- Users managed from the app: an optional email address. An account without a password
-- (signing in only through the organisation's identity provider) has an empty hash.
ALTER TABLE users ADD COLUMN email TEXT;
