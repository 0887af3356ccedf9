//! Resources and headers under attack: bounded password checks, the real client address
//! behind a proxy, the bearer scheme in any case, answers no cache keeps.

use super::*;

#[tokio::test]
async fn password_checks_past_the_bound_are_refused_busy_before_hashing() {
    let t = TestApp::with_config(Config {
        login_concurrency: 1,
        login_queue: 0,
        ..generous_limits()
    })
    .await;
    t.user("alice", "Alice Martin", Role::Member).await;
    // Sixteen sign-ins at once against one password check at a time and no queue: the
    // ones that find the check busy are refused at once (the exact split depends on
    // timing; the bound is unit-tested in core::hashing).
    let replies = futures_util::future::join_all(
        (0..16).map(|_| t.login_reply("alice", "a wrong guess", "web")),
    )
    .await;
    let busy: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.0 == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "{replies:?}");
    for reply in &replies {
        if reply.0 == StatusCode::SERVICE_UNAVAILABLE {
            assert_code(reply, StatusCode::SERVICE_UNAVAILABLE, "busy");
            assert_eq!(reply.2[header::RETRY_AFTER], "1");
        } else {
            assert_code(reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
        }
    }
    // The bound frees up: the right password now signs in.
    let (status, body, _) = t.login_reply("alice", PASSWORD, "web").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_address_behind_a_proxy_is_the_last_forwarded_entry_of_all_lines() {
    let t = TestApp::with_config(Config {
        login_per_minute_per_address: nz(3),
        login_per_minute_per_account: nz(1000),
        trust_forwarded_for: true,
        ..Config::default()
    })
    .await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let attempt = |first_line: String| {
        let body = json!({ "username": "alice", "password": "guess", "client": "web" });
        let request = Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            // The client's own line first, then the one the proxy appended.
            .header("x-forwarded-for", first_line)
            .header("x-forwarded-for", "198.51.100.7")
            .body(Body::from(body.to_string()))
            .expect("request");
        t.send(request)
    };
    for n in 0..3 {
        let reply = attempt(format!("10.0.0.{n}, 10.1.0.{n}")).await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let reply = attempt("10.9.9.9".into()).await;
    assert_code(&reply, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let t = TestApp::new().await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let token = t.login("alice", "app").await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let reply = t
            .request(
                Method::GET,
                "/api/v1/auth/session",
                Some(&format!("{scheme} {token}")),
                None,
            )
            .await;
        assert_eq!(reply.0, StatusCode::OK, "{scheme}: {}", reply.1);
    }
    for wrong in [
        format!("Basic {token}"),
        format!("Bearer{token}"),
        "Bearer ".into(),
    ] {
        let reply = t
            .request(Method::GET, "/api/v1/auth/session", Some(&wrong), None)
            .await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "missing_token");
    }
}

#[tokio::test]
async fn tokens_and_data_are_never_cached_or_sniffed() {
    let t = TestApp::new().await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let login = t.login_reply("alice", PASSWORD, "app").await;
    assert_eq!(login.0, StatusCode::OK);
    assert_eq!(login.2[header::CACHE_CONTROL], "no-store", "RFC 6749 §5.1");
    let token = login.1["token"].as_str().unwrap().to_owned();
    for reply in [
        t.get("/api/v1/auth/session", &token).await,
        t.get("/api/v1/admin/me", &token).await,
        t.call(Method::GET, "/api/v1/nowhere", None, None).await,
    ] {
        assert_eq!(reply.2[header::CACHE_CONTROL], "no-store", "{reply:?}");
        assert_eq!(reply.2[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
    let (_, headers, _) = t
        .send_raw(Request::get("/").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn health_is_a_ping_not_an_aggregate() {
    let t = TestApp::new().await;
    let reply = t.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(reply.0, StatusCode::OK);
    assert_eq!(reply.1, json!({ "status": "ok" }));
    // With the sessions table gone, the session-summary aggregate (which /healthz ran)
    // fails; a liveness ping does not touch it.
    sqlx::query("DROP TABLE sessions")
        .execute(&t.store.pool)
        .await
        .expect("drop");
    let reply = t.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(reply.0, StatusCode::OK, "{}", reply.1);
}

#[tokio::test]
async fn signing_in_past_the_session_limit_ends_the_oldest() {
    let t = TestApp::with_config(Config {
        sessions_per_user: 3,
        ..generous_limits()
    })
    .await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let mut tokens = Vec::new();
    for client in ["app", "web", "web", "app"] {
        tokens.push(t.login("alice", client).await);
    }
    let oldest = t.get("/api/v1/auth/session", &tokens[0]).await;
    assert_code(&oldest, StatusCode::UNAUTHORIZED, "session_revoked");
    assert!(
        oldest.1["message"]
            .as_str()
            .unwrap()
            .contains("signed in on another device"),
        "{}",
        oldest.1
    );
    for token in &tokens[1..] {
        ok(t.get("/api/v1/auth/session", token).await);
    }
    let summary = t
        .store
        .session_summary(crate::now_ms(), None)
        .await
        .unwrap();
    assert_eq!(summary.app_sessions + summary.web_sessions, 3);
}

#[tokio::test]
async fn idle_sessions_end_at_the_next_request_and_in_the_sweep() {
    let config = Config {
        session_idle: Some(std::time::Duration::from_secs(3600)),
        ..generous_limits()
    };
    let t = TestApp::with_config(config.clone()).await;
    t.user("alice", "Alice Martin", Role::Member).await;
    t.user("bob", "Bob Okafor", Role::Member).await;
    let (alice, bob) = (t.login("alice", "app").await, t.login("bob", "web").await);
    ok(t.get("/api/v1/auth/session", &alice).await);
    // Alice's session was last used two hours ago; Bob's now.
    let two_hours_ago = crate::now_ms() - 2 * 3600 * 1000;
    sqlx::query(
        "UPDATE sessions SET last_seen_at = $1 WHERE user_id = \
         (SELECT id FROM users WHERE username = 'alice')",
    )
    .bind(two_hours_ago)
    .execute(&t.store.pool)
    .await
    .unwrap();
    let reply = t.get("/api/v1/auth/session", &alice).await;
    assert_code(&reply, StatusCode::UNAUTHORIZED, "session_expired");
    assert!(
        reply.1["message"]
            .as_str()
            .unwrap()
            .contains("1 hour without use"),
        "{}",
        reply.1
    );
    ok(t.get("/api/v1/auth/session", &bob).await);
    // The sweep ends it for the counts too, and only it.
    let state = AppState::new(t.store.clone(), config);
    assert_eq!(state.expire_idle_sessions().await.unwrap(), 1);
    let summary = t
        .store
        .session_summary(crate::now_ms(), None)
        .await
        .unwrap();
    assert_eq!((summary.app_sessions, summary.web_sessions), (0, 1));
}

#[tokio::test]
async fn every_sign_in_and_every_refusal_is_audited_with_its_address_and_client() {
    let t = TestApp::with_config(Config {
        login_per_minute_per_account: nz(3),
        ..generous_limits()
    })
    .await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("alice", "Alice Martin", Role::Member).await;
    t.add_user("carol", "Carol Diaz", Role::Member, UserStatus::Deactivated)
        .await;
    let wrong = t.login_reply("alice", "not it", "web").await;
    assert_code(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let unknown = t.login_reply("nobody", "not it", "app").await;
    assert_code(&unknown, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let deactivated = t.login_reply("carol", PASSWORD, "web").await;
    assert_code(&deactivated, StatusCode::FORBIDDEN, "account_deactivated");
    for _ in 0..3 {
        let reply = t.login_reply("carol", "not it", "web").await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    // Throttled attempts are logged, not audited: an anonymous flood cannot grow the audit.
    let throttled = t.login_reply("carol", "not it", "web").await;
    assert_code(&throttled, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let alice = t.login("alice", "app").await;
    assert!(!alice.is_empty());
    let root = t.login("root", "app").await;

    let page = ok(t
        .get("/api/v1/admin/audit?limit=50&category=sign_in", &root)
        .await);
    // Administrators' actions are listed apart: by default, sign-ins are not among them.
    let admin_only = ok(t.get("/api/v1/admin/audit", &root).await);
    assert_eq!(admin_only["entries"], json!([]));
    let entries: Vec<(String, String, String, String, Value)> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor_username"].as_str().unwrap().to_owned(),
                e["client"].as_str().unwrap_or_default().to_owned(),
                e["address"].as_str().unwrap_or_default().to_owned(),
                e["reason"].clone(),
            )
        })
        .collect();
    let sign_in = |who: &str, client: &str| {
        (
            "sign_in".to_owned(),
            who.to_owned(),
            client.to_owned(),
            "0.0.0.0".to_owned(),
            Value::Null,
        )
    };
    let failed = |who: &str, client: &str, reason: &str| {
        (
            "sign_in_failed".to_owned(),
            who.to_owned(),
            client.to_owned(),
            "0.0.0.0".to_owned(),
            json!(reason),
        )
    };
    let mut expected = vec![
        failed("alice", "web", "invalid_credentials"),
        failed("nobody", "app", "invalid_credentials"),
        failed("carol", "web", "account_deactivated"),
    ];
    // Carol's three wrong passwords (her account's allowance of failures is 3; the
    // deactivated refusal is not a guess).
    expected.extend(std::iter::repeat_n(
        failed("carol", "web", "invalid_credentials"),
        3,
    ));
    expected.push(sign_in("alice", "app"));
    expected.push(sign_in("root", "app"));
    expected.reverse(); // newest first
    assert_eq!(entries, expected);
}

#[tokio::test]
async fn a_throttled_account_is_listed_and_an_administrator_can_let_it_try_again() {
    let t = TestApp::with_config(Config {
        login_per_minute_per_account: nz(3),
        ..generous_limits()
    })
    .await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("helpdesk", "Help Desk", Role::Support).await;
    let alice = t.user("alice", "Alice Martin", Role::Member).await;
    let support = t.login("helpdesk", "app").await;
    for _ in 0..3 {
        let reply = t.login_reply("alice", "a guess", "web").await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let locked_out = t.login_reply("alice", PASSWORD, "web").await;
    assert_code(&locked_out, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    t.login_reply("ghost", "a guess", "web").await;

    let list = ok(t.get("/api/v1/admin/sign-in-throttles", &support).await);
    assert_eq!(list["failures_allowed"], 3);
    let accounts = list["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{list}");
    let first = &accounts[0];
    assert_eq!(first["username"], "alice");
    assert_eq!(first["user_id"], alice.to_string());
    assert_eq!(
        (first["failures"].as_u64(), first["refused"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(first["addresses"], 1);
    assert!(
        (1..=60).contains(&first["throttled_for_seconds"].as_u64().unwrap()),
        "{first}"
    );
    assert_eq!(accounts[1]["username"], "ghost");
    assert_eq!(accounts[1]["user_id"], Value::Null);
    assert_eq!(accounts[1]["throttled_for_seconds"], Value::Null);

    let cleared = clear(&t, &support, " Alice ").await;
    assert_eq!(cleared.0, StatusCode::NO_CONTENT, "{}", cleared.1);
    let (status, body, _) = t.login_reply("alice", PASSWORD, "web").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_code(
        &clear(&t, &support, "alice").await,
        StatusCode::NOT_FOUND,
        "not_throttled",
    );
    assert_code(
        &clear(&t, &support, "").await,
        StatusCode::BAD_REQUEST,
        "invalid_username",
    );
    let audit = t.audit_entries(&support).await;
    assert_eq!(audit[0]["action"], "clear_throttle", "{audit:?}");
    assert_eq!(audit[0]["actor_username"], "helpdesk");
    assert_eq!(audit[0]["target_username"], "alice");
    assert_eq!(audit[0]["target_user_id"], alice.to_string());
}

async fn clear(t: &TestApp, token: &str, username: &str) -> Reply {
    t.call(
        Method::POST,
        "/api/v1/admin/sign-in-throttles/clear",
        Some(token),
        Some(&json!({ "username": username })),
    )
    .await
}
