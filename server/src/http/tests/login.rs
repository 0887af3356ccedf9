//! Sign-in refusals and rate limits.

use super::*;

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
