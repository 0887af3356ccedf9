//! Writing a window and its steps, shared by one-off windows ([`super::maintenance`]) and
//! the occurrences of a series ([`super::series`]).
//!
//! Invariant: a window is inserted only if no scheduled or running window overlaps it,
//! checked in the inserting transaction after the insert (SQLite: that transaction then
//! holds the write lock) or under an advisory lock (PostgreSQL); otherwise nothing of it
//! stays.

use curfew::api::{StepKind, WindowState};
use uuid::Uuid;

use super::audit::Actor;
use super::db::{uuid_col, Backend, Tx};

/// The PostgreSQL advisory lock that serialises window creation across instances.
const SCHEDULE_LOCK: i64 = 0x6375_7266_6577; // "curfew"

/// A window to create, with its steps already laid out.
#[derive(Debug, Clone)]
pub struct NewWindow {
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub message: String,
    pub warn_before: Vec<i64>,
    pub freeze_before: i64,
    pub keep_admins: bool,
    /// (kind, offset seconds, due at)
    pub steps: Vec<(StepKind, i64, i64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    #[error("the window overlaps window {0}")]
    Overlaps(Uuid),
    #[error("no such window")]
    NotFound,
    #[error("the window is {0:?}")]
    WrongState(WindowState),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Inserts a window and its steps unless it overlaps a scheduled or running one (then
/// nothing of it stays). `series`: the series and the rule's start of this occurrence.
pub(super) async fn insert_window(
    tx: &mut Tx,
    backend: Backend,
    creator: &Actor,
    window: &NewWindow,
    series: Option<(Uuid, i64)>,
    now: i64,
) -> Result<Uuid, WindowError> {
    let id = Uuid::new_v4();
    // Two racing creations must not both pass the overlap check. SQLite: the insert comes
    // first, so this transaction holds the only write lock while it looks. PostgreSQL:
    // readers do not see each other's inserts, so creations take turns on a
    // transaction-scoped advisory lock.
    if backend == Backend::Postgres {
        sqlx::query("SELECT COUNT(*) AS n FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
            .bind(SCHEDULE_LOCK)
            .fetch_one(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO maintenance_windows (id, starts_at, ends_at, message, warn_before, \
         freeze_before, keep_admins, created_by_username, created_at, state, finished_at, \
         created_by, series_id, occurrence_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'scheduled', NULL, $10, $11, $12)",
    )
    .bind(id.to_string())
    .bind(window.starts_at)
    .bind(window.ends_at)
    .bind(window.message.clone())
    .bind(serde_json::to_string(&window.warn_before).expect("numbers serialise"))
    .bind(window.freeze_before)
    .bind(i64::from(window.keep_admins))
    .bind(creator.username.clone())
    .bind(now)
    .bind(creator.user_id.to_string())
    .bind(series.map(|(s, _)| s.to_string()))
    .bind(series.map(|(_, at)| at))
    .execute(&mut **tx)
    .await?;
    if let Some(other) = overlapping(tx, id, window.starts_at, window.ends_at).await? {
        sqlx::query("DELETE FROM maintenance_windows WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut **tx)
            .await?;
        return Err(WindowError::Overlaps(other));
    }
    insert_steps(tx, id, &window.steps).await?;
    Ok(id)
}

/// A scheduled or running window other than `id` that meets `[starts_at, ends_at)`.
pub(super) async fn overlapping(
    tx: &mut Tx,
    id: Uuid,
    starts_at: i64,
    ends_at: Option<i64>,
) -> Result<Option<Uuid>, WindowError> {
    let row = sqlx::query(
        "SELECT id FROM maintenance_windows WHERE id <> $1 \
         AND state IN ('scheduled', 'running') \
         AND (ends_at IS NULL OR ends_at > $2) \
         AND (CAST($3 AS BIGINT) IS NULL OR starts_at < $3) LIMIT 1",
    )
    .bind(id.to_string())
    .bind(starts_at)
    .bind(ends_at)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| uuid_col(&r, "id")).transpose()?)
}

/// Inserts a window's planned steps.
pub(super) async fn insert_steps(
    tx: &mut Tx,
    id: Uuid,
    steps: &[(StepKind, i64, i64)],
) -> sqlx::Result<()> {
    for (kind, offset, due) in steps {
        sqlx::query(
            "INSERT INTO maintenance_steps (window_id, kind, offset_seconds, due_at, state) \
             VALUES ($1, $2, $3, $4, 'pending')",
        )
        .bind(id.to_string())
        .bind(kind.as_str())
        .bind(*offset)
        .bind(*due)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// What moving a window changed: the start it had, and whether users had been warned.
#[derive(Debug, Clone, Copy)]
pub struct Moved {
    pub from: i64,
    pub warned: bool,
}

impl super::db::Store {
    /// Gives a scheduled window new times, message, warnings and freeze, and its steps
    /// planned again (steps already run keep their record unless planned anew), unless it
    /// overlaps another window or has started. Audited with `words(from)`.
    pub async fn move_window(
        &self,
        actor: &Actor,
        id: Uuid,
        window: &NewWindow,
        words: &(dyn Fn(i64) -> String + Send + Sync),
        now: i64,
    ) -> Result<Moved, WindowError> {
        let mut tx = self.pool.begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT COUNT(*) AS n FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
                .bind(SCHEDULE_LOCK)
                .fetch_one(&mut *tx)
                .await?;
        }
        // A write first: this transaction holds the row (and SQLite's write lock) while
        // it reads what it changes; a started window is left alone.
        let held = sqlx::query(
            "UPDATE maintenance_windows SET state = state WHERE id = $1 AND state = 'scheduled'",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = sqlx::query(
            "SELECT starts_at, state, moved_after_warning <> 0 OR EXISTS (SELECT 1 FROM \
             maintenance_steps s WHERE s.window_id = $1 AND s.kind = 'warning' AND s.state = 'done') \
             AS warned FROM maintenance_windows WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(WindowError::NotFound)?;
        if held == 0 {
            return Err(WindowError::WrongState(super::db::enum_col(
                &row,
                "state",
                WindowState::parse,
            )?));
        }
        use sqlx::Row;
        let from: i64 = row.try_get("starts_at")?;
        let warned = match row.try_get::<bool, _>("warned") {
            Ok(b) => b,
            Err(_) => row.try_get::<i64, _>("warned")? != 0,
        };
        if let Some(other) = overlapping(&mut tx, id, window.starts_at, window.ends_at).await? {
            return Err(WindowError::Overlaps(other));
        }
        sqlx::query("DELETE FROM maintenance_steps WHERE window_id = $1 AND state = 'pending'")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        for (kind, offset, due) in &window.steps {
            sqlx::query(
                "INSERT INTO maintenance_steps (window_id, kind, offset_seconds, due_at, state) \
                 VALUES ($1, $2, $3, $4, 'pending') ON CONFLICT (window_id, kind, offset_seconds) \
                 DO UPDATE SET due_at = excluded.due_at, state = 'pending', ran_at = NULL, detail = NULL",
            )
            .bind(id.to_string())
            .bind(kind.as_str())
            .bind(*offset)
            .bind(*due)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE maintenance_windows SET starts_at = $1, ends_at = $2, message = $3, \
             warn_before = $4, freeze_before = $5, \
             moved_from = CASE WHEN starts_at <> $1 THEN starts_at ELSE moved_from END, \
             moved_after_warning = CASE WHEN starts_at <> $1 AND $7 <> 0 THEN 1 \
             ELSE moved_after_warning END WHERE id = $6",
        )
        .bind(window.starts_at)
        .bind(window.ends_at)
        .bind(window.message.clone())
        .bind(serde_json::to_string(&window.warn_before).expect("numbers serialise"))
        .bind(window.freeze_before)
        .bind(id.to_string())
        .bind(i64::from(warned))
        .execute(&mut *tx)
        .await?;
        let mut record =
            super::audit::AuditRecord::new(now, actor, curfew::api::AuditAction::MoveMaintenance)
                .window(id);
        record.reason_text = Some(words(from));
        super::audit::insert_audit(&mut tx, &record).await?;
        tx.commit().await?;
        Ok(Moved { from, warned })
    }
}
