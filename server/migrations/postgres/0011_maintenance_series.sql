-- Repeating maintenance: a series holds the rule (an RFC 5545 RRULE, the subset Curfew runs)
-- and the time zone its wall times are in; its occurrences are ordinary windows, created
-- one at a time (the next when the previous one starts or is cancelled, in that same
-- transaction). occurrence_at is the rule's start of the occurrence, kept when a window
-- is moved, and unique per series: no occurrence can be created twice.

CREATE TABLE maintenance_series (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    rule                 TEXT COLLATE "C" NOT NULL,
    time_zone            TEXT COLLATE "C" NOT NULL,
    first_starts_at      BIGINT  NOT NULL,
    length_ms            BIGINT  NOT NULL,
    message              TEXT COLLATE "C" NOT NULL,
    warn_before          TEXT COLLATE "C" NOT NULL,  -- JSON array of seconds
    freeze_before        BIGINT  NOT NULL,
    keep_admins          BIGINT  NOT NULL,
    created_by           TEXT COLLATE "C" NOT NULL,
    created_by_username  TEXT COLLATE "C" NOT NULL,
    created_at           BIGINT  NOT NULL,
    state                TEXT COLLATE "C" NOT NULL CHECK (state IN ('active', 'cancelled', 'finished')),
    finished_at          BIGINT
);

ALTER TABLE maintenance_windows ADD COLUMN series_id TEXT COLLATE "C" REFERENCES maintenance_series (id);
ALTER TABLE maintenance_windows ADD COLUMN occurrence_at BIGINT;
CREATE UNIQUE INDEX maintenance_windows_occurrence
    ON maintenance_windows (series_id, occurrence_at) WHERE series_id IS NOT NULL;

-- The start a window had before an administrator moved it (NULL: never moved).
ALTER TABLE maintenance_windows ADD COLUMN moved_from BIGINT;
