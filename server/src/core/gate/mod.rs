//! The gate: curfewd in front of an existing web app, behind the organisation's reverse
//! proxy. The proxy asks [`AppState::gate_check`] about every request; the answer is the
//! same session check as the contract's (revocation takes effect at the very next request,
//! on every instance), so a forced logout, a deactivation or a maintenance logout lands at
//! the user's next click.
//!
//! Rules kept here: the gate serves only the hosts it was configured for; a session cookie
//! travels over plain HTTP only on a loopback host; a return-to address is a path on the
//! same host or an address on a configured host, never anywhere else (no open redirect);
//! a cookie-authenticated request that changes state must come from the same origin;
//! during a maintenance freeze or window non-administrators get the maintenance answer,
//! administrators pass.

pub mod config;
pub mod freezes;

use std::net::IpAddr;
use std::sync::Arc;

use curfew::gate;

pub use config::GateConfig;
pub use freezes::{FreezeCache, FREEZES_FRESH_MS};

use super::caller::Caller;
use super::{AppError, AppResult, AppState, ErrorKind};

/// What the proxy is told about one request.
#[derive(Debug)]
pub enum Verdict {
    /// A live session: the app gets its identity.
    Pass(Caller),
    /// No live session: sign in first. The reason is for the log, not the page.
    SignIn(AppError),
    /// Maintenance keeps this non-administrator out.
    Maintenance(MaintenanceNow),
}

/// The maintenance in force: what the maintenance page says.
#[derive(Debug, Clone)]
pub struct MaintenanceNow {
    pub message: String,
    /// Unix milliseconds; `None`: until an administrator ends it.
    pub ends_at: Option<i64>,
    /// Seconds, for `Retry-After`.
    pub retry_after: u64,
}

/// Which session cookie a request uses, by scheme and host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieKind {
    pub name: &'static str,
    pub secure: bool,
}

impl AppState {
    /// The gate's answer for a request carrying `token` (from its cookie).
    pub async fn gate_check(&self, token: Option<&str>, address: IpAddr) -> AppResult<Verdict> {
        let Some(token) = token else {
            return Ok(Verdict::SignIn(AppError::unauthorized(
                "missing_session",
                "There is no Curfew session cookie.",
            )));
        };
        let caller = match self.authenticate(token, Some(address)).await {
            Ok(caller) => caller,
            Err(refused) if refused.kind() == Some(ErrorKind::Unauthenticated) => {
                return Ok(Verdict::SignIn(refused))
            }
            Err(fault) => return Err(fault),
        };
        if !caller.role.is_administrator() {
            if let Some(maintenance) = self.maintenance_now().await? {
                return Ok(Verdict::Maintenance(maintenance));
            }
        }
        Ok(Verdict::Pass(caller))
    }

    /// The maintenance freezing sign-ins now, if any. The windows come from a copy at
    /// most [`FREEZES_FRESH_MS`] old (dropped at once when a window changes here or on
    /// another instance), so the gate's check costs one query, the session's.
    pub async fn maintenance_now(&self) -> AppResult<Option<MaintenanceNow>> {
        let now = crate::now_ms();
        let spans = match self.freezes.fresh(now) {
            Some(spans) => spans,
            None => {
                let spans = Arc::new(self.store.freeze_spans(now).await?);
                self.freezes.keep(now, spans.clone());
                spans
            }
        };
        Ok(spans
            .iter()
            .find(|(from, ends_at, _)| *from <= now && ends_at.is_none_or(|end| end > now))
            .map(|(_, ends_at, message)| MaintenanceNow {
                message: message.clone(),
                ends_at: *ends_at,
                retry_after: ends_at
                    .map(|end| ((end - now) / 1000).max(1) as u64)
                    .unwrap_or(300),
            }))
    }

