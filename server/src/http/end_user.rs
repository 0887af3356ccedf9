//! Routes the organisation's app and web use: login, session check, own logout, notices.
//! Each maps its request to the core ([`crate::core::auth`]) and back.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use curfew::api::{ErrorBody, LoginRequest, LoginResponse, Notice, NoticeList, Session};
use curfew::routes;
use futures_util::{stream, Stream, StreamExt};

use super::extract::{ApiJson, Caller, ClientAddress, UserAgent};
use crate::core::{AppResult, AppState};

/// Sign in from the app or the web.
#[utoipa::path(post, path = routes::LOGIN.path, context_path = routes::API_PREFIX, tag = "end users",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ErrorBody, description = "missing_credentials, invalid_username, invalid_password, invalid_json or invalid_body"),
        (status = 401, body = ErrorBody, description = "invalid_credentials: wrong username or password"),
        (status = 403, body = ErrorBody, description = "account_deactivated"),
        (status = 429, body = ErrorBody, description = "rate_limited: too many attempts for this account or from this address; see Retry-After"),
        (status = 503, body = ErrorBody, description = "maintenance (sign-ins are frozen), busy (too many sign-ins being checked at once) or unavailable (no database); see Retry-After"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    UserAgent(user_agent): UserAgent,
    ApiJson(request): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    Ok(Json(
        state.login(request, address, user_agent.as_deref()).await?,
    ))
}

/// The caller's session, if it is live; 401 otherwise.
#[utoipa::path(get, path = routes::SESSION.path, context_path = routes::API_PREFIX, tag = "end users",
    responses((status = 200, body = Session), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn session(caller: Caller) -> Json<Session> {
    Json(caller.session())
}

/// Ends the caller's own session.
#[utoipa::path(post, path = routes::LOGOUT.path, context_path = routes::API_PREFIX, tag = "end users",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> AppResult<StatusCode> {
    state.logout_own(caller.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The notices in force now.
#[utoipa::path(get, path = routes::NOTICES.path, context_path = routes::API_PREFIX, tag = "end users",
    responses((status = 200, body = NoticeList), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn notices(
    State(state): State<AppState>,
    _caller: Caller,
) -> AppResult<Json<NoticeList>> {
    Ok(Json(NoticeList {
        notices: state.current_notices().await?,
    }))
}

/// The caller's notice stream (server-sent events). It ends after `session_revoked`;
/// clients must not reconnect after that event.
#[utoipa::path(get, path = routes::NOTICE_STREAM.path, context_path = routes::API_PREFIX, tag = "end users",
    responses((status = 200, content_type = "text/event-stream", description = "events: maintenance_warning, maintenance_cancelled, session_revoked (the last)"),
              (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "too_many_streams: this sign-in or user holds as many streams as allowed; poll GET /notices instead; see Retry-After"),
              (status = 503, body = ErrorBody, description = "busy (the server holds as many streams as it can) or unavailable (no database); see Retry-After")),
    security(("bearer" = [])))]
pub async fn notice_stream(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    stream_notices(state, caller.session_id, caller.user_id).await
}

/// The notices in force, then each new one, until the caller's session ends (the gate's
/// banner reads the same stream, authenticated by its cookie).
pub(super) async fn stream_notices(
    state: AppState,
    session_id: uuid::Uuid,
    user_id: uuid::Uuid,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (subscription, receiver) = state.open_stream(session_id, user_id, true).await?;
    let current: Vec<Result<Event, Infallible>> = state
        .current_notices()
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
