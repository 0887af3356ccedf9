//! A typed client for every route of the contract.
//!
//! Invariants: a bearer token is never written to a log or an error; plain `http://` is
//! accepted only for loopback hosts; only idempotent requests (GETs) are retried, so a
//! logout is never sent twice behind the caller's back.

use std::pin::Pin;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use reqwest::{header, Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::{Host, Url};
use uuid::Uuid;

use crate::api::*;
use crate::error::{Error, Result};
use crate::routes::{self, Route, Verb};

/// Time limits and retry policy of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Limit for one whole request and its answer (not for notice streams).
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Further attempts of an idempotent request after a transient failure.
    pub retries: usize,
    /// First back-off delay; it doubles with each retry.
    pub retry_delay: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            retries: 3,
            retry_delay: Duration::from_millis(200),
        }
    }
}

/// A connection to one curfewd, optionally signed in with a bearer token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The server's root, always ending in `/`.
    base: Url,
    token: Option<String>,
    options: ClientOptions,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Checks a server address an administrator typed: a valid http(s) URL, and `http://`
/// only for this computer, so that a token never crosses a network in clear text.
pub fn parse_server_url(input: &str) -> Result<Url> {
    let trimmed = input.trim();
    let mut url = Url::parse(trimmed).map_err(|_| Error::InvalidUrl(trimmed.to_owned()))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback {
                return Err(Error::InsecureUrl(
                    url.host_str().unwrap_or(trimmed).to_owned(),
                ));
            }
        }
        _ => return Err(Error::InvalidUrl(trimmed.to_owned())),
    }
    if url.host().is_none() || url.cannot_be_a_base() {
        return Err(Error::InvalidUrl(trimmed.to_owned()));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

impl Client {
    pub fn new(server: &str) -> Result<Self> {
        Self::with_options(server, ClientOptions::default())
    }

    pub fn with_options(server: &str, options: ClientOptions) -> Result<Self> {
        let base = parse_server_url(server)?;
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            // Notice streams have no overall limit, but a silent connection is dead: the
            // server sends a keep-alive comment every 15 s.
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!("curfew/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        Ok(Client {
            http,
            base,
            token: None,
            options,
        })
    }

    /// The same server, signed in with `token`.
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Client {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    pub fn server_url(&self) -> &Url {
        &self.base
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn url(&self, path: &str) -> Url {
        let relative = format!(
            "{}/{}",
            routes::API_PREFIX.trim_start_matches('/'),
            path.trim_start_matches('/')
        );
        self.base.join(&relative).expect("contract paths are valid")
    }

    /// A request for `route`, at `path` (the route's path with its ids filled in).
    fn request(&self, route: Route, path: &str) -> RequestBuilder {
        let method = match route.verb {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        };
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        req
    }

    fn transport_error(&self, e: reqwest::Error) -> Error {
        let url = self.base.as_str().trim_end_matches('/').to_owned();
        if e.is_timeout() {
            return Error::Timeout { url };
        }
        if let Some(detail) = tls_detail(&e) {
            return Error::Tls { url, detail };
        }
        if e.is_connect() {
            return Error::Unreachable { url };
        }
        if e.is_decode() {
            return Error::Decode(e.to_string());
        }
        Error::Transport(without_url(&e))
    }

    async fn send_once<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = req
            .timeout(self.options.request_timeout)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let resp = self.check(resp).await?;
        let bytes = resp.bytes().await.map_err(|e| self.transport_error(e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode(e.to_string()))
    }

    /// Turns a non-success answer into the typed error it carries.
    async fn check(&self, resp: reqwest::Response) -> Result<reqwest::Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let bytes = resp.bytes().await.unwrap_or_default();
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(Error::from_body(status.as_u16(), body, retry_after)),
            Err(_) => Err(Error::NotCurfew {
                url: self.base.as_str().trim_end_matches('/').to_owned(),
                status: status.as_u16(),
            }),
        }
    }

    /// An idempotent GET, retried with exponential back-off on transient failures.
    async fn get<T: DeserializeOwned>(&self, route: Route, query: &impl Serialize) -> Result<T> {
        self.get_at(route, route.path, query).await
    }

    /// [`Client::get`] at `path`: the route's path with its ids filled in.
    async fn get_at<T: DeserializeOwned>(
        &self,
        route: Route,
        path: &str,
        query: &impl Serialize,
    ) -> Result<T> {
        debug_assert_eq!(route.verb, Verb::Get);
        let attempt = || async { self.send_once(self.request(route, path).query(query)).await };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(self.options.retry_delay)
                    .with_max_times(self.options.retries),
            )
            .when(Error::is_transient)
            .await
    }

    /// A POST or DELETE: sent exactly once.
    async fn send<T: DeserializeOwned>(
        &self,
        route: Route,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T> {
        let mut req = self.request(route, path);
        if let Some(body) = body {
            req = req.json(body);
        }
        self.send_once(req).await
    }

    /// A POST or DELETE answered with no body (204): sent exactly once.
    async fn send_no_content(
        &self,
        route: Route,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<()> {
        let mut req = self.request(route, path);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .timeout(self.options.request_timeout)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        self.check(resp).await?;
        Ok(())
    }

    // End users.

    /// Signs in; the returned client carries the new session's token.
    pub async fn login(&self, request: &LoginRequest) -> Result<(Client, LoginResponse)> {
        let resp: LoginResponse = self
            .send(routes::LOGIN, routes::LOGIN.path, Some(request))
            .await?;
        Ok((self.with_token(resp.token.clone()), resp))
    }

    pub async fn session(&self) -> Result<Session> {
        self.get(routes::SESSION, &()).await
    }

    /// Ends this client's own session.
    pub async fn logout(&self) -> Result<()> {
        self.send_no_content(routes::LOGOUT, routes::LOGOUT.path, None::<&()>)
            .await
    }

    pub async fn notices(&self) -> Result<NoticeList> {
        self.get(routes::NOTICES, &()).await
    }

    async fn open_stream<T>(
        &self,
        route: Route,
        is_last: fn(&T) -> bool,
    ) -> Result<EventStream<T>> {
        let resp = self
            .request(route, route.path)
            .header(header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let resp = self.check(resp).await?;
        if resp.status() != StatusCode::OK {
            return Err(Error::Decode(format!(
                "unexpected status {}",
                resp.status()
            )));
        }
        Ok(EventStream {
            events: Box::pin(resp.bytes_stream().eventsource()),
            ended: false,
            is_last,
        })
    }

    /// Opens this session's notice stream (SSE).
    pub async fn notice_stream(&self) -> Result<NoticeStream> {
        self.open_stream(routes::NOTICE_STREAM, |n| {
            matches!(n, Notice::SessionRevoked(_))
        })
        .await
    }

    /// Opens the administrators' event stream (SSE); it ends if this session is revoked.
    pub async fn admin_events(&self) -> Result<EventStream<AdminEvent>> {
        self.open_stream(routes::ADMIN_EVENTS, |_| false).await
    }

    // Administrators.

    pub async fn admin_me(&self) -> Result<Me> {
        self.get(routes::ADMIN_ME, &()).await
    }

    pub async fn users(&self, query: &UserQuery) -> Result<UserPage> {
        self.get(routes::USERS, query).await
    }

    pub async fn session_summary(&self) -> Result<SessionSummary> {
        self.get(routes::SESSION_SUMMARY, &()).await
    }

    /// How many users match a search, filter and role, and the count on each chip.
    pub async fn user_counts(&self, matching: &UserMatch) -> Result<UserCounts> {
        self.get(routes::USER_COUNTS, matching).await
    }

    /// Logout selected: every live session of the selected users but this one ends
    /// (`dry_run`: only counted).
    pub async fn logout_selected(
        &self,
        selection: &UserSelection,
        dry_run: bool,
    ) -> Result<BulkResult> {
        let body = BulkRequest {
            selection: selection.clone(),
            dry_run,
        };
        self.send(routes::BULK_LOGOUT, routes::BULK_LOGOUT.path, Some(&body))
            .await
    }

    /// Deactivate selected (never the caller's own account; `dry_run`: only counted).
    pub async fn deactivate_selected(
        &self,
        selection: &UserSelection,
        dry_run: bool,
    ) -> Result<BulkResult> {
        let body = BulkRequest {
            selection: selection.clone(),
            dry_run,
        };
        self.send(
            routes::BULK_DEACTIVATE,
            routes::BULK_DEACTIVATE.path,
            Some(&body),
        )
        .await
    }

    /// Signs out every session idle for more than `days` days but this one (`dry_run`:
    /// only counted).
    pub async fn logout_idle(&self, days: u32, dry_run: bool) -> Result<IdleLogoutResult> {
        self.send(
            routes::LOGOUT_IDLE,
            routes::LOGOUT_IDLE.path,
            Some(&IdleLogoutRequest { days, dry_run }),
        )
        .await
    }

    pub async fn logout_user(&self, user_id: Uuid) -> Result<LogoutResult> {
        self.send(
            routes::LOGOUT_USER,
            &routes::LOGOUT_USER.with_id(user_id),
            None::<&()>,
        )
        .await
    }

    pub async fn logout_all(&self, keep_admins: bool) -> Result<LogoutResult> {
        self.send(
            routes::LOGOUT_ALL,
            routes::LOGOUT_ALL.path,
            Some(&LogoutAllRequest { keep_admins }),
        )
        .await
    }

    pub async fn deactivate(&self, user_id: Uuid) -> Result<UserStatusChange> {
        self.send(
            routes::DEACTIVATE_USER,
            &routes::DEACTIVATE_USER.with_id(user_id),
            None::<&()>,
        )
        .await
    }

    pub async fn activate(&self, user_id: Uuid) -> Result<UserStatusChange> {
        self.send(
            routes::ACTIVATE_USER,
            &routes::ACTIVATE_USER.with_id(user_id),
            None::<&()>,
        )
        .await
    }

    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage> {
        self.get(routes::AUDIT, query).await
    }

    /// Writes every entry the query selects to `out`, as the server streams them (no
    /// whole-file buffer), and says how many entries and bytes it wrote. Each chunk
    /// must come within the request timeout; the whole export has no limit.
    pub async fn export_audit(
        &self,
        query: &AuditExportQuery,
        out: &mut impl std::io::Write,
    ) -> Result<ExportedAudit> {
        let resp = self
            .request(routes::AUDIT_EXPORT, routes::AUDIT_EXPORT.path)
            .query(query)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let resp = self.check(resp).await?;
        let mut chunks = resp.bytes_stream();
        let mut count = RecordCount::new(query.format);
        let mut bytes = 0u64;
        loop {
            let chunk = tokio::time::timeout(self.options.request_timeout, chunks.next())
                .await
                .map_err(|_| Error::Timeout {
                    url: self.base.as_str().trim_end_matches('/').to_owned(),
                })?;
            let Some(chunk) = chunk else { break };
            let chunk = chunk.map_err(|e| self.transport_error(e))?;
            count.feed(&chunk);
            bytes += chunk.len() as u64;
            out.write_all(&chunk)
                .map_err(|e| Error::Write(e.to_string()))?;
        }
        out.flush().map_err(|e| Error::Write(e.to_string()))?;
        Ok(ExportedAudit {
            entries: count.records(),
            bytes,
        })
    }

    pub async fn schedule_maintenance(
        &self,
        request: &MaintenanceRequest,
    ) -> Result<MaintenanceWindow> {
        self.send(
            routes::SCHEDULE_MAINTENANCE,
            routes::SCHEDULE_MAINTENANCE.path,
            Some(request),
        )
        .await
    }

    pub async fn maintenance(&self) -> Result<MaintenanceList> {
        self.get(routes::MAINTENANCE, &()).await
    }

    pub async fn cancel_maintenance(&self, id: Uuid) -> Result<MaintenanceWindow> {
        self.send(
            routes::CANCEL_MAINTENANCE,
            &routes::CANCEL_MAINTENANCE.with_id(id),
            None::<&()>,
        )
        .await
    }

    pub async fn end_maintenance(&self, id: Uuid) -> Result<MaintenanceWindow> {
        self.send(
            routes::END_MAINTENANCE,
            &routes::END_MAINTENANCE.with_id(id),
            None::<&()>,
        )
        .await
    }

    /// Schedules a repeating window; the answer is its first occurrence.
    pub async fn schedule_series(&self, request: &SeriesRequest) -> Result<MaintenanceWindow> {
        self.send(
            routes::SCHEDULE_SERIES,
            routes::SCHEDULE_SERIES.path,
            Some(request),
        )
        .await
    }

    /// Cancels the repeating window that window `id` is an occurrence of: its scheduled
    /// occurrence and all that would follow.
    pub async fn cancel_series(&self, id: Uuid) -> Result<MaintenanceSeries> {
        self.send(
            routes::CANCEL_SERIES,
            &routes::CANCEL_SERIES.with_id(id),
            None::<&()>,
        )
        .await
    }

    /// Moves or edits a window that has not started; users already warned are told.
    pub async fn change_maintenance(
        &self,
        id: Uuid,
        change: &MaintenanceChange,
    ) -> Result<MaintenanceWindow> {
        self.send(
            routes::MOVE_MAINTENANCE,
            &routes::MOVE_MAINTENANCE.with_id(id),
            Some(change),
        )
        .await
    }

    /// Creates an account.
    pub async fn create_user(&self, request: &NewUserRequest) -> Result<AdminUser> {
        self.send(routes::CREATE_USER, routes::CREATE_USER.path, Some(request))
            .await
    }

    /// Changes an account's display name, email or role.
    pub async fn update_user(&self, user_id: Uuid, update: &UserUpdate) -> Result<AdminUser> {
        self.send(
            routes::UPDATE_USER,
            &routes::UPDATE_USER.with_id(user_id),
            Some(update),
        )
        .await
    }

    /// Sets a new password for an account (generated when `password` is absent).
    pub async fn reset_password(
        &self,
        user_id: Uuid,
        reset: &PasswordReset,
    ) -> Result<PasswordResetResult> {
        self.send(
            routes::RESET_PASSWORD,
            &routes::RESET_PASSWORD.with_id(user_id),
            Some(reset),
        )
        .await
    }

    /// Deletes an account, ending its sessions.
    pub async fn delete_user(&self, user_id: Uuid) -> Result<UserDeleted> {
        self.send(
            routes::DELETE_USER,
            &routes::DELETE_USER.with_id(user_id),
            None::<&()>,
        )
        .await
    }

    /// Changes this session's own password; the user's other sessions end.
    pub async fn change_password(&self, change: &PasswordChange) -> Result<()> {
        self.send_no_content(
            routes::CHANGE_PASSWORD,
            routes::CHANGE_PASSWORD.path,
            Some(change),
        )
        .await
    }

    /// A user's live sessions with their devices and addresses, newest first.
    pub async fn user_sessions(&self, user_id: Uuid) -> Result<UserSessions> {
        self.get_at(
            routes::USER_SESSIONS,
            &routes::USER_SESSIONS.with_id(user_id),
            &(),
        )
        .await
    }

    /// Ends one session (the lost phone); its owner's other sessions stay.
    pub async fn end_session(&self, session_id: Uuid) -> Result<LogoutResult> {
        self.send(
            routes::END_SESSION,
            &routes::END_SESSION.with_id(session_id),
            None::<&()>,
        )
        .await
    }

    /// Accounts with failed sign-ins in the last minute.
    pub async fn sign_in_throttles(&self) -> Result<SignInThrottles> {
        self.get(routes::SIGN_IN_THROTTLES, &()).await
    }

    /// Lets a throttled account try again at once.
    pub async fn clear_sign_in_throttle(&self, username: &str) -> Result<()> {
        self.send_no_content(
            routes::CLEAR_SIGN_IN_THROTTLE,
            routes::CLEAR_SIGN_IN_THROTTLE.path,
            Some(&ClearThrottle {
                username: username.to_owned(),
            }),
        )
        .await
    }

    /// Previews (`dry_run`) or applies a CSV file of users; with any row in error nothing
    /// is applied (a 400 `invalid_import` listing the first errors).
    pub async fn import_users(
        &self,
        csv: impl Into<Vec<u8>>,
        dry_run: bool,
    ) -> Result<crate::api::ImportReport> {
        let req = self
            .request(routes::IMPORT_USERS, routes::IMPORT_USERS.path)
            .query(&crate::api::ImportQuery { dry_run })
            .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
            .body(csv.into());
        self.send_once(req).await
    }

    /// Every service token (never the tokens themselves).
    pub async fn service_tokens(&self) -> Result<crate::api::ServiceTokenList> {
        self.get(routes::SERVICE_TOKENS, &()).await
    }

    /// Makes a service token; the answer holds the token, shown this once.
    pub async fn create_service_token(
        &self,
        request: &crate::api::NewServiceToken,
    ) -> Result<crate::api::CreatedServiceToken> {
        self.send(
            routes::CREATE_SERVICE_TOKEN,
            routes::CREATE_SERVICE_TOKEN.path,
            Some(request),
        )
        .await
    }

    /// Revokes a service token: its next request is refused.
    pub async fn revoke_service_token(&self, id: Uuid) -> Result<crate::api::ServiceToken> {
        self.send(
            routes::REVOKE_SERVICE_TOKEN,
            &routes::REVOKE_SERVICE_TOKEN.with_id(id),
            None::<&()>,
        )
        .await
    }

    /// The contract's OpenAPI document, as the server generates it.
    pub async fn openapi(&self) -> Result<serde_json::Value> {
        self.get(routes::OPENAPI, &()).await
    }
}

type EventResult = std::result::Result<eventsource_stream::Event, EventStreamError<reqwest::Error>>;

/// A server-sent event stream of `T`s. Events this version does not know are skipped, so
/// newer servers can add some.
pub struct EventStream<T> {
    events: Pin<Box<dyn Stream<Item = EventResult> + Send>>,
    ended: bool,
    is_last: fn(&T) -> bool,
}

/// A session's notice stream. It ends after `session_revoked`.
pub type NoticeStream = EventStream<Notice>;

impl<T: DeserializeOwned> EventStream<T> {
    /// The next event; `None` when the server closed the stream or sent the last one.
    pub async fn next(&mut self) -> Option<Result<T>> {
        if self.ended {
            return None;
        }
        loop {
            let event = match self.events.next().await? {
                Ok(event) => event,
                Err(EventStreamError::Transport(e)) => {
                    return Some(Err(Error::Transport(without_url(&e))))
                }
                Err(e) => return Some(Err(Error::Decode(e.to_string()))),
            };
            if event.event == "session_revoked" {
                // Whatever the stream carries, this is its last event.
                self.ended = true;
            }
            match serde_json::from_str::<T>(&event.data) {
                Ok(item) => {
                    if (self.is_last)(&item) {
                        self.ended = true;
                    }
                    return Some(Ok(item));
                }
                Err(_) if self.ended => return None,
                Err(_) => continue,
            }
        }
    }
}

/// The chain of causes of a TLS failure, if that is what `e` is. rustls reports through
/// tokio-rustls as an `io::Error` of kind `InvalidData`; certificate problems name
/// themselves.
fn tls_detail(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        let lower = text.to_ascii_lowercase();
        let invalid_data = cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
            io.kind() == std::io::ErrorKind::InvalidData
                || io
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<std::io::Error>())
                    .is_some_and(|inner| inner.kind() == std::io::ErrorKind::InvalidData)
        });
        if invalid_data
            || lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
        {
            return Some(text);
        }
        source = cause.source();
    }
    None
}

