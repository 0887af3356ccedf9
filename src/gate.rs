//! The gate's facts, written once: the paths curfewd serves under a gated app's own host
//! (the reverse proxy routes [`PREFIX`] to curfewd, so the sign-in page, the banner
//! script and its notice stream are same-origin with the app, and cookies and a CSP of
//! `'self'` just work), the session cookie's names and the headers the proxy hands the
//! app. The proxy configurations under `deploy/` and the README name the same strings.

/// Every gate path starts with this; the proxy sends it to curfewd.
pub const PREFIX: &str = "/.curfew";

/// nginx `auth_request`: 200 with the identity headers, 401 without a live session,
/// 403 while maintenance keeps non-administrators out.
pub const AUTH: &str = "/.curfew/auth";
/// Caddy `forward_auth` and Traefik `forwardAuth`: 200 with the identity headers, a
/// redirect to the sign-in page without a live session, the maintenance page (503) during
/// maintenance.
pub const FORWARD: &str = "/.curfew/forward";
/// The sign-in page (GET) and its form (POST).
pub const SIGN_IN: &str = "/.curfew/sign-in";
/// Ends the gate session (POST, same-origin only).
pub const SIGN_OUT: &str = "/.curfew/sign-out";
/// The banner the proxy injects into the app's pages.
pub const BANNER: &str = "/.curfew/banner.js";
/// The sign-in and maintenance pages' style sheet.
pub const STYLE: &str = "/.curfew/gate.css";
/// The banner's notice stream (server-sent events, authenticated by the cookie).
pub const NOTICES: &str = "/.curfew/notices";
/// The page non-administrators get during maintenance.
pub const MAINTENANCE: &str = "/.curfew/maintenance";

/// Signing in through an identity provider: `/.curfew/oidc/<provider>/start` sends the
/// browser there, `…/callback` takes it back (the redirect URI to register),
/// `…/backchannel-logout` is where the provider ends sessions (the back-channel logout
/// URI to register).
pub const OIDC_START: &str = "/.curfew/oidc/{provider}/start";
pub const OIDC_CALLBACK: &str = "/.curfew/oidc/{provider}/callback";
pub const OIDC_BACKCHANNEL_LOGOUT: &str = "/.curfew/oidc/{provider}/backchannel-logout";

/// A gate path with its `{provider}` filled in.
pub fn for_provider(path: &str, provider: &str) -> String {
    path.replace("{provider}", provider)
}

/// The query parameter of the sign-in page that says where to go back to.
pub const RETURN_TO: &str = "rd";

/// The session cookie over HTTPS: bound to the app's host, never sent over plain HTTP.
pub const SECURE_COOKIE: &str = "__Host-curfew_session";
/// The session cookie over HTTPS when one cookie serves several subdomains (a cookie
/// domain is configured; `__Host-` forbids a domain).
pub const DOMAIN_COOKIE: &str = "__Secure-curfew_session";
/// The session cookie over plain HTTP, which curfewd allows only on a loopback host (the
/// demo and the tests).
pub const LOOPBACK_COOKIE: &str = "curfew_session";

/// Headers the check answers with, which the proxy passes on to the app.
pub const REMOTE_USER: &str = "Remote-User";
pub const REMOTE_NAME: &str = "Remote-Name";
pub const REMOTE_EMAIL: &str = "Remote-Email";
/// The user's role (admin, support or member).
pub const REMOTE_GROUPS: &str = "Remote-Groups";
/// The Curfew session's id (never its token).
pub const REMOTE_SESSION: &str = "Remote-Session";
/// Every identity header, for proxies that copy them by name.
pub const IDENTITY_HEADERS: &[&str] = &[
    REMOTE_USER,
    REMOTE_NAME,
    REMOTE_EMAIL,
    REMOTE_GROUPS,
    REMOTE_SESSION,
];

/// The original request's URI, as nginx's `auth_request` location passes it.
pub const ORIGINAL_URI: &str = "X-Original-URI";
/// The original request's URI, as Caddy's `forward_auth` and Traefik pass it.
pub const FORWARDED_URI: &str = "X-Forwarded-Uri";
