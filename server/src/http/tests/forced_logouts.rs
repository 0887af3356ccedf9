//! Forced logouts: everyone, one user, deactivation.

use super::*;

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
