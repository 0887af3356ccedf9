//! A request to the gate as the core needs it: the served host, the scheme (hence the
//! cookie's name), the session token from that cookie, the client's address and browser,
//! and where a state-changing request came from. A request for a host the gate does not
//! serve, or a session over plain HTTP off loopback, is answered with a page here.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use super::pages;
use crate::core::gate::CookieKind;
use crate::core::{AppError, AppResult, AppState};
use crate::http::extract::{client_address, UserAgent};

/// A request to the gate: which served host, over which scheme, from where, with which
/// session cookie.
pub struct GateRequest {
    pub host: String,
    pub cookie: CookieKind,
    pub token: Option<String>,
    /// The cookie of a sign-in on its way through an identity provider.
    pub sign_in_browser: Option<String>,
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
        let cookies: Vec<(String, String)> = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect();
        let find = |name: &str| {
            cookies
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let token = find(cookie.name);
        let sign_in_browser = find(&sign_in_cookie_name(cookie));
        let UserAgent(user_agent) = UserAgent::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(GateRequest {
            host,
            cookie,
            token,
            sign_in_browser,
            address: client_address(parts, state),
            user_agent,
            origin: text(&parts.headers, header::ORIGIN.as_str()),
            fetch_site: text(&parts.headers, "sec-fetch-site"),
        })
    }
}

/// The cookie that binds a sign-in through a provider to the browser that started it:
/// `__Host-` like the session's over HTTPS.
pub(super) fn sign_in_cookie_name(session: CookieKind) -> String {
    if session.secure {
        "__Host-curfew_oidc".to_owned()
    } else {
        "curfew_oidc".to_owned()
    }
}

impl GateRequest {
    /// `https://host` or `http://host`: this request's origin as the browser sees it.
    pub fn origin_url(&self) -> String {
        let scheme = if self.cookie.secure { "https" } else { "http" };
        format!("{scheme}://{}", self.host)
    }
}

pub(super) fn text(headers: &HeaderMap, name: &str) -> Option<String> {
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
pub(super) fn page_for(error: AppError, brand: &str) -> Response {
    match error {
        AppError::Client {
            kind, ref message, ..
        } => {
            let status = crate::http::error::status_of(kind);
            pages::refusal(status, brand, "Curfew cannot open this app", message)
        }
        internal => internal.into_response(),
    }
}
