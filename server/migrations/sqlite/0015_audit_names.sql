-- The users an entry on several users names (Logout selected, Deactivate selected, idle
-- sessions), at most limits::BULK_AUDIT_NAMES_MAX of them, first by username: the filter
-- by user finds the entry by any of them, and the entry lists them. Written in the
-- transaction of the entry (and the change it records).
CREATE TABLE audit_names (
    audit_id  TEXT NOT NULL REFERENCES audit (id),
    username  TEXT NOT NULL,
    PRIMARY KEY (audit_id, username)
);
CREATE INDEX audit_names_by_username ON audit_names (username, audit_id);
