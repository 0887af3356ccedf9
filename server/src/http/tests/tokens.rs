//! Service tokens: made by administrators and shown once, stored as their hash, opening
//! only the routes their scopes name (never the end users' routes), refused once revoked
//! or expired, and audited under their name.

use super::*;
use sqlx::Row;

/// Makes a token through the route; `(id, token)`.
async fn make_token(
    t: &TestApp,
    admin: &str,
    name: &str,
    scopes: &[&str],
    days: Option<u32>,
) -> (String, String) {
    let body = json!({ "name": name, "scopes": scopes, "expires_in_days": days });
    let reply = t.post("/api/v1/admin/tokens", admin, Some(&body)).await;
    assert_eq!(reply.0, StatusCode::CREATED, "{}", reply.1);
    let token = reply.1["token"].as_str().expect("a token").to_owned();
    assert!(token.starts_with("cft_"), "{token}");
    assert_eq!(reply.1["service_token"]["name"], name);
    let id = reply.1["service_token"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (id, token)
}

async fn with_admin() -> (TestApp, String, Uuid) {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    let alice = t.user("alice", "Alice Martin", Role::Member).await;
    let admin = t.login("root", "app").await;
    (t, admin, alice)
}

#[tokio::test]
async fn a_token_opens_only_the_routes_of_its_scopes() {
    let (t, admin, alice) = with_admin().await;
    let (_, reader) = make_token(&t, &admin, "reader", &["read"], None).await;
    let alice_token = t.login("alice", "web").await;
    let before = t.snapshot(&admin).await;

    for path in [
        "/api/v1/admin/users",
        "/api/v1/admin/sessions/summary",
        "/api/v1/admin/audit",
        "/api/v1/admin/maintenance",
        "/api/v1/admin/sign-in-throttles",
    ] {
        ok(t.get(path, &reader).await);
    }
    ok(
        t.get(&format!("/api/v1/admin/users/{alice}/sessions"), &reader)
            .await,
    );
    // Changes need their own scope: 403 in the contract's shape, nothing changed.
    let starts_at = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let window = json!({ "starts_at": starts_at, "message": "Update" });
    for (path, body) in [
        (format!("/api/v1/admin/users/{alice}/logout"), None),
        (format!("/api/v1/admin/users/{alice}/deactivate"), None),
        (
            "/api/v1/admin/logout-all".to_owned(),
            Some(json!({ "keep_admins": false })),
        ),
        ("/api/v1/admin/maintenance".to_owned(), Some(window.clone())),
    ] {
        let reply = t.post(&path, &reader, body.as_ref()).await;
        assert_code(&reply, StatusCode::FORBIDDEN, "missing_scope");
        assert!(
            reply.1["message"].as_str().unwrap().contains("reader"),
            "{}",
            reply.1
        );
    }
    assert_eq!(t.snapshot(&admin).await, before, "refusals changed nothing");
    assert_eq!(t.token_state(&alice_token).await, "live");

    // A maintenance token schedules, and nothing else.
    let (_, ops) = make_token(&t, &admin, "ops", &["maintenance"], None).await;
    let created = t
        .post("/api/v1/admin/maintenance", &ops, Some(&window))
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1["created_by_username"], "ops");
    assert_code(
        &t.get("/api/v1/admin/users", &ops).await,
        StatusCode::FORBIDDEN,
        "missing_scope",
    );
    let id = created.1["id"].as_str().unwrap();
    let cancelled = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/maintenance/{id}"),
            Some(&ops),
            None,
        )
        .await;
    assert_eq!(cancelled.0, StatusCode::OK, "{}", cancelled.1);
}

#[tokio::test]
async fn a_token_is_never_a_person_signed_in() {
    let (t, admin, alice) = with_admin().await;
    let (_, all) = make_token(
        &t,
        &admin,
        "everything",
        &["scim", "read", "force_logout", "maintenance"],
        None,
    )
    .await;
    let new_user = json!({ "username": "eve", "role": "member" });
    let change = json!({ "current_password": PASSWORD, "new_password": "another long one" });
    let token_body = json!({ "name": "child", "scopes": ["read"] });
    for (method, path, body) in [
        (Method::GET, "/api/v1/auth/session".to_owned(), None),
        (Method::POST, "/api/v1/auth/logout".to_owned(), None),
        (
            Method::POST,
            "/api/v1/auth/password".to_owned(),
            Some(change),
        ),
        (Method::GET, "/api/v1/notices".to_owned(), None),
        (Method::GET, "/api/v1/notices/stream".to_owned(), None),
        (Method::GET, "/api/v1/admin/me".to_owned(), None),
        (Method::GET, "/api/v1/admin/events".to_owned(), None),
        (Method::GET, "/api/v1/admin/tokens".to_owned(), None),
        (
            Method::POST,
            "/api/v1/admin/tokens".to_owned(),
            Some(token_body),
        ),
        (
            Method::POST,
            "/api/v1/admin/users".to_owned(),
            Some(new_user),
        ),
        (Method::DELETE, format!("/api/v1/admin/users/{alice}"), None),
    ] {
        let reply = t
            .call(method.clone(), &path, Some(&all), body.as_ref())
            .await;
        assert_code(&reply, StatusCode::FORBIDDEN, "service_token_not_allowed");
    }
    let listed = ok(t.get("/api/v1/admin/tokens", &admin).await);
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 1, "{listed}");
    let page = ok(t.users(&admin, &[("q", "eve")]).await);
    assert!(usernames(&page).is_empty(), "no account was made");
}

