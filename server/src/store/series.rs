//! Repeating maintenance: a series row and its occurrences, which are ordinary windows.
//!
//! Invariants: an occurrence is created only inside the transaction that schedules the
//! series, starts the previous occurrence (its logout step, claimed once) or cancels it, so
//! a crash or a second instance can neither skip nor double it; `(series_id,
//! occurrence_at)` is unique besides. Which occurrence comes next is the core's decision
//! (a [`NextOccurrences`] it passes in); this file only runs the statements, and skips a
//! candidate that overlaps another window the way scheduling refuses one.

use curfew::api::{AuditAction, MaintenanceSeries, SeriesState, WindowState};
use sqlx::Row;
use uuid::Uuid;

use super::audit::{insert_audit, Actor, AuditRecord};
use super::db::{enum_col, from_millis, uuid_col, Backend, Store, Tx};
use super::windows::{insert_window, NewWindow, WindowError};

/// A series to create: the rule and the template each occurrence is made from.
#[derive(Debug, Clone)]
pub struct NewSeries {
    pub rule: String,
    pub time_zone: String,
    pub first_starts_at: i64,
    pub length_ms: i64,
    pub message: String,
    pub warn_before: Vec<i64>,
    pub freeze_before: i64,
    pub keep_admins: bool,
}

/// A stored series, as the core needs it to decide the next occurrence.
#[derive(Debug, Clone)]
pub struct SeriesRow {
    pub id: Uuid,
    pub state: SeriesState,
    pub created_by: Uuid,
    pub created_by_username: String,
    pub series: NewSeries,
}

/// One occurrence the core wants created: the rule's start of it, its window, and the
/// audit's words for it.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub at: i64,
    pub window: NewWindow,
    pub words: String,
}

/// The core's rule: for a series and the occurrence after which to look, the candidates
/// in order (the first that overlaps no other window is created).
pub type NextOccurrences<'a> = &'a (dyn Fn(&SeriesRow, i64) -> Vec<Occurrence> + Send + Sync);

const SERIES_COLUMNS: &str = "id, rule, time_zone, first_starts_at, length_ms, message, \
     warn_before, freeze_before, keep_admins, created_by, created_by_username, state";

fn series_row(row: &sqlx::any::AnyRow) -> sqlx::Result<SeriesRow> {
    Ok(SeriesRow {
        id: uuid_col(row, "id")?,
        state: enum_col(row, "state", SeriesState::parse)?,
        created_by: uuid_col(row, "created_by")?,
        created_by_username: row.try_get("created_by_username")?,
        series: NewSeries {
            rule: row.try_get("rule")?,
            time_zone: row.try_get("time_zone")?,
            first_starts_at: row.try_get("first_starts_at")?,
            length_ms: row.try_get("length_ms")?,
            message: row.try_get("message")?,
            warn_before: serde_json::from_str(&row.try_get::<String, _>("warn_before")?)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            freeze_before: row.try_get("freeze_before")?,
            keep_admins: row.try_get::<i64, _>("keep_admins")? != 0,
        },
    })
}

/// The series as the contract shows it, before the core expands it: `next` holds the
/// series' first start and then `occurrence_at` (this occurrence's start by the rule),
/// which the core replaces with the next starts; `description` is the core's too.
pub fn series_stub(row: &SeriesRow, occurrence_at: Option<i64>) -> MaintenanceSeries {
    MaintenanceSeries {
        id: row.id,
        rule: row.series.rule.clone(),
        time_zone: row.series.time_zone.clone(),
        description: String::new(),
        state: row.state,
        next: std::iter::once(row.series.first_starts_at)
            .chain(occurrence_at)
            .map(from_millis)
            .collect(),
    }
}

