//! Router tests: the whole axum app called in-process with `tower::ServiceExt::oneshot`,
//! on a fresh database per test (SQLite, or PostgreSQL with `CURFEW_TEST_BACKEND=postgres`).
//! Each test checks a promise of the contract: the status and the `{error, message}` shape
//! of every refusal, that bad input changes nothing, who may do what, paging, search,
//! forced logouts, and that the router, the OpenAPI document and the client agree.
//!
//! This file is the shared harness ([`TestApp`], the assertions, the fixtures); the tests
//! are filed by topic in its submodules.

mod accounts;
mod audit;
mod bad_input;
mod bulk;
mod contention;
mod contract;
mod forced_logouts;
mod gate;
mod hardening;
mod import;
mod listing;
mod live_counts;
mod login;
mod maintenance;
mod moving;
mod oidc;
mod permissions;
mod scim;
mod series;
mod sessions;
mod tokens;

use std::num::NonZeroU32;
use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base64::Engine;
use curfew::api::{Role, UserStatus};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tempfile::TempDir;
use tower::ServiceExt;
use uuid::Uuid;

use super::router;
use crate::core::{secrets, AppState, Config};
use crate::store::{NewUser, Store};

const PASSWORD: &str = "correct horse battery staple";
const TEN_MB: usize = 10 * 1024 * 1024;

type Reply = (StatusCode, Value, HeaderMap);

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("non-zero")
}

/// Limits high enough for tests that sign in many times (all from 0.0.0.0 in oneshot).
fn generous_limits() -> Config {
    Config {
        login_per_minute_per_account: nz(10_000),
        login_per_minute_per_address: nz(10_000),
        ..Config::default()
    }
}

/// One argon2 hash for every test user: hashing is the slow part of creating users.
fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| secrets::hash_password(PASSWORD).expect("hashing works"))
        .clone()
}

/// `?a=b&c=d` with every value form-encoded.
fn query(pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    format!("?{}", serializer.finish())
}

fn cursor_of(parts: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(parts.to_string())
}

struct TestApp {
    app: Router,
    store: Store,
    _dir: TempDir,
    _database: Option<curfew_testkit::PgDatabase>,
}

/// What [`TestApp::scheduled`] made: the two sessions' tokens and the window's id.
struct Scheduled {
    admin: String,
    member: String,
    id: String,
}

impl TestApp {
    async fn new() -> Self {
        Self::with_config(generous_limits()).await
    }

