-- Maintenance windows and their steps. The server runs the schedule: every step is a row,
-- claimed by one statement (pending -> done) so that it runs exactly once, also after a
-- restart and with several instances on one database.

CREATE TABLE maintenance_windows (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    starts_at            BIGINT  NOT NULL,
    ends_at              BIGINT,
    message              TEXT COLLATE "C" NOT NULL,
    warn_before          TEXT COLLATE "C" NOT NULL,  -- JSON array of seconds
    freeze_before        BIGINT  NOT NULL,
    keep_admins          BIGINT  NOT NULL,
    created_by           TEXT COLLATE "C" NOT NULL,
    created_by_username  TEXT COLLATE "C" NOT NULL,
    created_at           BIGINT  NOT NULL,
    state                TEXT COLLATE "C" NOT NULL CHECK (state IN ('scheduled', 'running', 'ended', 'cancelled')),
    finished_at          BIGINT
);
CREATE INDEX maintenance_windows_by_state ON maintenance_windows (state, starts_at);

CREATE TABLE maintenance_steps (
    window_id       TEXT COLLATE "C" NOT NULL REFERENCES maintenance_windows (id),
    kind            TEXT COLLATE "C" NOT NULL CHECK (kind IN ('warning', 'freeze', 'logout', 'end')),
    -- warnings: seconds before the start; other steps: 0
    offset_seconds  BIGINT  NOT NULL,
    due_at          BIGINT  NOT NULL,
    state           TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'done', 'skipped', 'cancelled', 'failed')),
    ran_at          BIGINT,
    -- JSON: what the step did (sessions reached or revoked), or why it was skipped
    detail          TEXT COLLATE "C",
    PRIMARY KEY (window_id, kind, offset_seconds)
);
CREATE INDEX maintenance_steps_due ON maintenance_steps (state, due_at);
