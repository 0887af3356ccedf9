//! The gate's routes under `/.curfew/` (see [`curfew::gate`]): the checks nginx, Caddy and
//! Traefik call on every request, the sign-in and maintenance pages, the banner script and
//! its notice stream. The rules are the core's ([`crate::core::gate`]); this module reads
//! the request (host, scheme, cookie, origin) and writes each proxy's shape of answer.
//!
//! The host and scheme come from the `Host` header, and from `X-Forwarded-Host` /
//! `X-Forwarded-Proto` only when curfewd trusts its proxy (`--trust-forwarded-for`). The
//! session token travels only in the cookie and is never logged.

mod assets;
mod oidc;
mod pages;
mod request;
mod sign_in;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use curfew::gate;

use crate::core::caller::Caller;
use crate::core::gate::Verdict;
use crate::core::AppState;
use request::{page_for, text, GateRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(gate::AUTH, get(auth_request))
        .route(gate::FORWARD, get(forward_auth))
        .route(gate::SIGN_IN, get(sign_in::page).post(sign_in::submit))
        .route(gate::SIGN_OUT, post(sign_in::sign_out))
        .route(gate::BANNER, get(assets::banner))
        .route(gate::STYLE, get(assets::style))
        .route(gate::NOTICES, get(assets::notices))
        .route(gate::MAINTENANCE, get(maintenance))
        .route(gate::OIDC_START, get(oidc::start))
        .route(gate::OIDC_CALLBACK, get(oidc::callback))
        .route(
            gate::OIDC_BACKCHANNEL_LOGOUT,
            post(oidc::backchannel_logout),
        )
}

/// The identity headers the app receives.
fn identity(caller: &Caller) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = Vec::with_capacity(5);
    let mut add = |name: &'static str, value: &str| {
        // Display names are free text: one that is not a valid header value is left out
        // rather than mangled.
        if let Ok(value) = HeaderValue::from_str(value) {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            headers.push((name, value));
        }
    };
    add(gate::REMOTE_USER, &caller.username);
    add(gate::REMOTE_NAME, &caller.display_name);
    // Always all five headers, empty when unknown: a proxy that copies a header the
    // check did not answer may otherwise pass on its own placeholder (Caddy 2.6 does).
    add(
        gate::REMOTE_EMAIL,
        caller.email.as_deref().unwrap_or_default(),
    );
    add(gate::REMOTE_GROUPS, caller.role.as_str());
    add(gate::REMOTE_SESSION, &caller.session_id.to_string());
    headers
}

/// 200 with the identity; nothing is cached along the way.
fn pass(caller: &Caller) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    for (name, value) in identity(caller) {
        headers.insert(name, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// nginx `auth_request`: 200 with the identity, 401 without a live session (nginx turns
/// it into the redirect to sign in), 403 while maintenance keeps a non-administrator out
/// (nginx shows the maintenance page). nginx reads nothing else of the answer.
async fn auth_request(State(state): State<AppState>, request: GateRequest) -> Response {
    match state
        .gate_check(request.token.as_deref(), request.address)
        .await
    {
        Ok(Verdict::Pass(caller)) => pass(&caller),
        Ok(Verdict::SignIn(_)) => StatusCode::UNAUTHORIZED.into_response(),
        Ok(Verdict::Maintenance(now)) => (
            StatusCode::FORBIDDEN,
            [(header::RETRY_AFTER, now.retry_after.to_string())],
        )
            .into_response(),
        Err(fault) => fault.into_response(),
    }
}

/// Caddy `forward_auth` and Traefik `forwardAuth`: they pass a 2xx on with the copied
/// headers and hand anything else to the browser as it is, so the redirect to sign in and
/// the maintenance page are answered here.
async fn forward_auth(
    State(state): State<AppState>,
    request: GateRequest,
    headers: HeaderMap,
) -> Response {
    let brand = &state.config.gate.brand_name;
    match state
        .gate_check(request.token.as_deref(), request.address)
        .await
    {
        Ok(Verdict::Pass(caller)) => pass(&caller),
        Ok(Verdict::SignIn(_)) => {
            let uri = text(&headers, gate::FORWARDED_URI).unwrap_or_else(|| "/".into());
            sign_in::redirect_to_sign_in(&uri)
        }
        Ok(Verdict::Maintenance(now)) => pages::maintenance(brand, &now),
        Err(fault) => page_for(fault, brand),
    }
}

/// The maintenance page: 503 with `Retry-After` while maintenance is on.
async fn maintenance(State(state): State<AppState>, _request: GateRequest) -> Response {
    let brand = &state.config.gate.brand_name;
    match state.maintenance_now().await {
        Ok(Some(now)) => pages::maintenance(brand, &now),
        Ok(None) => pages::no_maintenance(brand),
        Err(fault) => page_for(fault, brand),
    }
}
