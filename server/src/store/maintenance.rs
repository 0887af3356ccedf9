//! Maintenance windows and their steps.
//!
//! Invariants: a step leaves `pending` by exactly one `UPDATE … WHERE state = 'pending'`
//! ([`Store::claim_step`]), in the same transaction as its effect ([`StepTx`]), so it runs
//! once whatever restarts or other instances do; a cancelled or ended window has no
//! pending step; logins are frozen exactly while a scheduled or running window is inside
//! `[starts_at - freeze_before, ends_at)`. What a step does is the core's decision
//! (`core::steps`); this file only runs the statements.

use curfew::api::{
    AuditAction, MaintenanceStep, MaintenanceWindow, RevocationReason, StepKind, StepState,
    WindowState,
};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::audit::{insert_audit, Actor, AuditRecord};
use super::db::{enum_col, from_millis, uuid_col, Backend, Store, Tx};
use super::series::{materialise_next, series_stub, NextOccurrences};
use super::sessions::{revoke_all, MassRevocation, Spared};
use super::windows::insert_window;
pub use super::windows::{NewWindow, WindowError};

/// A pending step whose time has come.
#[derive(Debug, Clone)]
pub struct DueStep {
    pub window_id: Uuid,
    pub kind: StepKind,
    pub offset_seconds: i64,
    pub due_at: i64,
}

/// Binds a step's key (window, kind, offset) as a query's next three parameters.
trait BindStep {
    fn bind_step(self, step: &DueStep) -> Self;
}

impl<'q> BindStep for sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    fn bind_step(self, step: &DueStep) -> Self {
        self.bind(step.window_id.to_string())
            .bind(step.kind.as_str())
            .bind(step.offset_seconds)
    }
}

/// The window a claimed step belongs to, as its step needs it.
#[derive(Debug, Clone)]
pub struct StepWindow {
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub message: String,
    pub keep_admins: bool,
    pub created_by: Uuid,
    pub created_by_username: String,
}

/// A step this instance claimed, inside the transaction that will carry out its effect.
/// Dropping it without [`StepTx::finish`] rolls everything back, the claim included.
pub struct StepTx {
    tx: Tx,
    backend: Backend,
    step: DueStep,
    pub window: StepWindow,
}

/// Logins are frozen by this window.
#[derive(Debug, Clone)]
pub struct Freeze {
    pub message: String,
    pub ends_at: Option<i64>,
}

const WINDOW_COLUMNS: &str = "id, starts_at, ends_at, message, warn_before, freeze_before, \
     keep_admins, created_by_username, created_at, state, finished_at, series_id, occurrence_at, \
     moved_from";

fn window_row(row: &AnyRow, steps: Vec<MaintenanceStep>) -> sqlx::Result<MaintenanceWindow> {
    Ok(MaintenanceWindow {
        id: uuid_col(row, "id")?,
        starts_at: from_millis(row.try_get("starts_at")?),
        ends_at: row.try_get::<Option<i64>, _>("ends_at")?.map(from_millis),
        message: row.try_get("message")?,
        warn_before: serde_json::from_str(&row.try_get::<String, _>("warn_before")?)
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        freeze_before: row.try_get("freeze_before")?,
        keep_admins: row.try_get::<i64, _>("keep_admins")? != 0,
        created_by_username: row.try_get("created_by_username")?,
        created_at: from_millis(row.try_get("created_at")?),
        state: enum_col(row, "state", WindowState::parse)?,
        finished_at: row
            .try_get::<Option<i64>, _>("finished_at")?
            .map(from_millis),
        steps,
        series: None,
        moved_from: row
            .try_get::<Option<i64>, _>("moved_from")?
            .map(from_millis),
    })
}

