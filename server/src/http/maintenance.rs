//! Maintenance windows (`/admin/maintenance`) and the administrators' event stream
//! (`/admin/events`). Scheduling needs `force_logout`; the rules are in
//! [`crate::core::maintenance`], and every change is audited by the store.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use curfew::api::{
    ErrorBody, MaintenanceChange, MaintenanceList, MaintenanceRequest, MaintenanceSeries,
    MaintenanceWindow, Notice, SeriesRequest,
};
use curfew::routes;
use futures_util::{stream, Stream};

use super::extract::{ApiJson, ForceLogout, IdPath};
use crate::core::{AppResult, AppState};

/// Schedules a window; warnings, freeze, logout and end run on the server.
#[utoipa::path(post, path = routes::SCHEDULE_MAINTENANCE.path, context_path = routes::API_PREFIX, tag = "maintenance",
    request_body = MaintenanceRequest,
    responses((status = 201, body = MaintenanceWindow, links(
                  ("cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/id")), description = "cancel this window before it starts")),
                  ("end" = (operation_id = "end", parameters(("id" = "$response.body#/id")), description = "end this window once it runs")))),
              (status = 400, body = ErrorBody, description = "starts_in_past, starts_too_late, ends_before_start, window_too_long, empty_message, message_too_long, invalid_message, too_many_warnings, invalid_warning, invalid_freeze, invalid_json or invalid_body"),
              (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "window_overlaps: overlaps another window")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    ApiJson(request): ApiJson<MaintenanceRequest>,
) -> AppResult<(StatusCode, Json<MaintenanceWindow>)> {
    let window = state.schedule_window(&caller.actor(), &request).await?;
    Ok((StatusCode::CREATED, Json(window)))
}

/// Upcoming and running windows, then the latest finished ones.
#[utoipa::path(get, path = routes::MAINTENANCE.path, context_path = routes::API_PREFIX, tag = "maintenance",
    responses((status = 200, body = MaintenanceList, links(
                  ("cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/windows/0/id")), description = "cancel the first window listed")),
                  ("end" = (operation_id = "end", parameters(("id" = "$response.body#/windows/0/id")), description = "end the first window listed")))),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ForceLogout(_caller): ForceLogout,
) -> AppResult<Json<MaintenanceList>> {
    Ok(Json(state.windows().await?))
}

/// Cancels a window before it starts; users are told.
#[utoipa::path(delete, path = routes::CANCEL_MAINTENANCE.path, context_path = routes::API_PREFIX, tag = "maintenance",
    params(("id" = Uuid, Path, description = "the window's id")),
    responses((status = 200, body = MaintenanceWindow), (status = 400, body = ErrorBody, description = "invalid_id: not a UUID"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "window_not_found"),
              (status = 409, body = ErrorBody, description = "window_running (end it instead) or window_finished")),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    IdPath(id): IdPath,
) -> AppResult<Json<MaintenanceWindow>> {
    Ok(Json(state.cancel_window(&caller.actor(), id).await?))
}

/// Ends a running window now: sign-ins reopen.
#[utoipa::path(post, path = routes::END_MAINTENANCE.path, context_path = routes::API_PREFIX, tag = "maintenance",
    params(("id" = Uuid, Path, description = "the window's id")),
    responses((status = 200, body = MaintenanceWindow), (status = 400, body = ErrorBody, description = "invalid_id: not a UUID"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "window_not_found"),
              (status = 409, body = ErrorBody, description = "window_not_started (cancel it instead) or window_finished")),
    security(("bearer" = [])))]
pub async fn end(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    IdPath(id): IdPath,
) -> AppResult<Json<MaintenanceWindow>> {
    Ok(Json(state.end_window(&caller.actor(), id).await?))
}

