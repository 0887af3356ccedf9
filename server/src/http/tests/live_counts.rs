//! Each user's stored live-session counts (migration 0016) through the router: after every
//! way a session starts or ends — sign-in past the per-user limit, sign-out, one session
//! ended, a user's logout, time running out, Logout selected, Deactivate selected, idle
//! sessions, logout-all, deletion — the sessions order, the Online chip and filter and the
//! session summary answer what counting the live sessions themselves answers.

use std::collections::BTreeMap;

use super::*;

/// Each user's live (app, web) sessions, counted from the sessions themselves.
async fn counted_from_sessions(t: &TestApp) -> BTreeMap<String, (i64, i64)> {
    let now = crate::now_ms();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT u.username, s.client, COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.revoked_at IS NULL AND s.expires_at > $1 GROUP BY u.username, s.client",
    )
    .bind(now)
    .fetch_all(&t.store.pool)
    .await
    .unwrap();
    let mut live = BTreeMap::new();
    for (username, client, n) in rows {
        let entry: &mut (i64, i64) = live.entry(username).or_default();
        if client == "app" {
            entry.0 = n;
        } else {
            entry.1 = n;
        }
    }
    live
}

/// The list, its counts and the summary agree with the sessions themselves, and so do the
/// stored counts once a read has settled them.
async fn assert_counts_right(t: &TestApp, admin: &str, after: &str) {
    let live = counted_from_sessions(t).await;
    let total = |name: &str| live.get(name).map_or(0, |(a, w)| a + w);
    let page = ok(t
        .users(admin, &[("sort", "sessions"), ("limit", "100")])
        .await);
    let users = page["users"].as_array().unwrap();
    for user in users {
        let name = user["username"].as_str().unwrap();
        let (app, web) = live.get(name).copied().unwrap_or_default();
        assert_eq!(
            (
                user["app_sessions"].as_i64().unwrap(),
                user["web_sessions"].as_i64().unwrap()
            ),
            (app, web),
            "{name} after {after}"
        );
    }
    let order: Vec<i64> = users
        .iter()
        .map(|u| total(u["username"].as_str().unwrap()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        order,
        sorted,
        "most sessions first after {after}: {}",
        usernames(&page).join(" ")
    );
    let online = live.values().filter(|(a, w)| a + w > 0).count() as i64;
    let filtered = ok(t
        .users(admin, &[("status", "online"), ("limit", "100")])
        .await);
    assert_eq!(
        filtered["users"].as_array().unwrap().len() as i64,
        online,
        "Online after {after}"
    );
    let counts = ok(t.get("/api/v1/admin/users/counts", admin).await);
    assert_eq!(counts["online"], online, "the Online chip after {after}");
    let summary = ok(t.get("/api/v1/admin/sessions/summary", admin).await);
    let app: i64 = live.values().map(|(a, _)| a).sum();
    let web: i64 = live.values().map(|(_, w)| w).sum();
    assert_eq!(summary["online_users"], online, "summary after {after}");
    assert_eq!(
        (
            summary["app_sessions"].as_i64(),
            summary["web_sessions"].as_i64()
        ),
        (Some(app), Some(web)),
        "summary after {after}"
    );
    // The caller's own session stays in a logout-all: one session, and its user if alone.
    let me = total("root");
    assert_eq!(
        summary["logout_all"]["sessions"],
        app + web - 1,
        "logout-all preview after {after}"
    );
    assert_eq!(
        summary["logout_all"]["users"],
        online - i64::from(me == 1),
        "logout-all preview after {after}"
    );
    let stored: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT username, live_app_sessions, live_web_sessions FROM users ORDER BY username",
    )
    .fetch_all(&t.store.pool)
    .await
    .unwrap();
    for (name, app, web) in stored {
        assert_eq!(
            (app, web),
            live.get(&name).copied().unwrap_or_default(),
            "stored counts of {name} after {after}"
        );
    }
}