impl Store {
    /// Creates a window and its steps unless it overlaps a scheduled or running one.
    pub async fn create_window(
        &self,
        actor: &Actor,
        window: &NewWindow,
        now: i64,
    ) -> Result<Uuid, WindowError> {
        let mut tx = self.pool.begin().await?;
        let id = insert_window(&mut tx, self.backend(), actor, window, None, now).await?;
        insert_audit(
            &mut tx,
            &AuditRecord::new(now, actor, AuditAction::ScheduleMaintenance).window(id),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn steps_of(&self, ids: &[String]) -> sqlx::Result<Vec<(String, MaintenanceStep)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT window_id, kind, offset_seconds, due_at, state, ran_at, detail \
             FROM maintenance_steps WHERE window_id IN ({}) ORDER BY due_at, offset_seconds DESC",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(id.clone());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get("window_id")?,
                    MaintenanceStep {
                        kind: enum_col(row, "kind", StepKind::parse)?,
                        offset_seconds: row.try_get("offset_seconds")?,
                        due_at: from_millis(row.try_get("due_at")?),
                        state: enum_col(row, "state", StepState::parse)?,
                        ran_at: row.try_get::<Option<i64>, _>("ran_at")?.map(from_millis),
                        detail: row
                            .try_get::<Option<String>, _>("detail")?
                            .and_then(|d| serde_json::from_str(&d).ok()),
                    },
                ))
            })
            .collect()
    }

    async fn windows_where(
        &self,
        condition: &str,
        bind: Option<String>,
    ) -> sqlx::Result<Vec<MaintenanceWindow>> {
        let sql = format!("SELECT {WINDOW_COLUMNS} FROM maintenance_windows WHERE {condition}");
        let mut q = sqlx::query(&sql);
        if let Some(value) = bind {
            q = q.bind(value);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<sqlx::Result<_>>()?;
        let mut steps = self.steps_of(&ids).await?;
        let series_ids: Vec<Uuid> = rows
            .iter()
            .filter_map(|r| r.try_get::<Option<String>, _>("series_id").ok().flatten())
            .filter_map(|s| Uuid::parse_str(&s).ok())
            .collect();
        let series = self.series_of(&series_ids).await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let mine = steps
                    .iter()
                    .filter(|(w, _)| *w == id)
                    .map(|(_, s)| s.clone())
                    .collect();
                steps.retain(|(w, _)| *w != id);
                let mut window = window_row(row, mine)?;
                let series_id = row.try_get::<Option<String>, _>("series_id")?;
                let occurrence_at = row.try_get::<Option<i64>, _>("occurrence_at")?;
                window.series = series
                    .iter()
                    .find(|s| Some(s.id.to_string()) == series_id)
                    .map(|s| series_stub(s, occurrence_at));
                Ok(window)
            })
            .collect()
    }

    pub async fn window(&self, id: Uuid) -> sqlx::Result<Option<MaintenanceWindow>> {
        Ok(self
            .windows_where("id = $1", Some(id.to_string()))
            .await?
            .into_iter()
            .next())
    }

    /// Scheduled and running windows (soonest first), then the 20 latest finished ones.
    pub async fn windows(&self) -> sqlx::Result<Vec<MaintenanceWindow>> {
        let mut windows = self
            .windows_where("state IN ('scheduled', 'running') ORDER BY starts_at", None)
            .await?;
        windows.extend(
            self.windows_where(
                "state IN ('ended', 'cancelled') ORDER BY finished_at DESC LIMIT 20",
                None,
            )
            .await?,
        );
        Ok(windows)
    }

    /// Cancels a window that has not started; its pending steps are cancelled with it. An
    /// occurrence of a series makes way for the next one (`next`), in the same transaction.
    pub async fn cancel_window(
        &self,
        actor: &Actor,
        id: Uuid,
        next: NextOccurrences<'_>,
        now: i64,
    ) -> Result<Option<Uuid>, WindowError> {
        self.finish_window(
            actor,
            id,
            now,
            WindowState::Scheduled,
            WindowState::Cancelled,
            Some(next),
        )
        .await
    }

    /// Ends a running window now: logins reopen.
    pub async fn end_window_now(
        &self,
        actor: &Actor,
        id: Uuid,
        now: i64,
    ) -> Result<(), WindowError> {
        self.finish_window(
            actor,
            id,
            now,
            WindowState::Running,
            WindowState::Ended,
            None,
        )
        .await
        .map(|_| ())
    }

    async fn finish_window(
        &self,
        actor: &Actor,
        id: Uuid,
        now: i64,
        from: WindowState,
        to: WindowState,
        next: Option<NextOccurrences<'_>>,
    ) -> Result<Option<Uuid>, WindowError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE maintenance_windows SET state = $1, finished_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(id.to_string())
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            let state = sqlx::query("SELECT state FROM maintenance_windows WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match state {
                None => WindowError::NotFound,
                Some(row) => WindowError::WrongState(enum_col(&row, "state", WindowState::parse)?),
            });
        }
        sqlx::query(
            "UPDATE maintenance_steps SET state = 'cancelled', ran_at = $1 \
             WHERE window_id = $2 AND state = 'pending'",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        let action = match to {
            WindowState::Cancelled => AuditAction::CancelMaintenance,
            _ => AuditAction::EndMaintenance,
        };
        insert_audit(&mut tx, &AuditRecord::new(now, actor, action).window(id)).await?;
        let created = match next {
            Some(next) => materialise_next(&mut tx, self.backend(), id, next, actor, now).await?,
            None => None,
        };
        tx.commit().await?;
        Ok(created)
    }

    /// Pending steps due by `now`, oldest first.
    pub async fn due_steps(&self, now: i64) -> sqlx::Result<Vec<DueStep>> {
        sqlx::query(
            "SELECT window_id, kind, offset_seconds, due_at FROM maintenance_steps \
             WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, offset_seconds DESC",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(DueStep {
                window_id: uuid_col(row, "window_id")?,
                kind: enum_col(row, "kind", StepKind::parse)?,
                offset_seconds: row.try_get("offset_seconds")?,
                due_at: row.try_get("due_at")?,
            })
        })
        .collect()
    }

    /// When the next pending step is due.
    pub async fn next_due(&self) -> sqlx::Result<Option<i64>> {
        sqlx::query("SELECT MIN(due_at) AS due FROM maintenance_steps WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await?
            .try_get("due")
    }

    /// Claims a due step: marks it done inside a new transaction and returns that
    /// transaction with the step's window. `None`: another instance (or an earlier run)
    /// already has it.
    pub async fn claim_step(&self, step: &DueStep, now: i64) -> sqlx::Result<Option<StepTx>> {
        let mut tx = self.pool.begin().await?;
        if self.backend() == Backend::Postgres {
            // Another instance holding this step is running it: move on instead of
            // waiting for its effect (a mass logout) to commit, then finding it done.
            let free = sqlx::query(
                "SELECT kind FROM maintenance_steps WHERE window_id = $1 AND kind = $2 \
                 AND offset_seconds = $3 AND state = 'pending' FOR UPDATE SKIP LOCKED",
            )
            .bind_step(step)
            .fetch_optional(&mut *tx)
            .await?;
            if free.is_none() {
                return Ok(None);
            }
        }
        let claimed = sqlx::query(
            "UPDATE maintenance_steps SET state = 'done', ran_at = $1 \
             WHERE window_id = $2 AND kind = $3 AND offset_seconds = $4 AND state = 'pending'",
        )
        .bind(now)
        .bind_step(step)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT starts_at, ends_at, message, keep_admins, created_by, created_by_username \
             FROM maintenance_windows WHERE id = $1",
        )
        .bind(step.window_id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let window = StepWindow {
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            message: row.try_get("message")?,
            keep_admins: row.try_get::<i64, _>("keep_admins")? != 0,
            created_by: uuid_col(&row, "created_by")?,
            created_by_username: row.try_get("created_by_username")?,
        };
        Ok(Some(StepTx {
            tx,
            backend: self.backend(),
            step: step.clone(),
            window,
        }))
    }

    /// Records what a step reached after its fan-out (sessions told of a warning).
    pub async fn record_step_reach(
        &self,
        step: &DueStep,
        reached: i64,
        late_ms: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE maintenance_steps SET detail = $1 \
             WHERE window_id = $2 AND kind = $3 AND offset_seconds = $4",
        )
        .bind(serde_json::json!({"sessions_reached": reached, "late_ms": late_ms}).to_string())
        .bind_step(step)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a step that keeps failing, so the schedule moves on.
    pub async fn fail_step(&self, step: &DueStep, now: i64, error: &str) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE maintenance_steps SET state = 'failed', ran_at = $1, detail = $2 \
             WHERE window_id = $3 AND kind = $4 AND offset_seconds = $5 AND state = 'pending'",
        )
        .bind(now)
        .bind(serde_json::json!({"error": error}).to_string())
        .bind_step(step)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The window freezing logins now, if any.
    pub async fn active_freeze(&self, now: i64) -> sqlx::Result<Option<Freeze>> {
        sqlx::query(
            "SELECT message, ends_at FROM maintenance_windows \
             WHERE state IN ('scheduled', 'running') AND starts_at - freeze_before * 1000 <= $1 \
             AND (ends_at IS NULL OR ends_at > $1) ORDER BY starts_at LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| {
            Ok(Freeze {
                message: row.try_get("message")?,
                ends_at: row.try_get("ends_at")?,
            })
        })
        .transpose()
    }

    /// Every window that freezes sign-ins now or later, as (freeze from, ends at,
    /// message): few rows, which the gate keeps for a moment instead of asking per request.
    pub async fn freeze_spans(&self, now: i64) -> sqlx::Result<Vec<(i64, Option<i64>, String)>> {
        sqlx::query(
            "SELECT starts_at - freeze_before * 1000 AS freeze_from, ends_at, message \
             FROM maintenance_windows WHERE state IN ('scheduled', 'running') \
             AND (ends_at IS NULL OR ends_at > $1) ORDER BY starts_at",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("freeze_from")?,
                row.try_get("ends_at")?,
                row.try_get("message")?,
            ))
        })
        .collect()
    }

    /// Windows not yet started whose first warning has gone out: the notices in force.
    pub async fn announced_windows(
        &self,
        now: i64,
    ) -> sqlx::Result<Vec<(Uuid, String, i64, Option<i64>)>> {
        sqlx::query(
            "SELECT w.id, w.message, w.starts_at, w.ends_at FROM maintenance_windows w \
             WHERE w.state = 'scheduled' AND w.starts_at > $1 AND EXISTS (SELECT 1 FROM \
             maintenance_steps s WHERE s.window_id = w.id AND s.kind = 'warning' AND s.state = 'done') \
             ORDER BY w.starts_at",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok((
                uuid_col(row, "id")?,
                row.try_get("message")?,
                row.try_get("starts_at")?,
                row.try_get("ends_at")?,
            ))
        })
        .collect()
    }
}