#[tokio::test]
async fn what_a_token_changes_is_audited_under_its_name() {
    let (t, admin, alice) = with_admin().await;
    let (id, bot) = make_token(&t, &admin, "nightly logout", &["force_logout"], None).await;
    let alice_token = t.login("alice", "app").await;
    let done = ok(t
        .post(&format!("/api/v1/admin/users/{alice}/logout"), &bot, None)
        .await);
    assert_eq!(done["sessions_revoked"], 1);
    assert_eq!(t.token_state(&alice_token).await, "session_revoked");
    ok(t.post(
        "/api/v1/admin/logout-all",
        &bot,
        Some(&json!({ "keep_admins": false })),
    )
    .await);
    // A token has no session of its own to spare: the admin's ends too.
    assert_eq!(t.token_state(&admin).await, "session_revoked");
    let admin = t.login("root", "web").await;
    let entries = t.audit_entries(&admin).await;
    let by_bot: Vec<&Value> = entries
        .iter()
        .filter(|e| e["actor_kind"] == "service_token")
        .collect();
    assert_eq!(by_bot.len(), 2, "{entries:?}");
    for entry in &by_bot {
        assert_eq!(entry["actor_username"], "nightly logout");
        assert_eq!(entry["actor_id"], id.as_str());
    }
    assert_eq!(by_bot[0]["action"], "logout_all");
    assert_eq!(by_bot[1]["action"], "logout_user");
    assert_eq!(by_bot[1]["target_username"], "alice");
    let made = entries
        .iter()
        .find(|e| e["action"] == "create_service_token")
        .expect("the token's making is audited");
    assert_eq!(made["actor_username"], "root");
    assert_eq!(made["actor_kind"], "user");
    assert_eq!(made["reason"], "nightly logout (force_logout)");
}

