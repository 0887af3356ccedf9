//! Routes the organisation's app and web use: login, session check, own logout, notices.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use curfew::api::{
    ErrorBody, LoginRequest, LoginResponse, Notice, NoticeList, RevocationReason, Session,
    UserStatus,
};
use futures_util::{stream, Stream, StreamExt};

use super::extract::{ApiJson, Caller, ClientAddress};
use super::AppState;
use crate::cluster::Signal;
use crate::error::{AppError, AppResult};
use crate::store::from_millis;
use crate::{secrets, validate};

fn session_of(caller: &Caller) -> Session {
    Session {
        id: caller.session_id,
        user_id: caller.user_id,
        username: caller.username.clone(),
        display_name: caller.display_name.clone(),
        role: caller.role,
        client: caller.client,
        created_at: from_millis(caller.created_at),
        expires_at: from_millis(caller.expires_at),
    }
}

/// Sign in from the app or the web.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "end users",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody, description = "wrong username or password"),
        (status = 403, body = ErrorBody, description = "account_deactivated"),
        (status = 429, body = ErrorBody, description = "too many attempts; see Retry-After"),
        (status = 503, body = ErrorBody, description = "maintenance: sign-ins are frozen; see Retry-After"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    validate::login_fields(&request.username, &request.password)?;
    let username = request.username.trim().to_lowercase();
    if let Err(wait) = state.limiter.check(address, &username) {
        return Err(AppError::rate_limited(
            wait,
            format!(
                "Too many sign-in attempts for this account or from this address. \
                 Wait {wait} seconds and try again."
            ),
        ));
    }
    let user = state.store.user_by_username(&username).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = request.password;
    let verified = tokio::task::spawn_blocking(move || {
        secrets::verify_password(&password, stored_hash.as_deref())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let user = match user {
        Some(user) if verified => user,
        _ => {
            return Err(AppError::unauthorized(
                "invalid_credentials",
                "Wrong username or password. Check both and try again.",
            ))
        }
    };
    if user.status == UserStatus::Deactivated {
        return Err(AppError::forbidden(
            "account_deactivated",
            "This account has been deactivated. Ask your administrator to reactivate it.",
        ));
    }
    let now = crate::now_ms();
    if !user.role.is_administrator() {
        if let Some(freeze) = state.store.active_freeze(now).await? {
            let (retry_after, until) = match freeze.ends_at {
                Some(ends_at) => (
                    ((ends_at - now) / 1000).max(1) as u64,
                    format!(" until {}", from_millis(ends_at).format("%H:%M UTC")),
                ),
                None => (300, String::new()),
            };
            return Err(AppError::Client {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "maintenance",
                message: format!(
                    "Sign-in is paused for maintenance{until}: {} Try again later.",
                    freeze.message
                ),
                retry_after: Some(retry_after),
            });
        }
    }
    let (token, token_hash) = secrets::new_token();
    let expires_at = now + state.config.session_ttl.as_millis() as i64;
    let session_id = state
        .store
        .insert_session(user.id, request.client, &token_hash, now, expires_at)
        .await?;
    tracing::info!(user = %user.username, session = %session_id, client = request.client.as_str(), "signed in");
    Ok(Json(LoginResponse {
        token,
        session: Session {
            id: session_id,
            user_id: user.id,
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            client: request.client,
            created_at: from_millis(now),
            expires_at: from_millis(expires_at),
        },
    }))
}

/// The caller's session, if it is live; 401 otherwise.
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "end users",
    responses((status = 200, body = Session), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn session(caller: Caller) -> Json<Session> {
    Json(session_of(&caller))
}

/// Ends the caller's own session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "end users",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> AppResult<StatusCode> {
    let now = crate::now_ms();
    state.store.end_own_session(caller.session_id, now).await?;
    state
        .publish(Signal::SessionEnded {
            session: caller.session_id,
            reason: RevocationReason::SignedOut,
            at: now,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The notices in force now.
#[utoipa::path(get, path = "/api/v1/notices", tag = "end users",
    responses((status = 200, body = NoticeList), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn notices(
    State(state): State<AppState>,
    _caller: Caller,
) -> AppResult<Json<NoticeList>> {
    Ok(Json(NoticeList {
        notices: current_notices(&state).await?,
    }))
}

/// Warnings of windows announced and not yet started, with the time left as of now.
async fn current_notices(state: &AppState) -> AppResult<Vec<Notice>> {
    let now = crate::now_ms();
    Ok(state
        .store
        .announced_windows(now)
        .await?
        .into_iter()
        .map(|(id, message, starts_at, ends_at)| {
            crate::scheduler::warning_notice(id, &message, starts_at, ends_at, now)
        })
        .collect())
}

/// The caller's notice stream (server-sent events). It ends after `session_revoked`;
/// clients must not reconnect after that event.
#[utoipa::path(get, path = "/api/v1/notices/stream", tag = "end users",
    responses((status = 200, content_type = "text/event-stream", description = "events: maintenance_warning, maintenance_cancelled, session_revoked (the last)"),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn notice_stream(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (subscription, receiver) = state.hub.subscribe(caller.session_id, caller.user_id, true);
    // A revocation that committed between the session check and the subscription would
    // otherwise wait for the next sweep.
    state.end_stale_streams(Some(caller.user_id)).await?;
    let current: Vec<Result<Event, Infallible>> = current_notices(&state)
        .await?
        .iter()
        .map(|notice| Ok(notice_event(notice)))
        .collect();
    let hello = stream::once(async { Ok(Event::default().comment("connected")) })
        .chain(stream::iter(current));
    let notices = stream::unfold(
        (receiver, Some(subscription)),
        |(mut receiver, subscription)| async move {
            let subscription = subscription?;
            let notice = receiver.recv().await?;
            let last = matches!(notice, Notice::SessionRevoked(_));
            Some((
                Ok(notice_event(&notice)),
                (receiver, (!last).then_some(subscription)),
            ))
        },
    );
    Ok(Sse::new(hello.chain(notices))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn notice_event(notice: &Notice) -> Event {
    Event::default()
        .event(notice.event_name())
        .json_data(notice)
        .unwrap_or_else(|_| Event::default().comment("unserialisable notice"))
}
