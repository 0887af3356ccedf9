//! Maintenance windows (`/admin/maintenance`) and the administrators' event stream
//! (`/admin/events`). Scheduling needs `force_logout`; every change is audited.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use curfew::api::{
    AdminEvent, ErrorBody, MaintenanceCancelled, MaintenanceList, MaintenanceRequest,
    MaintenanceWindow, Notice, StepKind, WindowState,
};
use futures_util::{stream, Stream};
use uuid::Uuid;

use super::extract::{ApiJson, ForceLogout, IdPath};
use super::AppState;
use crate::cluster::Signal;
use crate::error::{AppError, AppResult};
use crate::store::{millis, NewWindow, WindowError};

pub const MESSAGE_MAX: usize = 500;
const WARNINGS_MAX: usize = 10;
const OFFSET_MAX: i64 = 7 * 24 * 3600;
const AHEAD_MAX_MS: i64 = 366 * 24 * 3600 * 1000;
const LENGTH_MAX_MS: i64 = 30 * 24 * 3600 * 1000;

/// The steps of a window created at `now`. Warnings whose moment has already passed are
/// folded into one warning sent at once (a window 3 minutes away warns now, then at 1).
pub fn plan_steps(
    starts_at: i64,
    ends_at: Option<i64>,
    warn_before: &[i64],
    freeze_before: i64,
    now: i64,
) -> Vec<(StepKind, i64, i64)> {
    let mut offsets: Vec<i64> = warn_before.to_vec();
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    offsets.dedup();
    let mut steps = Vec::new();
    let passed: Vec<i64> = offsets
        .iter()
        .copied()
        .filter(|o| starts_at - o * 1000 <= now)
        .collect();
    if let Some(closest) = passed.iter().min() {
        steps.push((StepKind::Warning, *closest, now));
    }
    for offset in offsets.iter().filter(|o| !passed.contains(o)) {
        steps.push((StepKind::Warning, *offset, starts_at - offset * 1000));
    }
    steps.push((
        StepKind::Freeze,
        0,
        (starts_at - freeze_before * 1000).max(now),
    ));
    steps.push((StepKind::Logout, 0, starts_at));
    if let Some(ends_at) = ends_at {
        steps.push((StepKind::End, 0, ends_at));
    }
    steps
}

fn validate(request: &MaintenanceRequest, now: i64) -> AppResult<NewWindow> {
    let bad = |code, message: String| Err(AppError::bad_request(code, message));
    let starts_at = millis(request.starts_at);
    if starts_at <= now {
        return bad(
            "starts_in_past",
            "The start time is in the past. Choose a time in the future.".into(),
        );
    }
    if starts_at - now > AHEAD_MAX_MS {
        return bad(
            "starts_too_late",
            "The start time is more than a year away.".into(),
        );
    }
    let ends_at = request.ends_at.map(millis);
    if let Some(ends_at) = ends_at {
        if ends_at <= starts_at {
            return bad(
                "ends_before_start",
                "The end time must be after the start time.".into(),
            );
        }
        if ends_at - starts_at > LENGTH_MAX_MS {
            return bad(
                "window_too_long",
                "A maintenance window may last at most 30 days.".into(),
            );
        }
    }
    let message = request.message.trim();
    if message.is_empty() {
        return bad(
            "empty_message",
            "Write the message users will see, such as \"System update: save your work\".".into(),
        );
    }
    if message.chars().count() > MESSAGE_MAX {
        return bad(
            "message_too_long",
            format!("The message is longer than {MESSAGE_MAX} characters; shorten it."),
        );
    }
    if message.chars().any(|c| c.is_control() && c != '\n') {
        return bad(
            "invalid_message",
            "The message contains control characters.".into(),
        );
    }
    if request.warn_before.len() > WARNINGS_MAX {
        return bad(
            "too_many_warnings",
            format!("Give at most {WARNINGS_MAX} warning times."),
        );
    }
    if let Some(o) = request
        .warn_before
        .iter()
        .find(|o| !(1..=OFFSET_MAX).contains(*o))
    {
        return bad(
            "invalid_warning",
            format!("The warning time {o} s is out of range: use 1 s to 7 days before the start."),
        );
    }
    if !(0..=24 * 3600).contains(&request.freeze_before) {
        return bad(
            "invalid_freeze",
            "Freeze sign-ins 0 s to 24 h before the start.".into(),
        );
    }
    let mut warn_before = request.warn_before.clone();
    warn_before.sort_unstable_by(|a, b| b.cmp(a));
    warn_before.dedup();
    Ok(NewWindow {
        starts_at,
        ends_at,
        message: message.to_owned(),
        steps: plan_steps(starts_at, ends_at, &warn_before, request.freeze_before, now),
        warn_before,
        freeze_before: request.freeze_before,
        keep_admins: request.keep_admins,
    })
}