/// What happens, as it happens: warnings sent, freeze, mass logout, end, cancel, failures.
/// Ends with `session_revoked` when the administrator's own session is revoked.
#[utoipa::path(get, path = routes::ADMIN_EVENTS.path, context_path = routes::API_PREFIX, tag = "maintenance",
    responses((status = 200, content_type = "text/event-stream", description = "events: warning_sent, freeze_started, mass_logout_done, window_ended, window_cancelled, step_failed, session_revoked"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "too_many_streams: this sign-in or user holds as many streams as allowed; see Retry-After"),
              (status = 503, body = ErrorBody, description = "busy (the server holds as many streams as it can) or unavailable (no database); see Retry-After")),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let events = state.events.subscribe();
    let (subscription, notices) = state
        .open_stream(caller.session_id, caller.user_id, false)
        .await?;
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

/// Schedules a repeating window: its first occurrence now, each next one as the previous
/// starts or is cancelled.
#[utoipa::path(post, path = routes::SCHEDULE_SERIES.path, context_path = routes::API_PREFIX, tag = "maintenance",
    request_body = SeriesRequest,
    responses((status = 201, body = MaintenanceWindow, description = "the first occurrence, with its series", links(
                  ("cancel_series" = (operation_id = "cancel_series", parameters(("id" = "$response.body#/id")), description = "cancel the whole series")))),
              (status = 400, body = ErrorBody, description = "the window's codes (starts_in_past, …, invalid_freeze), repeat_needs_end, invalid_repeat, repeat_unsupported, repeat_unbounded, repeat_too_long, repeat_empty, repeat_overlaps_itself, unknown_time_zone, invalid_json or invalid_body"),
              (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "window_overlaps: the first occurrence overlaps another window")),
    security(("bearer" = [])))]
pub async fn create_series(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    ApiJson(request): ApiJson<SeriesRequest>,
) -> AppResult<(StatusCode, Json<MaintenanceWindow>)> {
    let window = state.schedule_series(&caller.actor(), &request).await?;
    Ok((StatusCode::CREATED, Json(window)))
}

/// Cancels the repeating window that this window is an occurrence of: its scheduled
/// occurrence is cancelled (users are told) and no other follows; a running occurrence
/// runs until it ends.
#[utoipa::path(delete, path = routes::CANCEL_SERIES.path, context_path = routes::API_PREFIX, tag = "maintenance",
    params(("id" = Uuid, Path, description = "the id of one of its occurrences")),
    responses((status = 200, body = MaintenanceSeries), (status = 400, body = ErrorBody, description = "invalid_id: not a UUID"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "window_not_found"),
              (status = 409, body = ErrorBody, description = "window_not_repeating (cancel the window instead), or series_finished: already cancelled or no occurrence left")),
    security(("bearer" = [])))]
pub async fn cancel_series(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    IdPath(id): IdPath,
) -> AppResult<Json<MaintenanceSeries>> {
    Ok(Json(state.cancel_series(&caller.actor(), id).await?))
}

/// Moves or edits a window that has not started: new times, message, warnings and freeze.
/// Its steps are planned again; users already warned are told the new time.
#[utoipa::path(patch, path = routes::MOVE_MAINTENANCE.path, context_path = routes::API_PREFIX, tag = "maintenance",
    params(("id" = Uuid, Path, description = "the window's id")),
    request_body = MaintenanceChange,
    responses((status = 200, body = MaintenanceWindow),
              (status = 400, body = ErrorBody, description = "invalid_id, or the window's codes: starts_in_past, starts_too_late, ends_before_start, window_too_long, empty_message, message_too_long, invalid_message, too_many_warnings, invalid_warning, invalid_freeze, invalid_json or invalid_body"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "window_not_found"),
              (status = 409, body = ErrorBody, description = "window_running (it has started), window_finished, or window_overlaps")),
    security(("bearer" = [])))]
pub async fn change(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    IdPath(id): IdPath,
    ApiJson(change): ApiJson<MaintenanceChange>,
) -> AppResult<Json<MaintenanceWindow>> {
    Ok(Json(
        state.change_window(&caller.actor(), id, &change).await?,
    ))
}