#[tokio::test]
async fn revoked_and_expired_tokens_are_refused_at_once() {
    let (t, admin, _) = with_admin().await;
    let (id, reader) = make_token(&t, &admin, "reader", &["read"], Some(30)).await;
    ok(t.get("/api/v1/admin/users", &reader).await);
    let revoked = ok(t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/tokens/{id}"),
            Some(&admin),
            None,
        )
        .await);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let reply = t.get("/api/v1/admin/users", &reader).await;
    assert_code(&reply, StatusCode::UNAUTHORIZED, "token_revoked");
    // Revoking again changes nothing; an unknown id is 404.
    let again = ok(t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/tokens/{id}"),
            Some(&admin),
            None,
        )
        .await);
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);
    let entries = t.audit_entries(&admin).await;
    let revocations = entries
        .iter()
        .filter(|e| e["action"] == "revoke_service_token")
        .count();
    assert_eq!(revocations, 1);
    let reply = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/tokens/{}", Uuid::new_v4()),
            Some(&admin),
            None,
        )
        .await;
    assert_code(&reply, StatusCode::NOT_FOUND, "token_not_found");
    // The name is free again once revoked.
    let (expiring_id, expiring) = make_token(&t, &admin, "reader", &["read"], Some(1)).await;
    ok(t.get("/api/v1/admin/users", &expiring).await);
    sqlx::query("UPDATE service_tokens SET expires_at = $1 WHERE id = $2")
        .bind(crate::now_ms() - 1)
        .bind(&expiring_id)
        .execute(&t.store.pool)
        .await
        .unwrap();
    let reply = t.get("/api/v1/admin/users", &expiring).await;
    assert_code(&reply, StatusCode::UNAUTHORIZED, "token_expired");
    let reply = t.get("/api/v1/admin/users", "cft_not-a-token").await;
    assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn only_the_hash_is_stored_and_use_is_recorded_without_a_write_per_request() {
    let (t, admin, _) = with_admin().await;
    let (id, reader) = make_token(&t, &admin, "reader", &["read"], None).await;
    let rows = sqlx::query(
        "SELECT id, name, token_hash, scopes, created_by, last_used_address FROM service_tokens",
    )
    .fetch_all(&t.store.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    let secret = reader.trim_start_matches("cft_");
    for column in ["id", "name", "token_hash", "scopes", "created_by"] {
        let value: String = rows[0].try_get(column).unwrap();
        assert!(!value.contains(secret), "{column} holds the token");
    }
    let hash: String = rows[0].try_get("token_hash").unwrap();
    assert_eq!(hash, secrets::hash_token(&reader));
    // The list never shows a token.
    let listed = ok(t.get("/api/v1/admin/tokens", &admin).await);
    assert!(!listed.to_string().contains(secret));
    assert!(listed["tokens"][0]["last_used_at"].is_null());

    ok(t.get("/api/v1/admin/users", &reader).await);
    let last_used = || async {
        sqlx::query("SELECT last_used_at FROM service_tokens WHERE id = $1")
            .bind(&id)
            .fetch_one(&t.store.pool)
            .await
            .unwrap()
            .try_get::<Option<i64>, _>("last_used_at")
            .unwrap()
    };
    let mut first = None;
    for _ in 0..100 {
        first = last_used().await;
        if first.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let first = first.expect("the first use is recorded");
    for _ in 0..5 {
        ok(t.get("/api/v1/admin/users", &reader).await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(last_used().await, Some(first), "no write per request");
    let listed = ok(t.get("/api/v1/admin/tokens", &admin).await);
    assert_eq!(listed["tokens"][0]["last_used_address"], "0.0.0.0");
}

#[tokio::test]
async fn bad_requests_make_no_token() {
    let (t, admin, _) = with_admin().await;
    t.user("helpdesk", "Help Desk", Role::Support).await;
    let support = t.login("helpdesk", "app").await;
    let good = json!({ "name": "reader", "scopes": ["read"] });
    let reply = t.post("/api/v1/admin/tokens", &support, Some(&good)).await;
    assert_code(&reply, StatusCode::FORBIDDEN, "forbidden");
    assert_code(
        &t.get("/api/v1/admin/tokens", &support).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    for (body, code) in [
        (json!({ "name": "", "scopes": ["read"] }), "invalid_name"),
        (json!({ "name": " x", "scopes": ["read"] }), "invalid_name"),
        (json!({ "name": "x", "scopes": [] }), "invalid_scopes"),
        (
            json!({ "name": "x", "scopes": ["read", "read"] }),
            "invalid_scopes",
        ),
        (json!({ "name": "x", "scopes": ["admin"] }), "invalid_body"),
        (
            json!({ "name": "x", "scopes": ["read"], "expires_in_days": 0 }),
            "invalid_expiry",
        ),
        (
            json!({ "name": "x", "scopes": ["read"], "owner": "me" }),
            "invalid_body",
        ),
    ] {
        let reply = t.post("/api/v1/admin/tokens", &admin, Some(&body)).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, code);
    }
    make_token(&t, &admin, "reader", &["read"], None).await;
    let reply = t.post("/api/v1/admin/tokens", &admin, Some(&good)).await;
    assert_code(&reply, StatusCode::CONFLICT, "token_name_taken");
    let listed = ok(t.get("/api/v1/admin/tokens", &admin).await);
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn a_window_a_token_scheduled_signs_everyone_out_under_its_name() {
    let (t, admin, _) = with_admin().await;
    let alice = t.login("alice", "app").await;
    let (id, ops) = make_token(&t, &admin, "ops", &["maintenance"], None).await;
    let starts_at = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let window = json!({ "starts_at": starts_at, "message": "Update", "warn_before": [] });
    let created = t
        .post("/api/v1/admin/maintenance", &ops, Some(&window))
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    // The logout step, due now rather than in two hours, run as the scheduler runs it.
    sqlx::query("UPDATE maintenance_steps SET due_at = $1 WHERE kind = 'logout'")
        .bind(crate::now_ms() - 1)
        .execute(&t.store.pool)
        .await
        .unwrap();
    let state = AppState::new(t.store.clone(), generous_limits());
    let due = state.due_steps().await.unwrap();
    let logout = due
        .iter()
        .find(|s| s.kind == curfew::api::StepKind::Logout)
        .expect("the logout step is due");
    state.run_step(logout).await.unwrap();
    assert_eq!(t.token_state(&alice).await, "session_revoked");
    let admin = t.login("root", "web").await;
    let entries = t.audit_entries(&admin).await;
    let logout = entries
        .iter()
        .find(|e| e["action"] == "maintenance_logout")
        .expect("audited");
    assert_eq!(logout["actor_username"], "ops");
    assert_eq!(logout["actor_kind"], "service_token");
    assert_eq!(logout["actor_id"], id.as_str());
}
