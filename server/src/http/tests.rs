//! Router tests: the whole axum app called in-process with `tower::ServiceExt::oneshot`,
//! on a fresh SQLite file per test. Each test checks a promise of the contract
//! (`/work/shared/DESIGN.md`): the status and the `{error, message}` shape of every refusal,
//! that bad input changes nothing, who may do what, paging, search, and forced logouts.

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

use super::{router, AppState, Config};
use crate::secrets;
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
    _database: Option<crate::store::TestDatabase>,
}

impl TestApp {
    async fn new() -> Self {
        Self::with_config(generous_limits()).await
    }

    async fn with_config(config: Config) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (url, database) = crate::store::test_database(dir.path()).await;
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

// 1. Permissions.

#[tokio::test]
async fn admin_routes_check_the_token_then_the_permission() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("helpdesk", "Help Desk", Role::Support).await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let target = t.user("target", "Tara Get", Role::Member).await;
    let admin = t.login("root", "app").await;
    let support = t.login("helpdesk", "web").await;
    let member = t.login("alice", "app").await;
    let target_token = t.login("target", "web").await;
    let routes = admin_routes(target);
    assert_eq!(routes.len(), 8);
    let before = t.snapshot(&admin).await;

    let long_garbage = "y".repeat(5000);
    let token_sized = "x".repeat(43);
    for (method, path, body) in &routes {
        let body = body.as_ref();
        let reply = t.call(method.clone(), path, None, body).await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "missing_token");
        for not_bearer in [
            "Basic cm9vdDpodW50ZXIy",
            "Bearer ",
            "Bearer    ",
            "Token abc",
        ] {
            let reply = t
                .request(method.clone(), path, Some(not_bearer), body)
                .await;
            assert_code(&reply, StatusCode::UNAUTHORIZED, "missing_token");
        }
        for garbage in ["not-a-token", token_sized.as_str(), long_garbage.as_str()] {
            let reply = t.call(method.clone(), path, Some(garbage), body).await;
            assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_token");
        }
        let reply = t.call(method.clone(), path, Some(&member), body).await;
        let code = if path.ends_with("/admin/me") {
            "not_an_administrator"
        } else {
            "forbidden"
        };
        assert_code(&reply, StatusCode::FORBIDDEN, code);
    }
    assert_eq!(t.snapshot(&admin).await, before, "refusals changed nothing");
    assert_eq!(t.token_state(&target_token).await, "live");

    // Support: force_logout but not manage_users. logout-all comes last.
    for (method, path, body) in routes.iter().filter(|r| !r.1.ends_with("logout-all")) {
        let reply = t
            .call(method.clone(), path, Some(&support), body.as_ref())
            .await;
        if needs_manage_users(path) {
            assert_code(&reply, StatusCode::FORBIDDEN, "forbidden");
        } else {
            assert_eq!(
                reply.0,
                StatusCode::OK,
                "support on {method} {path}: {}",
                reply.1
            );
        }
    }
    let me = ok(t.get("/api/v1/admin/me", &support).await);
    assert_eq!(me["role"], "support");
    assert_eq!(me["permissions"], json!(["force_logout"]));
    // Support's logout of the target worked; its refused deactivation did not happen.
    assert_eq!(t.token_state(&target_token).await, "session_revoked");
    let page = ok(t.users(&admin, &[("q", "target")]).await);
    assert_eq!(user_in(&page, "target")["status"], "active");

    // Admin: everything.
    let target_token = t.login("target", "app").await;
    for (method, path, body) in routes.iter().filter(|r| !r.1.ends_with("logout-all")) {
        let reply = t
            .call(method.clone(), path, Some(&admin), body.as_ref())
            .await;
        assert_eq!(
            reply.0,
            StatusCode::OK,
            "admin on {method} {path}: {}",
            reply.1
        );
        if path.ends_with("/deactivate") {
            assert_eq!(reply.1["user"]["status"], "deactivated");
        }
        if path.ends_with("/activate") {
            assert_eq!(reply.1["user"]["status"], "active");
        }
    }
    let me = ok(t.get("/api/v1/admin/me", &admin).await);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["username"], "root");
    assert_eq!(me["permissions"], json!(["force_logout", "manage_users"]));
    assert_eq!(t.token_state(&target_token).await, "session_revoked");

    // logout-all by support, then by the admin (signed in again).
    let logout_all = &routes[7];
    let reply = ok(t
        .call(
            Method::POST,
            &logout_all.1,
            Some(&support),
            logout_all.2.as_ref(),
        )
        .await);
    assert_eq!(reply, json!({ "sessions_revoked": 2, "users_affected": 2 }));
    assert_eq!(t.token_state(&admin).await, "session_revoked");
    assert_eq!(t.token_state(&member).await, "session_revoked");
    assert_eq!(t.token_state(&support).await, "live");
    let admin = t.login("root", "web").await;
    let reply = ok(t
        .call(
            Method::POST,
            &logout_all.1,
            Some(&admin),
            logout_all.2.as_ref(),
        )
        .await);
    assert_eq!(reply, json!({ "sessions_revoked": 1, "users_affected": 1 }));
    assert_eq!(t.token_state(&support).await, "session_revoked");

    // A token its owner signed out with is refused everywhere as revoked.
    let signed_out = t.login("root", "app").await;
    let reply = t
        .call(Method::POST, "/api/v1/auth/logout", Some(&signed_out), None)
        .await;
    assert_eq!(reply.0, StatusCode::NO_CONTENT);
    for (method, path, body) in &routes {
        let reply = t
            .call(method.clone(), path, Some(&signed_out), body.as_ref())
            .await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "session_revoked");
    }
    let reply = t
        .call(Method::POST, "/api/v1/auth/logout", Some(&signed_out), None)
        .await;
    assert_code(&reply, StatusCode::UNAUTHORIZED, "session_revoked");
    assert_eq!(t.token_state(&admin).await, "live");
}