    async fn with_config(config: Config) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (url, database) = curfew_testkit::test_database(dir.path());
        let store = Store::connect(&url, 4).await.expect("database opens");
        let app = router(AppState::new(store.clone(), config));
        TestApp {
            app,
            store,
            _dir: dir,
            _database: database,
        }
    }

    async fn add_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        status: UserStatus,
    ) -> Uuid {
        let user = NewUser {
            username: username.to_owned(),
            display_name: display_name.to_owned(),
            email: None,
            role,
            status,
            password_hash: password_hash(),
        };
        self.store
            .insert_user(&user, crate::now_ms())
            .await
            .expect("user inserted")
    }

    async fn user(&self, username: &str, display_name: &str, role: Role) -> Uuid {
        self.add_user(username, display_name, role, UserStatus::Active)
            .await
    }

    async fn send_raw(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = self
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("response body")
            .to_bytes();
        (status, headers, bytes)
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let (status, headers, bytes) = self.send_raw(request).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{status}: the body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        (status, body, headers)
    }

    /// A request with an optional raw `Authorization` value and an optional JSON body
    /// (sent with `Content-Type: application/json`).
    async fn request(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(value) = authorization {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(json).expect("JSON"))
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).expect("request")).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let authorization = token.map(|t| format!("Bearer {t}"));
        self.request(method, path, authorization.as_deref(), body)
            .await
    }

    /// A body sent as-is, with the given content type (or none).
    async fn post_bytes(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> Reply {
        let mut builder = Request::builder().method(Method::POST).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        self.send(builder.body(body.into()).expect("request")).await
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: &str, body: Option<&Value>) -> Reply {
        self.call(Method::POST, path, Some(token), body).await
    }

    async fn login_reply(&self, username: &str, password: &str, client: &str) -> Reply {
        let body = json!({ "username": username, "password": password, "client": client });
        self.call(Method::POST, "/api/v1/auth/login", None, Some(&body))
            .await
    }

    async fn login(&self, username: &str, client: &str) -> String {
        let (status, body, _) = self.login_reply(username, PASSWORD, client).await;
        assert_eq!(status, StatusCode::OK, "login of {username}: {body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// The status of a token's next request: 200, or the 401 code.
    async fn token_state(&self, token: &str) -> String {
        let reply = self.get("/api/v1/auth/session", token).await;
        if reply.0 == StatusCode::OK {
            "live".to_owned()
        } else {
            assert_error(&reply, StatusCode::UNAUTHORIZED, None);
            reply.1["error"].as_str().unwrap_or_default().to_owned()
        }
    }

    async fn users(&self, token: &str, params: &[(&str, &str)]) -> Reply {
        self.get(&format!("/api/v1/admin/users{}", query(params)), token)
            .await
    }

    /// The start of a maintenance test: root (an administrator, on the app) and member (on
    /// the web) signed in, and `window` posted by root to `path` (a window or a series),
    /// answered 201.
    async fn scheduled(&self, path: &str, window: &Value) -> Scheduled {
        self.user("root", "Root Admin", Role::Admin).await;
        self.user("member", "Mem Ber", Role::Member).await;
        let admin = self.login("root", "app").await;
        let member = self.login("member", "web").await;
        let created = self.post(path, &admin, Some(window)).await;
        assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
        let id = created.1["id"]
            .as_str()
            .expect("the window's id")
            .to_owned();
        Scheduled { admin, member, id }
    }

    async fn audit_entries(&self, token: &str) -> Vec<Value> {
        let page = ok(self.get("/api/v1/admin/audit?limit=500", token).await);
        page["entries"].as_array().expect("entries").clone()
    }

    /// Everything an administrator can see: users (with their session counts), the session
    /// summary and the audit. Equal snapshots mean nothing changed.
    async fn snapshot(&self, token: &str) -> Value {
        json!({
            "users": ok(self.users(token, &[("limit", "500")]).await),
            "summary": ok(self.get("/api/v1/admin/sessions/summary", token).await),
            "audit": ok(self.get("/api/v1/admin/audit?limit=500", token).await),
        })
    }
}

/// Asserts an error reply in the contract's shape: the status, `{"error", "message"}` and
/// nothing else, a non-empty sentence, a JSON content type. `code: None` accepts any code.
#[track_caller]
fn assert_error(reply: &Reply, status: StatusCode, code: Option<&str>) {
    let (actual, body, headers) = reply;
    assert_eq!(*actual, status, "unexpected status; body: {body}");
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"));
    assert_eq!(object.len(), 2, "only error and message: {body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(!error.is_empty(), "a machine code: {body}");
    if let Some(code) = code {
        assert_eq!(error, code, "body: {body}");
    }
    let message = body["message"].as_str().unwrap_or_default();
    assert!(!message.trim().is_empty(), "a human sentence: {body}");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type:?}"
    );
}

#[track_caller]
fn assert_code(reply: &Reply, status: StatusCode, code: &str) {
    assert_error(reply, status, Some(code));
}

#[track_caller]
fn ok(reply: Reply) -> Value {
    assert_eq!(reply.0, StatusCode::OK, "body: {}", reply.1);
    reply.1
}

fn usernames(page: &Value) -> Vec<String> {
    page["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().expect("username").to_owned())
        .collect()
}

fn user_in<'a>(page: &'a Value, username: &str) -> &'a Value {
    page["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == username)
        .unwrap_or_else(|| panic!("{username} not in {page}"))
}

/// Every administrator route, with a body where it needs one.
fn admin_routes(target: Uuid) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/api/v1/admin/me".into(), None),
        (Method::GET, "/api/v1/admin/users".into(), None),
        (Method::GET, "/api/v1/admin/sessions/summary".into(), None),
        (Method::GET, "/api/v1/admin/audit".into(), None),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/logout"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/deactivate"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/activate"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/admin/logout-all".into(),
            Some(json!({ "keep_admins": false })),
        ),
    ]
}

fn needs_manage_users(path: &str) -> bool {
    path.ends_with("/deactivate") || path.ends_with("/activate")
}

/// An admin, a member signed in on both clients, and users whose names contain the
/// characters searches must treat literally.
struct Fixture {
    t: TestApp,
    admin: String,
    member_tokens: Vec<String>,
}

async fn fixture() -> Fixture {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let bob = t.user("bob", "Bob Okafor", Role::Member).await;
    t.user("under_score", "Una Score", Role::Member).await;
    t.user("percy", "Percy 100% Sure", Role::Member).await;
    t.user("mallory", "Mallory O'Brien", Role::Member).await;
    let admin = t.login("root", "app").await;
    let member_tokens = vec![t.login("alice", "app").await, t.login("alice", "web").await];
    // One audited action, so that "no audit entry written" is not trivially true.
    t.login("bob", "web").await;
    ok(
        t.post(&format!("/api/v1/admin/users/{bob}/logout"), &admin, None)
            .await,
    );
    Fixture {
        t,
        admin,
        member_tokens,
    }
}

impl Fixture {
    async fn assert_unchanged(&self, before: &Value) {
        assert_eq!(
            &self.t.snapshot(&self.admin).await,
            before,
            "bad input changed state"
        );
        assert_eq!(self.t.audit_entries(&self.admin).await.len(), 1);
        for token in &self.member_tokens {
            assert_eq!(self.t.token_state(token).await, "live");
        }
    }
}
