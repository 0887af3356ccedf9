//! Repeating maintenance: what a valid series is, which occurrence comes next, and what
//! scheduling and cancelling a series tell. The rule itself is read and expanded by
//! [`curfew::recurrence`] (the `rrule` crate), the same code the app previews with.
//!
//! Rules kept here: a series has an end time (each occurrence ends on its own) and its
//! occurrences never overlap each other; every occurrence is an ordinary window made from
//! the series' template, planned as of the moment it is created; the next occurrence is
//! created when the previous one starts or is cancelled, in that transaction (see
//! [`crate::store::series`]), so each occurrence exists, and runs, once.

use curfew::api::{AdminEvent, MaintenanceSeries, MaintenanceWindow, Repeat, SeriesRequest};
use curfew::limits::{NEXT_OCCURRENCES_SHOWN, STARTS_AHEAD_MAX};
use curfew::recurrence::Recurrence;
use uuid::Uuid;

use super::maintenance::{plan_steps, validate, window_error};
use super::signal::Signal;
use super::{notices, AppError, AppResult, AppState};
use crate::store::{
    from_millis, millis, Actor, NewSeries, NewWindow, Occurrence, SeriesRow, WindowError,
};

fn repeat_of(series: &NewSeries) -> Repeat {
    Repeat {
        rule: series.rule.clone(),
        time_zone: series.time_zone.clone(),
    }
}

/// The series' rule expanded from its first start; `None` if it no longer reads (a time
/// zone gone from the database): then no occurrence follows.
fn recurrence(series: &NewSeries) -> Option<Recurrence> {
    match Recurrence::parse(&repeat_of(series), from_millis(series.first_starts_at)) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::error!(rule = %series.rule, zone = %series.time_zone, error = %e.message, "a stored repeat rule no longer reads");
            None
        }
    }
}

/// The occurrences after the rule's start `after`, still to come at `now` and within the
/// scheduling horizon, each as the window it would be if created now.
pub fn next_occurrences(series: &SeriesRow, after: i64, now: i64) -> Vec<Occurrence> {
    let Some(recurrence) = recurrence(&series.series) else {
        return Vec::new();
    };
    let total = recurrence.starts().len();
    let t = &series.series;
    recurrence
        .starts()
        .iter()
        .enumerate()
        .map(|(i, s)| (i, millis(*s)))
        .filter(|(_, at)| *at > after && *at > now)
        .take_while(|(_, at)| at - now <= STARTS_AHEAD_MAX * 1000)
        .map(|(i, at)| Occurrence {
            at,
            window: NewWindow {
                starts_at: at,
                ends_at: Some(at + t.length_ms),
                message: t.message.clone(),
                warn_before: t.warn_before.clone(),
                freeze_before: t.freeze_before,
                keep_admins: t.keep_admins,
                steps: plan_steps(
                    at,
                    Some(at + t.length_ms),
                    &t.warn_before,
                    t.freeze_before,
                    now,
                ),
            },
            words: format!(
                "occurrence {} of {total} of the repeating maintenance {}",
                i + 1,
                recurrence.description()
            ),
        })
        .collect()
}

/// Checks a series request: the window's own rules, an end, a readable rule within the
/// limits whose occurrences do not overlap each other. Returns the series and its first
/// occurrence.
pub fn validate_series(request: &SeriesRequest, now: i64) -> AppResult<(NewSeries, Occurrence)> {
    let bad = |code, message: String| Err(AppError::bad_request(code, message));
    let window = validate(&request.window, now)?;
    let Some(ends_at) = window.ends_at else {
        return bad(
            "repeat_needs_end",
            "A repeating maintenance needs an end time: each occurrence ends on its own.".into(),
        );
    };
    let recurrence = Recurrence::parse(&request.repeat, request.window.starts_at)
        .map_err(|e| AppError::bad_request(e.code, e.message))?;
    let length_ms = ends_at - window.starts_at;
    if recurrence
        .shortest_gap_ms()
        .is_some_and(|gap| gap < length_ms)
    {
        return bad(
            "repeat_overlaps_itself",
            "Each occurrence would still run when the next one starts: shorten the window or space the days out.".into(),
        );
    }
    let series = NewSeries {
        rule: request.repeat.rule.trim().to_owned(),
        time_zone: request.repeat.time_zone.trim().to_owned(),
        first_starts_at: millis(recurrence.starts()[0]),
        length_ms,
        message: window.message,
        warn_before: window.warn_before,
        freeze_before: window.freeze_before,
        keep_admins: window.keep_admins,
    };
    let row = SeriesRow {
        id: Uuid::nil(),
        state: curfew::api::SeriesState::Active,
        created_by: Uuid::nil(),
        created_by_username: String::new(),
        series: series.clone(),
    };
    let Some(first) = next_occurrences(&row, i64::MIN, now).into_iter().next() else {
        return bad(
            "starts_too_late",
            "The first occurrence is more than a year away.".into(),
        );
    };
    let mut first = first;
    first.words = format!(
        "a repeating maintenance {}, in {}",
        recurrence.description(),
        series.time_zone
    );
    Ok((series, first))
}