/// reqwest errors print the URL; ours never include query strings, but keep messages short.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_is_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "https://curfew.example.com",
            "https://10.0.0.1/base",
        ] {
            assert!(parse_server_url(ok).is_ok(), "{ok} should be accepted");
        }
        for insecure in [
            "http://curfew.example.com",
            "http://10.0.0.1",
            "http://[fe80::1]",
        ] {
            assert!(
                matches!(parse_server_url(insecure), Err(Error::InsecureUrl(_))),
                "{insecure} should be refused as insecure"
            );
        }
        for invalid in [
            "",
            "curfew.example.com",
            "ftp://x",
            "https://",
            "mailto:a@b",
        ] {
            assert!(
                matches!(parse_server_url(invalid), Err(Error::InvalidUrl(_))),
                "{invalid:?} should be refused as invalid"
            );
        }
    }

    #[test]
    fn base_path_is_kept_and_api_prefix_added() {
        let client = Client::new("https://example.com/curfew").unwrap();
        assert_eq!(
            client.url("admin/me").as_str(),
            "https://example.com/curfew/api/v1/admin/me"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let client = Client::new("http://127.0.0.1:1")
            .unwrap()
            .with_token("secret-token-value");
        assert!(!format!("{client:?}").contains("secret-token-value"));
    }
}