/// After `window_id` started, was cancelled or could not start: creates the next
/// occurrence of its series, if it has one and the series is active, audited with the
/// core's words under `actor` (none: under the series' creator); a series with none left
/// is finished. `None`: nothing was created.
pub(super) async fn materialise_next(
    tx: &mut Tx,
    backend: Backend,
    window_id: Uuid,
    next: NextOccurrences<'_>,
    actor: Option<&Actor>,
    now: i64,
) -> Result<Option<Uuid>, WindowError> {
    let Some(row) = sqlx::query(
        "SELECT series_id, occurrence_at FROM maintenance_windows WHERE id = $1 AND series_id IS NOT NULL",
    )
    .bind(window_id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let series_id: String = row.try_get("series_id")?;
    let after: i64 = row.try_get("occurrence_at")?;
    let series = series_row(
        &sqlx::query(&format!(
            "SELECT {SERIES_COLUMNS} FROM maintenance_series WHERE id = $1"
        ))
        .bind(series_id.clone())
        .fetch_one(&mut **tx)
        .await?,
    )?;
    if series.state != SeriesState::Active {
        return Ok(None);
    }
    let creator = Actor {
        user_id: series.created_by,
        username: series.created_by_username.clone(),
        session_id: Uuid::nil(),
        service_token: actor.is_some_and(|a| a.service_token && a.user_id == series.created_by),
    };
    let actor = actor.unwrap_or(&creator);
    for occurrence in next(&series, after) {
        match insert_window(
            tx,
            backend,
            &creator,
            &occurrence.window,
            Some((series.id, occurrence.at)),
            now,
        )
        .await
        {
            Ok(id) => {
                let mut record =
                    AuditRecord::new(now, actor, AuditAction::ScheduleMaintenance).window(id);
                record.reason_text = Some(occurrence.words.clone());
                insert_audit(tx, &record).await?;
                return Ok(Some(id));
            }
            Err(WindowError::Overlaps(other)) => {
                tracing::warn!(series = %series.id, occurrence = occurrence.at, overlaps = %other, "an occurrence overlaps another window: skipped");
            }
            Err(e) => return Err(e),
        }
    }
    sqlx::query(
        "UPDATE maintenance_series SET state = 'finished', finished_at = $1 WHERE id = $2 AND state = 'active'",
    )
    .bind(now)
    .bind(series_id)
    .execute(&mut **tx)
    .await?;
    Ok(None)
}

impl Store {
    /// Creates a series and its first occurrence, audited with `words`. The first
    /// occurrence obeys the overlap rule like any window.
    pub async fn create_series(
        &self,
        actor: &Actor,
        series: &NewSeries,
        first: &Occurrence,
        now: i64,
    ) -> Result<Uuid, WindowError> {
        let series_id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO maintenance_series ({SERIES_COLUMNS}, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12)"
        ))
        .bind(series_id.to_string())
        .bind(series.rule.clone())
        .bind(series.time_zone.clone())
        .bind(series.first_starts_at)
        .bind(series.length_ms)
        .bind(series.message.clone())
        .bind(serde_json::to_string(&series.warn_before).expect("numbers serialise"))
        .bind(series.freeze_before)
        .bind(i64::from(series.keep_admins))
        .bind(actor.user_id.to_string())
        .bind(actor.username.clone())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let id = insert_window(
            &mut tx,
            self.backend(),
            actor,
            &first.window,
            Some((series_id, first.at)),
            now,
        )
        .await?;
        let mut record = AuditRecord::new(now, actor, AuditAction::ScheduleMaintenance).window(id);
        record.reason_text = Some(first.words.clone());
        insert_audit(&mut tx, &record).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The series of these ids.
    pub async fn series_of(&self, ids: &[Uuid]) -> sqlx::Result<Vec<SeriesRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {SERIES_COLUMNS} FROM maintenance_series WHERE id IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(id.to_string());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(series_row)
            .collect()
    }

    /// Cancels a series: no occurrence is created any more, and its scheduled ones are
    /// cancelled with their pending steps (a running one runs on until it ends). Audited
    /// once per cancelled occurrence, with `words`. Returns the cancelled windows' ids.
    pub async fn cancel_series(
        &self,
        actor: &Actor,
        id: Uuid,
        words: &str,
        now: i64,
    ) -> Result<Vec<Uuid>, WindowError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE maintenance_series SET state = 'cancelled', finished_at = $1 WHERE id = $2 AND state = 'active'",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            let state = sqlx::query("SELECT state FROM maintenance_series WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match state {
                None => WindowError::NotFound,
                Some(_) => WindowError::WrongState(WindowState::Cancelled),
            });
        }
        let windows: Vec<Uuid> = sqlx::query(
            "SELECT id FROM maintenance_windows WHERE series_id = $1 AND state = 'scheduled'",
        )
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| uuid_col(r, "id"))
        .collect::<sqlx::Result<_>>()?;
        for window in &windows {
            sqlx::query(
                "UPDATE maintenance_windows SET state = 'cancelled', finished_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(window.to_string())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE maintenance_steps SET state = 'cancelled', ran_at = $1 \
                 WHERE window_id = $2 AND state = 'pending'",
            )
            .bind(now)
            .bind(window.to_string())
            .execute(&mut *tx)
            .await?;
        }
        let mut record = AuditRecord::new(now, actor, AuditAction::CancelMaintenance);
        if let Some(window) = windows.first() {
            record = record.window(*window);
        }
        record.reason_text = Some(words.to_owned());
        insert_audit(&mut tx, &record).await?;
        tx.commit().await?;
        Ok(windows)
    }
}