impl StepTx {
    /// Whether a later warning of the same window is also due by `now`.
    pub async fn later_warning_due(&mut self, now: i64) -> sqlx::Result<bool> {
        let later: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM maintenance_steps WHERE window_id = $1 \
             AND kind = 'warning' AND state = 'pending' AND offset_seconds < $2 \
             AND due_at <= $3",
        )
        .bind(self.step.window_id.to_string())
        .bind(self.step.offset_seconds)
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get("n")?;
        Ok(later > 0)
    }

    /// Revokes every live session but the spared ones, in one statement.
    pub async fn revoke_all(
        &mut self,
        now: i64,
        reason: RevocationReason,
        spared: Spared,
    ) -> sqlx::Result<MassRevocation> {
        revoke_all(&mut self.tx, now, reason, spared).await
    }

    /// The window has started.
    pub async fn mark_window_running(&mut self) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE maintenance_windows SET state = 'running' WHERE id = $1 AND state = 'scheduled'",
        )
        .bind(self.step.window_id.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The window is over.
    pub async fn mark_window_ended(&mut self, now: i64) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE maintenance_windows SET state = 'ended', finished_at = $1 \
             WHERE id = $2 AND state IN ('scheduled', 'running')",
        )
        .bind(now)
        .bind(self.step.window_id.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Creates the next occurrence of this window's series, if it is one (see
    /// [`super::series`]).
    pub async fn materialise_next(
        &mut self,
        next: NextOccurrences<'_>,
        actor: &Actor,
        now: i64,
    ) -> Result<Option<Uuid>, WindowError> {
        materialise_next(
            &mut self.tx,
            self.backend,
            self.step.window_id,
            next,
            actor,
            now,
        )
        .await
    }

    /// Records `record` with the step's effect.
    pub async fn audit(&mut self, record: &AuditRecord<'_>) -> sqlx::Result<()> {
        insert_audit(&mut self.tx, record).await
    }

    /// Sets the step's final state and detail, and commits the claim with its effect.
    pub async fn finish(mut self, state: StepState, detail: serde_json::Value) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE maintenance_steps SET state = $1, detail = $2 \
             WHERE window_id = $3 AND kind = $4 AND offset_seconds = $5",
        )
        .bind(state.as_str())
        .bind(detail.to_string())
        .bind_step(&self.step)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await
    }
}