/// What [`Client::export_audit`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportedAudit {
    pub entries: u64,
    pub bytes: u64,
}

/// Counts the records of an export as it streams: lines of JSON Lines, or CSV rows after
/// the header (a line break inside a quoted CSV field is part of its field, RFC 4180).
struct RecordCount {
    format: AuditFormat,
    line_ends: u64,
    in_quotes: bool,
}

impl RecordCount {
    fn new(format: AuditFormat) -> Self {
        RecordCount {
            format,
            line_ends: 0,
            in_quotes: false,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        for &byte in chunk {
            match byte {
                // A doubled quote inside a field toggles twice: still inside.
                b'"' if self.format == AuditFormat::Csv => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.line_ends += 1,
                _ => {}
            }
        }
    }

    fn records(&self) -> u64 {
        match self.format {
            AuditFormat::Csv => self.line_ends.saturating_sub(1),
            AuditFormat::Jsonl => self.line_ends,
        }
    }
}

#[cfg(test)]
mod export_tests {
    use super::*;

    #[test]
    fn csv_rows_are_counted_with_line_breaks_inside_their_fields() {
        let mut count = RecordCount::new(AuditFormat::Csv);
        let text = "at,reason\n1,\"a \"\"quoted\"\"\nline\"\n2,plain\n";
        // Cut anywhere, the count is the same.
        let (a, b) = text.as_bytes().split_at(17);
        count.feed(a);
        count.feed(b);
        assert_eq!(count.records(), 2);
        let mut header_only = RecordCount::new(AuditFormat::Csv);
        header_only.feed(b"at,reason\n");
        assert_eq!(header_only.records(), 0);
        let mut lines = RecordCount::new(AuditFormat::Jsonl);
        lines.feed(b"{\"reason\":\"a \\\"b\"}\n{}\n");
        assert_eq!(lines.records(), 2);
    }
}
