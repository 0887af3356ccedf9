//! Accounts managed by administrators, and one's own password: every change audited,
//! bad input refused with nothing changed, the last administrator kept.

use super::*;

async fn post(t: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    t.call(Method::POST, path, Some(token), Some(&body)).await
}

async fn patch(t: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    t.call(Method::PATCH, path, Some(token), Some(&body)).await
}

#[tokio::test]
async fn an_admin_creates_an_account_that_signs_in_and_bad_ones_change_nothing() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("helpdesk", "Help Desk", Role::Support).await;
    let admin = t.login("root", "app").await;
    let support = t.login("helpdesk", "app").await;
    let before = t.snapshot(&admin).await;
    for (body, code) in [
        (
            json!({"username": "", "role": "member"}),
            "invalid_username",
        ),
        (
            json!({"username": "Ann Smith", "role": "member"}),
            "invalid_username",
        ),
        (
            json!({"username": "ann", "role": "member", "password": "short"}),
            "invalid_password",
        ),
        (
            json!({"username": "ann", "role": "member", "email": "ann at example"}),
            "invalid_email",
        ),
        (
            json!({"username": "ann", "role": "member", "display_name": "  "}),
            "invalid_display_name",
        ),
        (
            json!({"username": "root", "role": "member"}),
            "username_taken",
        ),
    ] {
        let reply = post(&t, "/api/v1/admin/users", &admin, body.clone()).await;
        assert_eq!(reply.1["error"], code, "{body}: {}", reply.1);
    }
    let reply = post(
        &t,
        "/api/v1/admin/users",
        &admin,
        json!({"username": "ann", "role": "member", "shoe_size": 9}),
    )
    .await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_body");
    let reply = post(
        &t,
        "/api/v1/admin/users",
        &support,
        json!({"username": "ann", "role": "member"}),
    )
    .await;
    assert_code(&reply, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(t.snapshot(&admin).await, before, "refusals created nothing");

    let created = post(
        &t,
        "/api/v1/admin/users",
        &admin,
        json!({"username": " Ann ", "display_name": "Ann Smith", "email": "ann@example.com", "role": "member", "password": PASSWORD}),
    )
    .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1["username"], "ann");
    assert_eq!(created.1["email"], "ann@example.com");
    ok(t.get("/api/v1/auth/session", &t.login("ann", "web").await)
        .await);
    // Without a password: it exists, but no password signs it in.
    let sso = post(
        &t,
        "/api/v1/admin/users",
        &admin,
        json!({"username": "sso-only", "role": "member"}),
    )
    .await;
    assert_eq!(sso.0, StatusCode::CREATED, "{}", sso.1);
    assert_code(
        &t.login_reply("sso-only", "", "web").await,
        StatusCode::BAD_REQUEST,
        "missing_credentials",
    );
    assert_code(
        &t.login_reply("sso-only", PASSWORD, "web").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let audit = t.audit_entries(&admin).await;
    assert_eq!(audit[0]["action"], "create_user");
    assert_eq!(audit[0]["target_username"], "sso-only");
    assert_eq!(audit[1]["target_username"], "ann");
}

#[tokio::test]
async fn a_role_change_takes_effect_at_once_and_the_last_admin_stays() {
    let t = TestApp::new().await;
    let root = t.user("root", "Root Admin", Role::Admin).await;
    let deputy = t.user("deputy", "Dep Uty", Role::Admin).await;
    let admin = t.login("root", "app").await;
    let deputy_token = t.login("deputy", "app").await;
    ok(t.get("/api/v1/admin/me", &deputy_token).await);
    let demoted = patch(
        &t,
        &format!("/api/v1/admin/users/{deputy}"),
        &admin,
        json!({"role": "member"}),
    )
    .await;
    assert_eq!(demoted.0, StatusCode::OK, "{}", demoted.1);
    assert_eq!(demoted.1["role"], "member");
    let refused = t.get("/api/v1/admin/me", &deputy_token).await;
    assert_code(&refused, StatusCode::FORBIDDEN, "not_an_administrator");
    ok(t.get("/api/v1/auth/session", &deputy_token).await);
    // Nobody changes their own role (root would lose the console mid-task, and as the
    // only active admin it would leave none); nothing changes.
    let before = t.snapshot(&admin).await;
    let own = patch(
        &t,
        &format!("/api/v1/admin/users/{root}"),
        &admin,
        json!({"role": "support"}),
    )
    .await;
    assert_code(&own, StatusCode::CONFLICT, "cannot_change_own_role");
    assert_eq!(t.snapshot(&admin).await, before);
    let nothing = patch(
        &t,
        &format!("/api/v1/admin/users/{root}"),
        &admin,
        json!({}),
    )
    .await;
    // Nothing to change: the account as it is, and no audit entry.
    assert_eq!(nothing.1["role"], "admin", "{}", nothing.1);
    assert_eq!(t.snapshot(&admin).await, before);
    let renamed = patch(
        &t,
        &format!("/api/v1/admin/users/{deputy}"),
        &admin,
        json!({"display_name": "Deputy Ortiz", "email": "dep@example.com"}),
    )
    .await;
    assert_eq!(renamed.1["display_name"], "Deputy Ortiz", "{}", renamed.1);
    let cleared = patch(
        &t,
        &format!("/api/v1/admin/users/{deputy}"),
        &admin,
        json!({"email": null}),
    )
    .await;
    assert_eq!(cleared.1["email"], Value::Null, "{}", cleared.1);
    assert_eq!(
        cleared.1["display_name"], "Deputy Ortiz",
        "absent fields stay"
    );
    let found = ok(t.get("/api/v1/admin/users?q=ortiz", &admin).await);
    assert_eq!(
        usernames(&found),
        vec!["deputy"],
        "the search follows the new name"
    );
    let audit = t.audit_entries(&admin).await;
    assert_eq!(audit[2]["action"], "update_user");
    assert_eq!(audit[2]["reason"], "role admin → member");
}

