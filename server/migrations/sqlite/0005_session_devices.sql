-- Every session records where it is: the address it signed in from and the last one it
-- was used from, its User-Agent, and the device name the organisation's app may send.
ALTER TABLE sessions ADD COLUMN address TEXT;
ALTER TABLE sessions ADD COLUMN last_address TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN device_name TEXT;
