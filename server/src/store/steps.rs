//! Maintenance steps: which are due, claiming one, and the transaction that carries out
//! its effect.
//!
//! Invariant: a step leaves `pending` by exactly one `UPDATE … WHERE state = 'pending'`
//! ([`Store::claim_step`]; on PostgreSQL after `FOR UPDATE SKIP LOCKED`), in the same
//! transaction as its effect ([`StepTx`]), so it runs once whatever restarts or other
//! instances do. What a step does is the core's decision (`core::steps`); this file only
//! runs the statements.

use curfew::api::{RevocationReason, StepKind, StepState};
use sqlx::Row;
use uuid::Uuid;

use super::audit::{insert_audit, Actor, AuditRecord};
use super::db::{enum_col, uuid_col, Backend, Store, Tx};
use super::series::{materialise_next, NextOccurrences};
use super::sessions::{revoke_all, MassRevocation, Spared};
use super::windows::WindowError;

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
    /// The start it had before an administrator moved it after its users were warned
    /// (migration 0014's `moved_after_warning`), as `GET /notices` tells it; `None` if
    /// it was not moved so.
    pub moved_from: Option<i64>,
}

/// A step this instance claimed, inside the transaction that will carry out its effect.
/// Dropping it without [`StepTx::finish`] rolls everything back, the claim included.
pub struct StepTx {
    tx: Tx,
    backend: Backend,
    step: DueStep,
    pub window: StepWindow,
}

impl Store {
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
            "SELECT starts_at, ends_at, message, keep_admins, created_by, created_by_username, \
             moved_from, moved_after_warning FROM maintenance_windows WHERE id = $1",
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
            moved_from: if row.try_get::<i64, _>("moved_after_warning")? != 0 {
                row.try_get("moved_from")?
            } else {
                None
            },
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
    /// A logout step that gave up still makes way for its series' next occurrence
    /// (`next`), in the same transaction, so a series does not stall on one bad start.
    pub async fn fail_step(
        &self,
        step: &DueStep,
        now: i64,
        error: &str,
        next: Option<NextOccurrences<'_>>,
    ) -> Result<(), WindowError> {
        let mut tx = self.pool.begin().await?;
        let failed = sqlx::query(
            "UPDATE maintenance_steps SET state = 'failed', ran_at = $1, detail = $2 \
             WHERE window_id = $3 AND kind = $4 AND offset_seconds = $5 AND state = 'pending'",
        )
        .bind(now)
        .bind(serde_json::json!({"error": error}).to_string())
        .bind_step(step)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if let (1, Some(next)) = (failed, next) {
            materialise_next(&mut tx, self.backend(), step.window_id, next, None, now).await?;
        }
        tx.commit().await?;
        Ok(())
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
            Some(actor),
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
