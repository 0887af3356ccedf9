//! What the gate serves into the app's own pages: the banner script (built into the
//! binary), the pages' style sheet, and the banner's notice stream, authenticated by the
//! session cookie instead of a bearer token.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::request::GateRequest;
use crate::core::{AppError, AppState};

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidated at every page load: a new curfewd's banner reaches pages at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub async fn banner() -> Response {
    asset(
        include_str!("../../../web/gate/banner.js"),
        "text/javascript; charset=utf-8",
    )
}

pub async fn style() -> Response {
    asset(
        include_str!("../../../web/gate/gate.css"),
        "text/css; charset=utf-8",
    )
}

/// The banner's server-sent events: the notices in force, then each new one; it ends
/// after `session_revoked`. Without a live session: 401 in the contract's shape.
pub async fn notices(State(state): State<AppState>, request: GateRequest) -> Response {
    let Some(token) = request.token.as_deref() else {
        return AppError::unauthorized(
            "missing_session",
            "You are not signed in to this app. Sign in again.",
        )
        .into_response();
    };
    let caller = match state.authenticate(token, Some(request.address)).await {
        Ok(caller) => caller,
        Err(refused) => return refused.into_response(),
    };
    match crate::http::end_user::stream_notices(state.clone(), caller.session_id, caller.user_id)
        .await
    {
        Ok(stream) => stream.into_response(),
        Err(refused) => refused.into_response(),
    }
}