fn window_error(e: WindowError, id: Uuid) -> AppError {
    match e {
        WindowError::Overlaps(other) => AppError::conflict(
            "window_overlaps",
            format!("This window overlaps the maintenance window {other}. Change the times or cancel that window first."),
        ),
        WindowError::NotFound => AppError::not_found("window_not_found", format!("No maintenance window has the id {id}.")),
        WindowError::WrongState(WindowState::Running) => AppError::conflict(
            "window_running",
            "This window has started: it can no longer be cancelled. Use End now to reopen sign-ins.",
        ),
        WindowError::WrongState(WindowState::Scheduled) => AppError::conflict(
            "window_not_started",
            "This window has not started yet: cancel it instead of ending it.",
        ),
        WindowError::WrongState(state) => AppError::conflict(
            "window_finished",
            format!("This window is already {}.", state.as_str()),
        ),
        WindowError::Database(e) => e.into(),
    }
}

async fn load(state: &AppState, id: Uuid) -> AppResult<MaintenanceWindow> {
    state
        .store
        .window(id)
        .await?
        .ok_or_else(|| window_error(WindowError::NotFound, id))
}

/// Schedules a window; warnings, freeze, logout and end run on the server.
#[utoipa::path(post, path = "/api/v1/admin/maintenance", tag = "maintenance",
    request_body = MaintenanceRequest,
    responses((status = 201, body = MaintenanceWindow), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "overlaps another window")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    ApiJson(request): ApiJson<MaintenanceRequest>,
) -> AppResult<(StatusCode, Json<MaintenanceWindow>)> {
    let now = crate::now_ms();
    let window = validate(&request, now)?;
    let id = Uuid::nil();
    let id = state
        .store
        .create_window(&caller.actor(), &window, now)
        .await
        .map_err(|e| window_error(e, id))?;
    state.scheduler_wake.notify_one();
    tracing::info!(actor = %caller.username, window = %id, "scheduled maintenance");
    Ok((StatusCode::CREATED, Json(load(&state, id).await?)))
}