// 2. Bad input.

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

#[tokio::test]
async fn bad_login_bodies_are_refused_and_change_nothing() {
    let f = fixture().await;
    let t = &f.t;
    let before = t.snapshot(&f.admin).await;
    let login = "/api/v1/auth/login";
    let json = Some("application/json");

    let cases: Vec<(&str, StatusCode, &str)> = vec![
        (
            r#"{"username": "alice", "password": "#,
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        ("{username: alice}", StatusCode::BAD_REQUEST, "invalid_json"),
        ("", StatusCode::BAD_REQUEST, "invalid_json"),
        (
            r#"{"username": 42, "password": true, "client": "app"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        ("[]", StatusCode::BAD_REQUEST, "invalid_body"),
        ("null", StatusCode::BAD_REQUEST, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let reply = t.post_bytes(login, None, json, body.to_owned()).await;
        assert_code(&reply, status, code);
    }

    // Right password, but the body is wrong: still no session.
    let right = |extra: Value| {
        let mut body = json!({ "username": "alice", "password": PASSWORD, "client": "app" });
        for (k, v) in extra.as_object().expect("object") {
            if v.is_null() {
                body.as_object_mut().expect("object").remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for body in [
        right(json!({ "client": null })),
        right(json!({ "password": null })),
        right(json!({ "client": "desktop" })),
        right(json!({ "client": "APP" })),
        right(json!({ "role": "admin" })),
        // The fields in an array: serde would take it as the struct; the contract does not.
        json!(["alice", PASSWORD, "app"]),
    ] {
        let reply = t.call(Method::POST, login, None, Some(&body)).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let reply = t
        .post_bytes(
            login,
            None,
            json,
            format!(r#"{{"username": "bob", "username": "alice", "password": "{PASSWORD}", "client": "app"}}"#),
        )
        .await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_body");
    // serde_json reports a non-string where an enum belongs as a syntax error
    // (invalid_json, not invalid_body): a 400 either way.
    for client in [json!(["app"]), json!(1), json!(true)] {
        let body = right(json!({ "client": client }));
        let reply = t.call(Method::POST, login, None, Some(&body)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, None);
    }

    // JSON without the JSON content type.
    let valid = right(json!({})).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let reply = t.post_bytes(login, None, content_type, valid.clone()).await;
        assert_code(
            &reply,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
    }

    // 10 MB, with a length and streamed without one.
    let huge = format!(
        r#"{{"username": "alice", "password": "{}", "client": "app"}}"#,
        "a".repeat(TEN_MB)
    );
    let reply = t.post_bytes(login, None, json, huge.clone()).await;
    assert_code(&reply, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let chunks: Vec<Result<Bytes, std::io::Error>> = huge
        .into_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let streamed = Body::from_stream(futures_util::stream::iter(chunks));
    let reply = t.post_bytes(login, None, json, streamed).await;
    assert_code(&reply, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");

    // Field checks before any password hashing.
    let long_name = "a".repeat(10_000);
    let reply = t.login_reply(&long_name, PASSWORD, "web").await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_username");
    let reply = t.login_reply("alice", &"p".repeat(2000), "web").await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_password");
    for (username, password) in [("", PASSWORD), ("   ", PASSWORD), ("alice", "")] {
        let reply = t.login_reply(username, password, "web").await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "missing_credentials");
    }
    // Names no account can have are simply wrong credentials.
    for username in ["zoë", "山田", "alice\u{0}", "' OR 1=1 --"] {
        let reply = t.login_reply(username, PASSWORD, "web").await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }

    f.assert_unchanged(&before).await;
}

#[tokio::test]
async fn bad_admin_input_is_refused_and_changes_nothing() {
    let f = fixture().await;
    let t = &f.t;
    let admin = f.admin.as_str();
    let before = t.snapshot(admin).await;
    let logout_all = "/api/v1/admin/logout-all";
    let json = Some("application/json");

    for (body, code) in [
        (r#"{"keep_admins": "#, "invalid_json"),
        ("", "invalid_json"),
        (
            r#"{"keep_admins": false, "everyone": true}"#,
            "invalid_body",
        ),
        (r#"{"keep_admins": "false"}"#, "invalid_body"),
        (r#"{"keep_admins": 0}"#, "invalid_body"),
        ("{}", "invalid_body"),
        // serde would read these as {"keep_admins": false} and sign everyone out.
        ("[false]", "invalid_body"),
        ("[true]", "invalid_body"),
        (
            r#"{"keep_admins": true, "keep_admins": false}"#,
            "invalid_body",
        ),
        ("false", "invalid_body"),
    ] {
        let reply = t.post_bytes(logout_all, Some(admin), json, body).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, code);
    }
    let reply = t
        .post_bytes(logout_all, Some(admin), None, r#"{"keep_admins": false}"#)
        .await;
    assert_code(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let huge = format!(
        r#"{{"keep_admins": false, "pad": "{}"}}"#,
        "a".repeat(TEN_MB)
    );
    let reply = t.post_bytes(logout_all, Some(admin), json, huge).await;
    assert_code(&reply, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");

    // Ids: unknown (but valid) and not UUIDs at all.
    let unknown = Uuid::new_v4();
    let long_id = "f".repeat(300);
    for action in ["logout", "deactivate", "activate"] {
        let reply = t
            .post(
                &format!("/api/v1/admin/users/{unknown}/{action}"),
                admin,
                None,
            )
            .await;
        assert_code(&reply, StatusCode::NOT_FOUND, "user_not_found");
        for bad_id in ["not-a-uuid", "1", "%27%20OR%201%3D1%20--", long_id.as_str()] {
            let reply = t
                .post(
                    &format!("/api/v1/admin/users/{bad_id}/{action}"),
                    admin,
                    None,
                )
                .await;
            assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_id");
        }
    }

    // Limits, filters and cursors.
    for route in ["/api/v1/admin/users", "/api/v1/admin/audit"] {
        for (limit, code) in [
            ("-1", "invalid_query"),
            ("0", "invalid_limit"),
            ("501", "invalid_limit"),
            ("99999999999", "invalid_query"),
            ("ten", "invalid_query"),
        ] {
            let reply = t.get(&format!("{route}?limit={limit}"), admin).await;
            assert_code(&reply, StatusCode::BAD_REQUEST, code);
        }
        let reply = ok(t.get(&format!("{route}?limit=500"), admin).await);
        assert!(reply["next_cursor"].is_null());
        for cursor in [
            "!!not base64!!".to_owned(),
            "AAAA".to_owned(),
            cursor_of(&json!(["just one part"])),
            cursor_of(&json!(["a", "b", "c"])),
            cursor_of(&json!({ "a": "b" })),
            cursor_of(&json!([1, 2])),
            cursor_of(&json!(["a\u{0}", "b"])),
        ] {
            let reply = t
                .get(&format!("{route}{}", query(&[("cursor", &cursor)])), admin)
                .await;
            assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_cursor");
        }
    }
    let reply = t
        .get(
            &format!(
                "/api/v1/admin/audit{}",
                query(&[("cursor", &cursor_of(&json!(["soon", "x"])))])
            ),
            admin,
        )
        .await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_cursor");
    for status in ["everyone", "ACTIVE", ""] {
        let reply = t.users(admin, &[("status", status)]).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_query");
    }
    let reply = t.users(admin, &[("q", "a".repeat(101).as_str())]).await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "search_too_long");
    let reply = t.users(admin, &[("q", "é".repeat(101).as_str())]).await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "search_too_long");
    // The limit counts characters, not bytes.
    let page = ok(t.users(admin, &[("q", "é".repeat(100).as_str())]).await);
    assert!(usernames(&page).is_empty());

    f.assert_unchanged(&before).await;
}

#[tokio::test]
async fn searches_are_text_not_sql_or_patterns() {
    let f = fixture().await;
    let t = &f.t;
    let admin = f.admin.as_str();
    let before = t.snapshot(admin).await;
    let everyone = usernames(&ok(t.users(admin, &[]).await));
    assert_eq!(everyone.len(), 6);

    for (q, expected) in [
        ("' OR 1=1 --", vec![]),
        ("' OR '1'='1", vec![]),
        ("\"; DROP TABLE users; --", vec![]),
        ("%", vec!["percy"]),
        ("%%", vec![]),
        ("_", vec!["under_score"]),
        ("__", vec![]),
        ("\\", vec![]),
        ("'", vec!["mallory"]),
        ("o'b", vec!["mallory"]),
        ("100%", vec!["percy"]),
        ("r_s", vec!["under_score"]),
        ("a%n", vec![]),
        ("a_i", vec![]),
    ] {
        let page = ok(t.users(admin, &[("q", q)]).await);
        assert_eq!(usernames(&page), expected, "search {q:?}");
    }
    // Blank searches are no search.
    for q in ["", "   "] {
        assert_eq!(usernames(&ok(t.users(admin, &[("q", q)]).await)), everyone);
    }
    for q in ["al\u{0}ice", "a\u{7}"] {
        assert_code(
            &t.users(admin, &[("q", q)]).await,
            StatusCode::BAD_REQUEST,
            "invalid_search",
        );
    }

    let script = "<script>alert(1)</script>";
    let path = format!("/api/v1/admin/users{}", query(&[("q", script)]));
    let request = Request::get(&path)
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(Body::empty())
        .expect("request");
    let (status, headers, bytes) = t.send_raw(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).expect("content type"),
        "application/json"
    );
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    assert!(
        !text.contains('<'),
        "nothing of the search comes back: {text}"
    );
    let page: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(page, json!({ "users": [], "next_cursor": null }));

    // The users table survived the SQL-looking searches.
    assert_eq!(usernames(&ok(t.users(admin, &[]).await)), everyone);
    f.assert_unchanged(&before).await;
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_json() {
    let f = fixture().await;
    let t = &f.t;
    let admin = f.admin.as_str();
    let before = t.snapshot(admin).await;
    let some_id = Uuid::new_v4();
    for path in [
        "/api/v1/nope".to_owned(),
        "/nope".to_owned(),
        "/web/nope.js".to_owned(),
        "/api/v2/admin/users".to_owned(),
        "/api/v1/admin/users/".to_owned(),
        format!("/api/v1/admin/users/{some_id}/explode"),
        format!("/api/v1/admin/users/{some_id}"),
    ] {
        for token in [None, Some(admin)] {
            let reply = t.call(Method::GET, &path, token, None).await;
            assert_code(&reply, StatusCode::NOT_FOUND, "not_found");
            let reply = t
                .call(
                    Method::POST,
                    &path,
                    token,
                    Some(&json!({ "keep_admins": false })),
                )
                .await;
            assert_code(&reply, StatusCode::NOT_FOUND, "not_found");
        }
    }
    for (method, path) in [
        (Method::GET, "/api/v1/auth/login".to_owned()),
        (Method::DELETE, "/api/v1/auth/session".to_owned()),
        (Method::GET, "/api/v1/auth/logout".to_owned()),
        (Method::DELETE, "/api/v1/admin/users".to_owned()),
        (Method::PUT, "/api/v1/admin/logout-all".to_owned()),
        (Method::GET, "/api/v1/admin/logout-all".to_owned()),
        (Method::GET, format!("/api/v1/admin/users/{some_id}/logout")),
        (
            Method::DELETE,
            format!("/api/v1/admin/users/{some_id}/deactivate"),
        ),
        (Method::POST, "/api/v1/admin/audit".to_owned()),
        (Method::POST, "/api/v1/openapi.json".to_owned()),
        (Method::POST, "/healthz".to_owned()),
    ] {
        for token in [None, Some(admin)] {
            let reply = t.call(method.clone(), &path, token, None).await;
            assert_code(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        }
    }
    f.assert_unchanged(&before).await;
}

// 3. Listing: paging, search, filters, session counts.

const PEOPLE: &[(&str, &str)] = &[
    ("zoe", "Zoë Åström"),
    ("yamada", "山田 太郎"),
    ("emile", "Émile Zola"),
    ("orjan", "Ørjan Berg"),
    ("jose", "José Álvarez"),
    ("lukasz", "Łukasz Nowak"),
    ("dmitri", "Дмитрий Иванов"),
    ("an", "Nguyễn Văn An"),
    ("olafur", "Ólafur Arnalds"),
    ("chloe", "chloé dubois"),
    ("alice", "Alice Martin"),
    ("bob", "Bob Okafor"),
    ("carol", "Carol Diaz"),
    ("dave", "Dave Lowe"),
    ("eve", "Eve Adams"),
    ("frank", "Frank Ocean"),
    ("grace", "Grace Hopper"),
    ("heidi", "Heidi Klum"),
    ("ivan", "Ivan Petrov"),
    ("judy", "Judy Garland"),
    ("mallory", "Mallory Knox"),
    ("niaj", "Niaj Brown"),
    ("oscar", "Oscar Wilde"),
    ("peggy", "Peggy Sue"),
    ("rupert", "Rupert Giles"),
    ("sybil", "Sybil Fawlty"),
    ("trent", "Trent Reznor"),
    ("victor", "Victor Hugo"),
    // The same display name twice: the username breaks the tie.
    ("sam.lee2", "Sam Lee"),
    ("sam.lee", "Sam Lee"),
];

/// Usernames in the list's order: lower-cased display name, then username.
fn listed_order<'a>(people: impl Iterator<Item = &'a (&'a str, &'a str)>) -> Vec<String> {
    let mut sorted: Vec<(String, &str)> = people
        .map(|(username, display)| (display.to_lowercase(), *username))
        .collect();
    sorted.sort();
    sorted.into_iter().map(|(_, u)| u.to_owned()).collect()
}

/// Follows `next_cursor` from the first page to the last.
async fn all_pages(t: &TestApp, token: &str, params: &[(&str, &str)], limit: usize) -> Vec<String> {
    let limit_text = limit.to_string();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut params = params.to_vec();
        params.push(("limit", &limit_text));
        if let Some(cursor) = &cursor {
            params.push(("cursor", cursor));
        }
        let page = ok(t.users(token, &params).await);
        let names = usernames(&page);
        assert!(
            names.len() <= limit,
            "page larger than the limit: {names:?}"
        );
        seen.extend(names.clone());
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(names.len(), limit, "only the last page may be short");
                cursor = Some(next.to_owned());
            }
            None => return seen,
        }
    }
    panic!("paging never ended: {seen:?}");
}

#[tokio::test]
async fn paging_search_filters_and_session_counts() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    let mut ids = std::collections::HashMap::new();
    for (username, display) in PEOPLE {
        ids.insert(*username, t.user(username, display, Role::Member).await);
    }
    t.add_user("gone1", "Gone One", Role::Member, UserStatus::Deactivated)
        .await;
    t.add_user("gone2", "Gone Two", Role::Support, UserStatus::Deactivated)
        .await;
    let admin = t.login("root", "app").await;
    let mut everyone: Vec<(&str, &str)> = PEOPLE.to_vec();
    everyone.extend([
        ("root", "Root Admin"),
        ("gone1", "Gone One"),
        ("gone2", "Gone Two"),
    ]);
    let expected = listed_order(everyone.iter());
    assert_eq!(expected.len(), 33);

    // Every user exactly once, in order, whatever the page size.
    for limit in [7, 1, 11, 32, 33, 500] {
        assert_eq!(
            all_pages(&t, &admin, &[], limit).await,
            expected,
            "limit {limit}"
        );
    }
    let first = ok(t.users(&admin, &[]).await);
    assert_eq!(usernames(&first), expected, "the default page holds 50");
    assert!(first["next_cursor"].is_null());
    let sam = expected.iter().position(|u| u == "sam.lee").expect("sam");
    assert_eq!(expected[sam + 1], "sam.lee2");

    // Case-insensitive search over username and display name, in any script.
    for (q, found) in [
        ("zoë", vec!["zoe"]),
        ("ZOË", vec!["zoe"]),
        ("  zoë  ", vec!["zoe"]),
        ("ÅSTRÖM", vec!["zoe"]),
        ("åström", vec!["zoe"]),
        ("山田", vec!["yamada"]),
        ("太郎", vec!["yamada"]),
        ("дмитрий", vec!["dmitri"]),
        ("CHLOÉ", vec!["chloe"]),
        ("SAM LEE", vec!["sam.lee", "sam.lee2"]),
        ("lee2", vec!["sam.lee2"]),
        ("nobody", vec![]),
    ] {
        let page = ok(t.users(&admin, &[("q", q)]).await);
        assert_eq!(usernames(&page), found, "search {q:?}");
    }
    // Paging within a search.
    let with_e: Vec<String> = expected
        .iter()
        .filter(|u| {
            let display = everyone.iter().find(|(n, _)| n == *u).expect("known").1;
            format!("{u} {display}").to_lowercase().contains('e')
        })
        .cloned()
        .collect();
    assert!(with_e.len() > 8);
    assert_eq!(all_pages(&t, &admin, &[("q", "E")], 4).await, with_e);

    // Sessions per client.
    for client in ["app", "app", "web"] {
        t.login("carol", client).await;
    }
    let dave = t.login("dave", "web").await;
    let page = ok(t.users(&admin, &[("limit", "500")]).await);
    for user in page["users"].as_array().expect("users") {
        let (app, web) = match user["username"].as_str().expect("username") {
            "carol" => (2, 1),
            "dave" => (0, 1),
            "root" => (1, 0),
            _ => (0, 0),
        };
        assert_eq!(
            (user["app_sessions"].as_i64(), user["web_sessions"].as_i64()),
            (Some(app), Some(web)),
            "{user}"
        );
        let online = app + web > 0;
        assert_eq!(user["last_seen_at"].is_string(), online, "{user}");
    }
    let summary = ok(t.get("/api/v1/admin/sessions/summary", &admin).await);
    assert_eq!(
        summary,
        json!({
            "users": 33, "deactivated_users": 2, "online_users": 3,
            "app_sessions": 3, "web_sessions": 2,
            "online_administrators": 1, "administrator_sessions": 1,
            // root's own session is the one a logout-all keeps.
            "logout_all": {"users": 2, "sessions": 4, "app_sessions": 2, "web_sessions": 2},
            "logout_all_keep_admins": {"users": 2, "sessions": 4, "app_sessions": 2, "web_sessions": 2},
        })
    );

    // Filters.
    let names = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        usernames(&ok(t.users(&admin, &[("status", "online")]).await)),
        names(vec!["carol", "dave", "root"])
    );
    assert_eq!(
        usernames(&ok(t.users(&admin, &[("status", "deactivated")]).await)),
        names(vec!["gone1", "gone2"])
    );
    let active = usernames(&ok(t
        .users(&admin, &[("status", "active"), ("limit", "500")])
        .await));
    assert_eq!(active.len(), 31);
    assert!(!active.iter().any(|u| u.starts_with("gone")));
    assert_eq!(
        usernames(&ok(t
            .users(&admin, &[("status", "online"), ("q", "DAV")])
            .await)),
        names(vec!["dave"])
    );
    assert_eq!(
        all_pages(&t, &admin, &[("status", "active")], 7).await,
        active
    );

    // Deactivating moves a user between filters and ends their sessions.
    let reply = ok(t
        .post(
            &format!("/api/v1/admin/users/{}/deactivate", ids["dave"]),
            &admin,
            None,
        )
        .await);
    assert_eq!(reply["sessions_revoked"], 1);
    assert_eq!(reply["user"]["status"], "deactivated");
    assert_eq!(reply["user"]["web_sessions"], 0);
    assert_eq!(t.token_state(&dave).await, "session_revoked");
    assert_eq!(
        usernames(&ok(t.users(&admin, &[("status", "deactivated")]).await)),
        names(vec!["dave", "gone1", "gone2"])
    );
    assert_eq!(
        usernames(&ok(t.users(&admin, &[("status", "online")]).await)),
        names(vec!["carol", "root"])
    );
    // A forced logout empties carol's counts and takes her off the online list.
    let reply = ok(t
        .post(
            &format!("/api/v1/admin/users/{}/logout", ids["carol"]),
            &admin,
            None,
        )
        .await);
    assert_eq!(reply, json!({ "sessions_revoked": 3, "users_affected": 1 }));
    let page = ok(t.users(&admin, &[("q", "carol")]).await);
    assert_eq!(user_in(&page, "carol")["app_sessions"], 0);
    assert_eq!(user_in(&page, "carol")["web_sessions"], 0);
    assert_eq!(
        usernames(&ok(t.users(&admin, &[("status", "online")]).await)),
        names(vec!["root"])
    );
}

// 4. Login.

#[tokio::test]
async fn login_refusals_do_not_tell_who_exists() {
    let t = TestApp::new().await;
    let alice = t.user("alice", "Alice Martin", Role::Member).await;
    t.add_user("carol", "Carol Diaz", Role::Admin, UserStatus::Deactivated)
        .await;

    let wrong = t.login_reply("alice", "not the password", "app").await;
    assert_code(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let unknown = t.login_reply("nobody", PASSWORD, "app").await;
    assert_code(&unknown, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong.1, unknown.1, "the same answer for both");
    // A deactivated account with the wrong password looks like any wrong password.
    let reply = t.login_reply("carol", "not the password", "web").await;
    assert_eq!(reply.1, wrong.1);
    let reply = t.login_reply("carol", PASSWORD, "web").await;
    assert_code(&reply, StatusCode::FORBIDDEN, "account_deactivated");

    // Usernames are case-insensitive; the session says who and from where.
    let (status, body, _) = t.login_reply("  ALICE ", PASSWORD, "web").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().expect("token");
    assert_eq!(token.len(), 43, "256 bits, base64url");
    assert_eq!(body["session"]["user_id"], alice.to_string());
    assert_eq!(body["session"]["username"], "alice");
    assert_eq!(body["session"]["client"], "web");
    assert_eq!(body["session"]["role"], "member");
    let session = ok(t.get("/api/v1/auth/session", token).await);
    assert_eq!(session, body["session"]);
    let notices = ok(t.get("/api/v1/notices", token).await);
    assert_eq!(notices, json!({ "notices": [] }));

    // The summary counts exactly the one session that succeeded.
    let summary = t
        .store
        .session_summary(crate::now_ms(), None)
        .await
        .expect("summary");
    assert_eq!((summary.app_sessions, summary.web_sessions), (0, 1));
}

#[tokio::test]
async fn logins_are_rate_limited_per_account() {
    let t = TestApp::with_config(Config {
        login_per_minute_per_account: nz(3),
        login_per_minute_per_address: nz(1000),
        ..Config::default()
    })
    .await;
    t.user("alice", "Alice Martin", Role::Member).await;
    t.user("bob", "Bob Okafor", Role::Member).await;

    for username in ["alice", "Alice", " ALICE "] {
        let reply = t.login_reply(username, "guess", "app").await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    // The fourth attempt is refused even with the right password.
    let reply = t.login_reply("alice", PASSWORD, "app").await;
    assert_code(&reply, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after: u64 = reply
        .2
        .get(header::RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    // Other accounts are not affected.
    t.login("bob", "web").await;
    let summary = t
        .store
        .session_summary(crate::now_ms(), None)
        .await
        .expect("summary");
    assert_eq!((summary.app_sessions, summary.web_sessions), (0, 1));
}

#[tokio::test]
async fn logins_are_rate_limited_per_address() {
    let t = TestApp::with_config(Config {
        login_per_minute_per_account: nz(1000),
        login_per_minute_per_address: nz(3),
        ..Config::default()
    })
    .await;
    t.user("alice", "Alice Martin", Role::Member).await;
    for username in ["one", "two", "three"] {
        let reply = t.login_reply(username, "guess", "app").await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let reply = t.login_reply("alice", PASSWORD, "app").await;
    assert_code(&reply, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(reply.2.get(header::RETRY_AFTER).is_some());
}

// 5. Forced logouts.

#[tokio::test]
async fn logout_all_spares_the_caller_and_optionally_administrators() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("root2", "Second Admin", Role::Admin).await;
    t.user("helpdesk", "Help Desk", Role::Support).await;
    for member in ["m1", "m2", "m3"] {
        t.user(member, member, Role::Member).await;
    }
    let caller = t.login("root", "app").await;
    let caller_web = t.login("root", "web").await;
    let root2 = t.login("root2", "app").await;
    let helpdesk = t.login("helpdesk", "web").await;
    let m1 = [t.login("m1", "app").await, t.login("m1", "web").await];
    let m2 = t.login("m2", "app").await;
    let summary = ok(t.get("/api/v1/admin/sessions/summary", &caller).await);
    assert_eq!(summary["app_sessions"], 4);
    assert_eq!(summary["web_sessions"], 3);
    assert_eq!(summary["administrator_sessions"], 4);
    assert_eq!(summary["online_users"], 5);

    let logout_all = |keep_admins: bool| {
        let t = &t;
        let caller = caller.clone();
        async move {
            let reply = t
                .post(
                    "/api/v1/admin/logout-all",
                    &caller,
                    Some(&json!({ "keep_admins": keep_admins })),
                )
                .await;
            assert!(reply.2.contains_key("server-timing"));
            ok(reply)
        }
    };

    // keep_admins: members go, every administrator stays.
    let result = logout_all(true).await;
    assert_eq!(
        result,
        json!({ "sessions_revoked": 3, "users_affected": 2 })
    );
    for token in [&caller, &caller_web, &root2, &helpdesk] {
        assert_eq!(t.token_state(token).await, "live");
    }
    for token in [&m1[0], &m1[1], &m2] {
        assert_eq!(t.token_state(token).await, "session_revoked");
    }
    assert_eq!(
        logout_all(true).await,
        json!({ "sessions_revoked": 0, "users_affected": 0 })
    );

    // Without keep_admins: everyone but the calling session, the caller's other one too.
    let m3 = t.login("m3", "web").await;
    let result = logout_all(false).await;
    assert_eq!(
        result,
        json!({ "sessions_revoked": 4, "users_affected": 4 })
    );
    for token in [&caller_web, &root2, &helpdesk, &m3] {
        assert_eq!(t.token_state(token).await, "session_revoked");
    }
    assert_eq!(t.token_state(&caller).await, "live");
    assert_eq!(
        logout_all(false).await,
        json!({ "sessions_revoked": 0, "users_affected": 0 })
    );
    let summary = ok(t.get("/api/v1/admin/sessions/summary", &caller).await);
    assert_eq!(summary["online_users"], 1);
    assert_eq!(summary["app_sessions"], 1);
    assert_eq!(summary["web_sessions"], 0);

    // One audit entry per call, newest first, with keep_admins recorded.
    let entries = t.audit_entries(&caller).await;
    let recorded: Vec<Value> = entries
        .iter()
        .map(|e| {
            assert_eq!(e["actor_username"], "root");
            assert!(e["target_user_id"].is_null());
            json!([
                e["action"],
                e["sessions_revoked"],
                e["users_affected"],
                e["keep_admins"]
            ])
        })
        .collect();
    assert_eq!(
        recorded,
        vec![
            json!(["logout_all", 0, 0, false]),
            json!(["logout_all", 4, 4, false]),
            json!(["logout_all", 0, 0, true]),
            json!(["logout_all", 3, 2, true]),
        ]
    );
    // The audit pages like the users list.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("limit", "3")];
        if let Some(cursor) = &cursor {
            params.push(("cursor", cursor));
        }
        let page = ok(t
            .get(&format!("/api/v1/admin/audit{}", query(&params)), &caller)
            .await);
        paged.extend(page["entries"].as_array().expect("entries").clone());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, entries);
}

#[tokio::test]
async fn forced_logouts_of_one_user_and_deactivation() {
    let t = TestApp::new().await;
    let root = t.user("root", "Root Admin", Role::Admin).await;
    let alice = t.user("alice", "Alice Martin", Role::Member).await;
    let caller = t.login("root", "app").await;
    let caller_other = t.login("root", "web").await;

    // Deactivating yourself is refused and changes nothing.
    let before = t.snapshot(&caller).await;
    let reply = t
        .post(
            &format!("/api/v1/admin/users/{root}/deactivate"),
            &caller,
            None,
        )
        .await;
    assert_code(&reply, StatusCode::CONFLICT, "cannot_deactivate_self");
    assert_eq!(t.snapshot(&caller).await, before);
    assert_eq!(t.token_state(&caller_other).await, "live");

    // Logging yourself out ends your other sessions, never the calling one.
    let reply = ok(t
        .post(&format!("/api/v1/admin/users/{root}/logout"), &caller, None)
        .await);
    assert_eq!(reply, json!({ "sessions_revoked": 1, "users_affected": 1 }));
    assert_eq!(t.token_state(&caller_other).await, "session_revoked");
    assert_eq!(t.token_state(&caller).await, "live");

    // Deactivation revokes at once and refuses new logins; activation revives nothing old.
    let tokens = [t.login("alice", "app").await, t.login("alice", "web").await];
    let reply = ok(t
        .post(
            &format!("/api/v1/admin/users/{alice}/deactivate"),
            &caller,
            None,
        )
        .await);
    assert_eq!(reply["sessions_revoked"], 2);
    for token in &tokens {
        assert_eq!(t.token_state(token).await, "session_revoked");
    }
    let reply = t.login_reply("alice", PASSWORD, "app").await;
    assert_code(&reply, StatusCode::FORBIDDEN, "account_deactivated");
    let reply = ok(t
        .post(
            &format!("/api/v1/admin/users/{alice}/activate"),
            &caller,
            None,
        )
        .await);
    assert_eq!(reply["sessions_revoked"], 0);
    assert_eq!(reply["user"]["status"], "active");
    for token in &tokens {
        assert_eq!(t.token_state(token).await, "session_revoked");
    }
    let fresh = t.login("alice", "app").await;
    assert_eq!(t.token_state(&fresh).await, "live");

    let actions: Vec<Value> = t
        .audit_entries(&caller)
        .await
        .iter()
        .map(|e| json!([e["action"], e["target_username"], e["sessions_revoked"]]))
        .collect();
    let mut actions = actions;
    actions.sort_by_key(|a| a.to_string());
    assert_eq!(
        actions,
        vec![
            json!(["activate", "alice", 0]),
            json!(["deactivate", "alice", 2]),
            json!(["logout_user", "root", 1]),
        ]
    );
}

// 6. The OpenAPI document.

/// Every route `router()` serves under `/api/v1` but the document itself.
const CONTRACT_ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/auth/session"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/notices"),
    ("get", "/api/v1/notices/stream"),
    ("get", "/api/v1/admin/me"),
    ("get", "/api/v1/admin/users"),
    ("get", "/api/v1/admin/sessions/summary"),
    ("post", "/api/v1/admin/users/{id}/logout"),
    ("post", "/api/v1/admin/users/{id}/deactivate"),
    ("post", "/api/v1/admin/users/{id}/activate"),
    ("post", "/api/v1/admin/logout-all"),
    ("get", "/api/v1/admin/audit"),
    ("get", "/api/v1/admin/maintenance"),
    ("post", "/api/v1/admin/maintenance"),
    ("delete", "/api/v1/admin/maintenance/{id}"),
    ("post", "/api/v1/admin/maintenance/{id}/end"),
    ("get", "/api/v1/admin/events"),
];

#[tokio::test]
async fn maintenance_routes_check_the_token_then_the_permission() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("helpdesk", "Help Desk", Role::Support).await;
    t.user("member", "Mem Ber", Role::Member).await;
    let (admin, support, member) = (
        t.login("root", "app").await,
        t.login("helpdesk", "app").await,
        t.login("member", "web").await,
    );
    let id = Uuid::new_v4();
    let starts_at = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let window = json!({ "starts_at": starts_at, "message": "Update" });
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/admin/maintenance".into(), None),
        (
            Method::POST,
            "/api/v1/admin/maintenance".into(),
            Some(window.clone()),
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/maintenance/{id}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/maintenance/{id}/end"),
            None,
        ),
        (Method::GET, "/api/v1/admin/events".into(), None),
    ];
    for (method, path, body) in &routes {
        let reply = t.call(method.clone(), path, None, body.as_ref()).await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "missing_token");
        let reply = t
            .call(method.clone(), path, Some(&member), body.as_ref())
            .await;
        assert_code(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    let listed = ok(t
        .call(Method::GET, "/api/v1/admin/maintenance", Some(&admin), None)
        .await);
    assert_eq!(listed["windows"], json!([]), "refusals scheduled nothing");
    // Support has force_logout: it may schedule; unknown windows are 404.
    let created = t
        .call(
            Method::POST,
            "/api/v1/admin/maintenance",
            Some(&support),
            Some(&window),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1["warn_before"], json!([3600, 900, 300, 60]));
    assert_eq!(created.1["freeze_before"], 300);
    assert_eq!(created.1["created_by_username"], "helpdesk");
    let missing = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/maintenance/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_code(&missing, StatusCode::NOT_FOUND, "window_not_found");
    let bad_id = t
        .call(
            Method::DELETE,
            "/api/v1/admin/maintenance/nope",
            Some(&admin),
            None,
        )
        .await;
    assert_code(&bad_id, StatusCode::BAD_REQUEST, "invalid_id");
    let unknown_field = t
        .call(
            Method::POST,
            "/api/v1/admin/maintenance",
            Some(&admin),
            Some(&json!({ "starts_at": starts_at, "message": "x", "when": "soon" })),
        )
        .await;
    assert_eq!(unknown_field.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let t = TestApp::new().await;
    let request = Request::get("/api/v1/openapi.json")
        .body(Body::empty())
        .expect("request");
    let doc = ok(t.send(request).await);
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");

    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = CONTRACT_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);

    // And each of them is served: it answers with something other than 404 or 405.
    let id = Uuid::new_v4().to_string();
    for (method, path) in CONTRACT_ROUTES {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let path = path.replace("{id}", &id);
        let reply = t.call(method.clone(), &path, None, None).await;
        assert!(
            ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&reply.0),
            "{method} {path} is documented but not served: {:?}",
            reply.0
        );
    }
    // Administrator routes declare the bearer scheme; the error shape is a schema.
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    for (method, path) in CONTRACT_ROUTES
        .iter()
        .filter(|(_, p)| p.contains("/admin/"))
    {
        let security = &doc["paths"][*path][*method]["security"];
        assert_eq!(security, &json!([{ "bearer": [] }]), "{method} {path}");
    }
}

#[tokio::test]
async fn the_end_users_page_is_served_with_a_strict_csp() {
    let t = TestApp::new().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/web/page.js", "text/javascript"),
        ("/web/style.css", "text/css"),
    ] {
        let (status, headers, body) = t
            .send_raw(Request::get(path).body(Body::empty()).expect("request"))
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let content_type = headers[header::CONTENT_TYPE].to_str().unwrap();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!body.is_empty());
    }
}