    /// `host` (the request's `Host`), if the gate serves it.
    pub fn gate_host<'a>(&self, host: Option<&'a str>) -> AppResult<&'a str> {
        let config = &self.config.gate;
        if config.hosts.is_empty() {
            return Err(AppError::not_found(
                "gate_off",
                "The gate is not enabled on this server. Start curfewd with --gate-host \
                 naming the hosts of the apps it guards.",
            ));
        }
        match host {
            Some(host) if config.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) => Ok(host),
            _ => Err(AppError::bad_request(
                "unknown_host",
                format!(
                    "This gate does not serve the host {}. Add it with --gate-host, or open \
                     the app at its usual address.",
                    host.unwrap_or("(none)")
                ),
            )),
        }
    }

    /// The session cookie for a request to `host` over HTTPS (`secure`) or plain HTTP.
    /// Plain HTTP carries the session only on a loopback host.
    pub fn gate_cookie(&self, host: &str, secure: bool) -> AppResult<CookieKind> {
        if secure {
            let name = if self.config.gate.cookie_domain.is_some() {
                gate::DOMAIN_COOKIE
            } else {
                gate::SECURE_COOKIE
            };
            return Ok(CookieKind { name, secure: true });
        }
        if is_loopback(host) {
            return Ok(CookieKind {
                name: gate::LOOPBACK_COOKIE,
                secure: false,
            });
        }
        Err(AppError::forbidden(
            "https_required",
            format!(
                "{host} reaches the gate over plain HTTP, which would send the session \
                 unencrypted. Serve the app over HTTPS (the proxy must set X-Forwarded-Proto, \
                 and curfewd run with --trust-forwarded-for)."
            ),
        ))
    }

    /// Where to go after signing in: `rd` if it is a path on this host or an address on a
    /// host the gate serves; `/` when there is none. Anything else is refused.
    pub fn return_to(&self, rd: Option<&str>) -> AppResult<String> {
        let rd = rd.map(str::trim).unwrap_or_default();
        if rd.is_empty() {
            return Ok("/".into());
        }
        if is_local_path(rd) {
            // Back to the sign-in page would loop.
            if rd.starts_with(gate::PREFIX) {
                return Ok("/".into());
            }
            return Ok(rd.to_owned());
        }
        if let Ok(url) = url::Url::parse(rd) {
            let host = url.host_str().map(|h| match url.port() {
                Some(port) => format!("{h}:{port}"),
                None => h.to_owned(),
            });
            let served = host.is_some_and(|host| {
                self.config
                    .gate
                    .hosts
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(&host))
            });
            if matches!(url.scheme(), "https" | "http") && url.username().is_empty() && served {
                return Ok(url.to_string());
            }
        }
        Err(AppError::bad_request(
            "invalid_return_to",
            "The address to go back to after signing in is not one of this organisation's \
             apps, so Curfew will not send you there. Open the app from its usual address \
             and sign in again.",
        ))
    }
}

/// Whether a cookie-authenticated request that changes state comes from the page's own
/// origin. Browsers send `Sec-Fetch-Site` (all current ones) and `Origin` on every POST;
/// a request with neither is refused, so a login form cannot be posted from elsewhere
/// either (login CSRF).
pub fn same_origin(origin: Option<&str>, fetch_site: Option<&str>, host: &str) -> bool {
    if let Some(site) = fetch_site {
        // "none": the user typed it or used a bookmark; never a form on another site.
        return matches!(site, "same-origin" | "none");
    }
    match origin {
        Some(origin) => url::Url::parse(origin).is_ok_and(|url| {
            let authority = match url.port() {
                Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_owned(),
            };
            authority.eq_ignore_ascii_case(host)
        }),
        None => false,
    }
}

/// A path on the same host: `/x`, never `//host` or `/\host` (browsers read both as
/// another host), never a control character.
fn is_local_path(rd: &str) -> bool {
    rd.starts_with('/')
        && !rd.starts_with("//")
        && !rd.starts_with("/\\")
        && !rd.chars().any(|c| c.is_control() || c == '\\')
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_with_and_without_ports() {
        for host in ["localhost", "127.0.0.1:8443", "[::1]:80", "LOCALHOST:3000"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["example.org", "10.0.0.1:80", "127.0.0.1.example.org"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn only_local_paths_are_paths() {
        assert!(is_local_path("/wiki/page?x=1#y"));
        for rd in [
            "//evil.example/",
            "/\\evil.example",
            "https://x/",
            "/a\nb",
            "/a\\b",
        ] {
            assert!(!is_local_path(rd), "{rd}");
        }
    }

    #[test]
    fn same_origin_reads_fetch_site_first_then_origin() {
        let host = "app.example.org";
        assert!(same_origin(None, Some("same-origin"), host));
        assert!(!same_origin(
            Some("https://app.example.org"),
            Some("cross-site"),
            host
        ));
        assert!(!same_origin(None, Some("same-site"), host));
        assert!(same_origin(Some("https://app.example.org"), None, host));
        assert!(!same_origin(Some("https://evil.example"), None, host));
        assert!(!same_origin(Some("null"), None, host));
        assert!(!same_origin(None, None, host));
        assert!(same_origin(
            Some("http://127.0.0.1:8080"),
            None,
            "127.0.0.1:8080"
        ));
    }
}
