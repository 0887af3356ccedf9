//! The gate's routes under `/.curfew/` (see [`curfew::gate`]): the checks nginx, Caddy and
//! Traefik call on every request, the sign-in and maintenance pages, the banner script and
//! its notice stream. The rules are the core's ([`crate::core::gate`]); this module reads
//! the request (host, scheme, cookie, origin) and writes each proxy's shape of answer.
//!
//! The host and scheme come from the `Host` header, and from `X-Forwarded-Host` /
//! `X-Forwarded-Proto` only when curfewd trusts its proxy (`--trust-forwarded-for`). The
//! session token travels only in the cookie and is never logged.

mod assets;
mod pages;
mod sign_in;

use std::net::IpAddr;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use curfew::gate;

use super::extract::{client_address, UserAgent};
use crate::core::caller::Caller;
use crate::core::gate::{CookieKind, Verdict};
use crate::core::{AppError, AppResult, AppState};

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
}

/// A request to the gate: which served host, over which scheme, from where, with which
/// session cookie.
pub struct GateRequest {
    pub host: String,
    pub cookie: CookieKind,
    pub token: Option<String>,
    pub address: IpAddr,
    pub user_agent: Option<String>,
    origin: Option<String>,
    fetch_site: Option<String>,
}

impl GateRequest {
    /// Refuses a state-changing request from another site (CSRF, login CSRF included).
    pub fn require_same_origin(&self) -> AppResult<()> {
        if crate::core::gate::same_origin(
            self.origin.as_deref(),
            self.fetch_site.as_deref(),
            &self.host,
        ) {
            return Ok(());
        }
        tracing::warn!(host = %self.host, origin = ?self.origin, fetch_site = ?self.fetch_site, address = %self.address, "cross-site request to the gate refused");
        Err(AppError::forbidden(
            "cross_site",
            "This form was sent from another site, so Curfew did not act on it. Open the \
             app at its usual address and try again there.",
        ))
    }
}

impl FromRequestParts<AppState> for GateRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let headers = &parts.headers;
        let trusted = state.config.trust_forwarded_for;
        let forwarded = |name: &str| {
            trusted
                .then(|| last_value(headers, name))
                .flatten()
                .map(str::to_owned)
        };
        let host = forwarded("x-forwarded-host").or_else(|| text(headers, header::HOST.as_str()));
        let brand = &state.config.gate.brand_name;
        let host = state
            .gate_host(host.as_deref())
            .map(str::to_owned)
            .map_err(|e| page_for(e, brand))?;
        let secure =
            forwarded("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
        let cookie = state
            .gate_cookie(&host, secure)
            .map_err(|e| page_for(e, brand))?;
        let token = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == cookie.name)
            .map(|c| c.value().to_owned());
        let UserAgent(user_agent) = UserAgent::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(GateRequest {
            host,
            cookie,
            token,
            address: client_address(parts, state),
            user_agent,
            origin: text(&parts.headers, header::ORIGIN.as_str()),
            fetch_site: text(&parts.headers, "sec-fetch-site"),
        })
    }
}

fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

/// The last value of a header a proxy appends to (`X-Forwarded-*`): the one it wrote.
fn last_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let line = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    Some(line.rsplit(',').next()?.trim()).filter(|v| !v.is_empty())
}

/// A refusal as a page for a browser.
fn page_for(error: AppError, brand: &str) -> Response {
    match error {
        AppError::Client {
            kind, ref message, ..
        } => {
            let status = super::error::status_of(kind);
            pages::refusal(status, brand, "Curfew cannot open this app", message)
        }
        internal => internal.into_response(),
    }
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
    if let Some(email) = &caller.email {
        add(gate::REMOTE_EMAIL, email);
    }
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
