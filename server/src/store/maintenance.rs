//! Maintenance windows: creating, listing, cancelling and ending them, and the freezes
//! they make (their steps are claimed and run in [`super::steps`]).
//!
//! Invariants: a cancelled or ended window has no pending step; logins are frozen exactly
//! while a scheduled or running window is inside `[starts_at - freeze_before, ends_at)`.
//! This file only runs the statements.

use curfew::api::{
    AuditAction, MaintenanceStep, MaintenanceWindow, StepKind, StepState, WindowState,
};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::audit::{insert_audit, Actor, AuditRecord};
use super::db::{enum_col, from_millis, uuid_col, Store};
use super::series::{materialise_next, series_stub, NextOccurrences};
use super::windows::insert_window;
pub use super::windows::{NewWindow, WindowError};

/// A window whose users were warned and which has not started (times in milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncedWindow {
    pub id: Uuid,
    pub message: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    /// The start users were told before an administrator moved it (absent: not moved
    /// since they were warned).
    pub moved_from: Option<i64>,
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
            Some(next) => {
                materialise_next(&mut tx, self.backend(), id, next, Some(actor), now).await?
            }
            None => None,
        };
        tx.commit().await?;
        Ok(created)
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

    /// Windows not yet started whose users were warned (a warning has gone out, or they
    /// were warned before a move planned the warnings again): the notices in force.
    pub async fn announced_windows(&self, now: i64) -> sqlx::Result<Vec<AnnouncedWindow>> {
        sqlx::query(
            "SELECT w.id, w.message, w.starts_at, w.ends_at, w.moved_from, w.moved_after_warning \
             FROM maintenance_windows w WHERE w.state = 'scheduled' AND w.starts_at > $1 AND \
             (w.moved_after_warning <> 0 OR EXISTS (SELECT 1 FROM maintenance_steps s \
             WHERE s.window_id = w.id AND s.kind = 'warning' AND s.state = 'done')) \
             ORDER BY w.starts_at",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let moved: i64 = row.try_get("moved_after_warning")?;
            Ok(AnnouncedWindow {
                id: uuid_col(row, "id")?,
                message: row.try_get("message")?,
                starts_at: row.try_get("starts_at")?,
                ends_at: row.try_get("ends_at")?,
                moved_from: if moved != 0 {
                    row.try_get("moved_from")?
                } else {
                    None
                },
            })
        })
        .collect()
    }

    /// Whether the window moved to another start after its users were warned.
    pub async fn moved_after_warning(&self, id: Uuid) -> sqlx::Result<bool> {
        let row = sqlx::query("SELECT moved_after_warning FROM maintenance_windows WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>("moved_after_warning")? != 0,
            None => false,
        })
    }
}