impl AppState {
    /// Schedules a repeating window: the series and its first occurrence, unless that
    /// overlaps another window.
    pub async fn schedule_series(
        &self,
        actor: &Actor,
        request: &SeriesRequest,
    ) -> AppResult<MaintenanceWindow> {
        let now = crate::now_ms();
        let (series, first) = validate_series(request, now)?;
        let id = self
            .store
            .create_series(actor, &series, &first, now)
            .await
            .map_err(|e| window_error(e, Uuid::nil()))?;
        self.scheduler_wake.notify_one();
        self.freezes.forget();
        tracing::info!(actor = %actor.username, window = %id, rule = %series.rule, "scheduled repeating maintenance");
        self.audited(curfew::api::AuditAction::ScheduleMaintenance)
            .await;
        self.window(id).await
    }

    /// Cancels the series that window `window_id` is an occurrence of: its scheduled
    /// occurrence is cancelled (users told) and no other follows. A running occurrence
    /// runs on until it ends.
    pub async fn cancel_series(
        &self,
        actor: &Actor,
        window_id: Uuid,
    ) -> AppResult<MaintenanceSeries> {
        let Some(series) = self.window(window_id).await?.series else {
            return Err(AppError::conflict(
                "window_not_repeating",
                "This window does not repeat: cancel the window itself instead.",
            ));
        };
        let id = series.id;
        let row = self
            .store
            .series_of(&[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| series_not_found(id))?;
        let words = format!(
            "the whole repeating maintenance {}",
            recurrence(&row.series)
                .map(|r| r.description().to_owned())
                .unwrap_or_else(|| row.series.rule.clone())
        );
        let cancelled = self
            .store
            .cancel_series(actor, id, &words, crate::now_ms())
            .await
            .map_err(|e| match e {
                WindowError::NotFound => series_not_found(id),
                WindowError::WrongState(_) => AppError::conflict(
                    "series_finished",
                    "This repeating maintenance is already cancelled or has no occurrence left.",
                ),
                e => window_error(e, id),
            })?;
        self.freezes.forget();
        for window_id in cancelled {
            let window = self.window(window_id).await?;
            self.publish(Signal::Notice {
                notice: notices::cancelled(window_id, window.starts_at),
            })
            .await?;
            self.publish(Signal::Admin {
                event: AdminEvent::WindowCancelled { window_id },
            })
            .await?;
        }
        tracing::info!(actor = %actor.username, series = %id, "cancelled repeating maintenance");
        let row = self
            .store
            .series_of(&[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| series_not_found(id))?;
        let mut series = crate::store::series::series_stub(&row, None);
        series.description = words;
        series.next = Vec::new();
        Ok(series)
    }

    /// Fills in a window's series from the store's stub (see
    /// [`crate::store::series::series_stub`]): the rule in words and its next starts.
    pub(super) fn complete_series(window: &mut MaintenanceWindow) {
        let own = (window.state == curfew::api::WindowState::Scheduled).then_some(window.starts_at);
        let Some(series) = window.series.as_mut() else {
            return;
        };
        let (Some(first), occurrence_at) =
            (series.next.first().copied(), series.next.get(1).copied())
        else {
            return;
        };
        let repeat = Repeat {
            rule: series.rule.clone(),
            time_zone: series.time_zone.clone(),
        };
        let Ok(recurrence) = Recurrence::parse(&repeat, first) else {
            series.next = own.into_iter().collect();
            return;
        };
        series.description = recurrence.description().to_owned();
        let after = occurrence_at.unwrap_or(first);
        series.next = if series.state == curfew::api::SeriesState::Active {
            own.into_iter()
                .chain(recurrence.after(after))
                .take(NEXT_OCCURRENCES_SHOWN)
                .collect()
        } else {
            own.into_iter().collect()
        };
    }
}

fn series_not_found(id: Uuid) -> AppError {
    AppError::not_found(
        "series_not_found",
        format!("No repeating maintenance has the id {id}."),
    )
}