/// Upcoming and running windows, then the latest finished ones.
#[utoipa::path(get, path = "/api/v1/admin/maintenance", tag = "maintenance",
    responses((status = 200, body = MaintenanceList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ForceLogout(_caller): ForceLogout,
) -> AppResult<Json<MaintenanceList>> {
    Ok(Json(MaintenanceList {
        windows: state.store.windows().await?,
    }))
}

/// Cancels a window before it starts; users are told.
#[utoipa::path(delete, path = "/api/v1/admin/maintenance/{id}", tag = "maintenance",
    params(("id" = Uuid, Path, description = "the window's id")),
    responses((status = 200, body = MaintenanceWindow), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    IdPath(id): IdPath,
) -> AppResult<Json<MaintenanceWindow>> {
    state
        .store
        .cancel_window(&caller.actor(), id, crate::now_ms())
        .await
        .map_err(|e| window_error(e, id))?;
    let window = load(&state, id).await?;
    state
        .publish(Signal::Notice {
            notice: Notice::MaintenanceCancelled(MaintenanceCancelled {
                window_id: id,
                message: format!(
                    "The maintenance planned for {} was cancelled.",
                    window.starts_at.format("%Y-%m-%d %H:%M UTC")
                ),
            }),
        })
        .await?;
    state
        .publish(Signal::Admin {
            event: AdminEvent::WindowCancelled { window_id: id },
        })
        .await?;
    tracing::info!(actor = %caller.username, window = %id, "cancelled maintenance");
    Ok(Json(window))
}

/// Ends a running window now: sign-ins reopen.
#[utoipa::path(post, path = "/api/v1/admin/maintenance/{id}/end", tag = "maintenance",
    params(("id" = Uuid, Path, description = "the window's id")),
    responses((status = 200, body = MaintenanceWindow), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn end(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    IdPath(id): IdPath,
) -> AppResult<Json<MaintenanceWindow>> {
    state
        .store
        .end_window_now(&caller.actor(), id, crate::now_ms())
        .await
        .map_err(|e| window_error(e, id))?;
    state
        .publish(Signal::Admin {
            event: AdminEvent::WindowEnded { window_id: id },
        })
        .await?;
    tracing::info!(actor = %caller.username, window = %id, "ended maintenance");
    Ok(Json(load(&state, id).await?))
}

/// What happens, as it happens: warnings sent, freeze, mass logout, end, cancel, failures.
/// Ends with `session_revoked` when the administrator's own session is revoked.
#[utoipa::path(get, path = "/api/v1/admin/events", tag = "maintenance",
    responses((status = 200, content_type = "text/event-stream", description = "events: warning_sent, freeze_started, mass_logout_done, window_ended, window_cancelled, step_failed, session_revoked"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let events = state.events.subscribe();
    let (subscription, notices) = state
        .hub
        .subscribe(caller.session_id, caller.user_id, false);
    let hello = stream::once(async { Ok(Event::default().comment("connected")) });
    let body = stream::unfold(
        (events, notices, Some(subscription)),
        |(mut events, mut notices, subscription)| async move {
            let subscription = subscription?;
            loop {
                tokio::select! {
                    event = events.recv() => match event {
                        Ok(event) => {
                            let sse = Event::default().event(event.event_name()).json_data(&event)
                                .unwrap_or_else(|_| Event::default().comment("unserialisable event"));
                            return Some((Ok(sse), (events, notices, Some(subscription))));
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                            let sse = Event::default().event("lagged").data(missed.to_string());
                            return Some((Ok(sse), (events, notices, Some(subscription))));
                        }
                        Err(_) => return None,
                    },
                    notice = notices.recv() => match notice {
                        Some(notice @ Notice::SessionRevoked(_)) => {
                            let sse = Event::default().event(notice.event_name()).json_data(&notice)
                                .unwrap_or_else(|_| Event::default().comment("unserialisable notice"));
                            return Some((Ok(sse), (events, notices, None)));
                        }
                        Some(_) => continue,
                        None => return None,
                    },
                }
            }
        },
    );
    Ok(Sse::new(futures_util::StreamExt::chain(hello, body))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passed_warnings_fold_into_one_sent_now() {
        let now = 1_000_000_000;
        let start = now + 180_000; // 3 minutes away
        let steps = plan_steps(start, Some(start + 60_000), &[3600, 900, 300, 60], 300, now);
        assert_eq!(
            steps,
            vec![
                (StepKind::Warning, 300, now),
                (StepKind::Warning, 60, start - 60_000),
                (StepKind::Freeze, 0, now),
                (StepKind::Logout, 0, start),
                (StepKind::End, 0, start + 60_000),
            ]
        );
    }

    #[test]
    fn future_warnings_keep_their_times() {
        let now = 0;
        let start = 7_200_000;
        let steps = plan_steps(start, None, &[60, 3600, 60], 300, now);
        assert_eq!(
            steps,
            vec![
                (StepKind::Warning, 3600, start - 3_600_000),
                (StepKind::Warning, 60, start - 60_000),
                (StepKind::Freeze, 0, start - 300_000),
                (StepKind::Logout, 0, start),
            ]
        );
    }
}