#[tokio::test]
async fn the_stored_counts_follow_every_way_a_session_ends() {
    let t = TestApp::with_config(Config {
        sessions_per_user: 3,
        ..generous_limits()
    })
    .await;
    t.user("root", "Root Admin", Role::Admin).await;
    let mut ids = BTreeMap::new();
    for (name, display) in [
        ("anna", "Anna Berg"),
        ("bob", "Bob Okafor"),
        ("carl", "Carl Diaz"),
        ("dora", "Dora Ek"),
        ("eve", "Eve Ng"),
    ] {
        ids.insert(name, t.user(name, display, Role::Member).await);
    }
    let admin = t.login("root", "app").await;
    assert_counts_right(&t, &admin, "no sign-in").await;

    // Sign-ins, four of bob's past the limit of three: his oldest ended.
    let anna_web = t.login("anna", "web").await;
    t.login("anna", "app").await;
    for _ in 0..4 {
        t.login("bob", "web").await;
    }
    let carl = t.login("carl", "app").await;
    t.login("dora", "web").await;
    t.login("dora", "app").await;
    let eve = t.login("eve", "web").await;
    assert_counts_right(&t, &admin, "sign-ins past the limit").await;

    let signed_out = t.post("/api/v1/auth/logout", &carl, None).await;
    assert!(signed_out.0.is_success(), "{signed_out:?}");
    assert_counts_right(&t, &admin, "a sign-out").await;

    let sessions = ok(t
        .get(
            &format!("/api/v1/admin/users/{}/sessions", ids["anna"]),
            &admin,
        )
        .await);
    let one = sessions["sessions"][0]["id"].as_str().unwrap().to_owned();
    let ended = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/sessions/{one}"),
            Some(&admin),
            None,
        )
        .await;
    assert!(ended.0.is_success(), "{ended:?}");
    assert_counts_right(&t, &admin, "one session ended").await;

    ok(t.post(
        &format!("/api/v1/admin/users/{}/logout", ids["dora"]),
        &admin,
        None,
    )
    .await);
    assert_counts_right(&t, &admin, "a user's logout").await;

    // Time runs out on one of bob's sessions and on eve's: no statement ends them.
    for (user, limit) in [(ids["bob"], 1), (ids["eve"], 1)] {
        sqlx::query(
            "UPDATE sessions SET expires_at = $1 WHERE id IN (SELECT id FROM sessions s \
             WHERE s.revoked_at IS NULL AND s.user_id = $2 ORDER BY s.created_at LIMIT $3)",
        )
        .bind(crate::now_ms() - 1)
        .bind(user.to_string())
        .bind(limit)
        .execute(&t.store.pool)
        .await
        .unwrap();
    }
    assert_counts_right(&t, &admin, "sessions whose time ran out").await;
    assert_eq!(t.token_state(&eve).await, "session_expired");

    for name in ["carl", "eve"] {
        t.login(name, "web").await;
    }
    ok(t.post(
        "/api/v1/admin/users/logout",
        &admin,
        Some(&json!({ "selection": { "ids": [ids["bob"], ids["carl"]] } })),
    )
    .await);
    assert_counts_right(&t, &admin, "Logout selected").await;

    ok(t.post(
        "/api/v1/admin/users/deactivate",
        &admin,
        Some(&json!({ "selection": { "matching": { "status": "online", "role": "member" } } })),
    )
    .await);
    assert_counts_right(&t, &admin, "Deactivate selected of the Online members").await;
    assert_eq!(t.token_state(&anna_web).await, "session_revoked");

    ok(t.post(
        &format!("/api/v1/admin/users/{}/activate", ids["anna"]),
        &admin,
        None,
    )
    .await);
    let idle = t.login("anna", "web").await;
    t.login("anna", "app").await;
    t.login("root", "web").await;
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(crate::now_ms() - 40 * 86_400_000)
        .bind(secrets::hash_token(&idle))
        .execute(&t.store.pool)
        .await
        .unwrap();
    ok(t.post(
        "/api/v1/admin/sessions/logout-idle",
        &admin,
        Some(&json!({ "days": 30 })),
    )
    .await);
    assert_counts_right(&t, &admin, "idle sessions signed out").await;

    ok(t.post(
        "/api/v1/admin/logout-all",
        &admin,
        Some(&json!({ "keep_admins": false })),
    )
    .await);
    assert_counts_right(&t, &admin, "logout-all").await;

    t.login("dora", "app").await;
    let deleted = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/users/{}", ids["dora"]),
            Some(&admin),
            None,
        )
        .await;
    assert!(deleted.0.is_success(), "{deleted:?}");
    assert_counts_right(&t, &admin, "a deletion").await;
}