#[tokio::test]
async fn a_password_reset_is_shown_once_and_signs_out_unless_asked_not_to() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    let alice = t.user("alice", "Alice Martin", Role::Member).await;
    let admin = t.login("root", "app").await;
    let phone = t.login("alice", "app").await;
    let reset = post(
        &t,
        &format!("/api/v1/admin/users/{alice}/password"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(reset.0, StatusCode::OK, "{}", reset.1);
    let generated = reset.1["generated_password"].as_str().unwrap().to_owned();
    assert_eq!(reset.1["sessions_revoked"], 1);
    assert_code(
        &t.get("/api/v1/auth/session", &phone).await,
        StatusCode::UNAUTHORIZED,
        "session_revoked",
    );
    assert_code(
        &t.login_reply("alice", PASSWORD, "web").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let (status, body, _) = t.login_reply("alice", &generated, "web").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let web = body["token"].as_str().unwrap().to_owned();
    let kept = post(
        &t,
        &format!("/api/v1/admin/users/{alice}/password"),
        &admin,
        json!({"password": "a typed passphrase", "sign_out": false}),
    )
    .await;
    assert_eq!(
        kept.1,
        json!({"generated_password": null, "sessions_revoked": 0})
    );
    ok(t.get("/api/v1/auth/session", &web).await);
    // One's own password takes the current one: no reset of it.
    let root = t.store.user_by_username("root").await.unwrap().unwrap().id;
    let own = post(
        &t,
        &format!("/api/v1/admin/users/{root}/password"),
        &admin,
        json!({}),
    )
    .await;
    assert_code(&own, StatusCode::CONFLICT, "own_password");
    let short = post(
        &t,
        &format!("/api/v1/admin/users/{alice}/password"),
        &admin,
        json!({"password": "short"}),
    )
    .await;
    assert_code(&short, StatusCode::BAD_REQUEST, "invalid_password");
    assert!(!t
        .audit_entries(&admin)
        .await
        .iter()
        .any(|e| e.to_string().contains(&generated)));
}

#[tokio::test]
async fn deleting_an_account_ends_its_sessions_and_the_audit_keeps_its_name() {
    let t = TestApp::new().await;
    let root = t.user("root", "Root Admin", Role::Admin).await;
    let bob = t.user("bob", "Bob Okafor", Role::Member).await;
    let admin = t.login("root", "app").await;
    let (bob_app, bob_web) = (t.login("bob", "app").await, t.login("bob", "web").await);
    let deleted = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/users/{bob}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        deleted.1,
        json!({"username": "bob", "sessions_revoked": 2}),
        "{:?}",
        deleted.0
    );
    for token in [&bob_app, &bob_web] {
        assert_eq!(
            t.get("/api/v1/auth/session", token).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let gone = t
        .call(
            Method::POST,
            &format!("/api/v1/admin/users/{bob}/logout"),
            Some(&admin),
            None,
        )
        .await;
    assert_code(&gone, StatusCode::NOT_FOUND, "user_not_found");
    let audit = t.audit_entries(&admin).await;
    assert_eq!(audit[0]["action"], "delete_user");
    assert_eq!(audit[0]["target_username"], "bob");
    assert_eq!(audit[0]["target_user_id"], bob.to_string());
    // The name can be given again; the id never comes back.
    let again = post(
        &t,
        "/api/v1/admin/users",
        &admin,
        json!({"username": "bob", "role": "member"}),
    )
    .await;
    assert_eq!(again.0, StatusCode::CREATED);
    assert_ne!(again.1["id"], bob.to_string());
    let own = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/users/{root}"),
            Some(&admin),
            None,
        )
        .await;
    assert_code(&own, StatusCode::CONFLICT, "cannot_delete_self");
}

#[tokio::test]
async fn changing_ones_own_password_ends_ones_other_sessions() {
    let t = TestApp::new().await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let (laptop, phone) = (t.login("alice", "web").await, t.login("alice", "app").await);
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let wrong = post(
        &t,
        "/api/v1/auth/password",
        &laptop,
        change("not it", "a brand new passphrase"),
    )
    .await;
    assert_code(&wrong, StatusCode::FORBIDDEN, "wrong_password");
    let short = post(
        &t,
        "/api/v1/auth/password",
        &laptop,
        change(PASSWORD, "short"),
    )
    .await;
    assert_code(&short, StatusCode::BAD_REQUEST, "invalid_password");
    ok(t.get("/api/v1/auth/session", &phone).await);
    let done = post(
        &t,
        "/api/v1/auth/password",
        &laptop,
        change(PASSWORD, "a brand new passphrase"),
    )
    .await;
    assert_eq!(done.0, StatusCode::NO_CONTENT, "{}", done.1);
    ok(t.get("/api/v1/auth/session", &laptop).await);
    let ended = t.get("/api/v1/auth/session", &phone).await;
    assert_code(&ended, StatusCode::UNAUTHORIZED, "session_revoked");
    assert!(
        ended.1["message"].as_str().unwrap().contains("password"),
        "{}",
        ended.1
    );
    let (status, _, _) = t
        .login_reply("alice", "a brand new passphrase", "app")
        .await;
    assert_eq!(status, StatusCode::OK);
}
