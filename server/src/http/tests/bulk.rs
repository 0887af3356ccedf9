//! The users list as a tool: its three orders (paged by cursor), the role filter, the
//! counts that follow the search; Logout selected and Deactivate selected (ids or all
//! matching, one audit entry, the caller spared); signing out idle sessions.

use super::*;

/// root (admin), sue (support), and members; some signed in, some twice, some idle.
struct People {
    t: TestApp,
    root: String,
    ids: std::collections::HashMap<&'static str, Uuid>,
}

const MEMBERS: &[(&str, &str)] = &[
    ("anna", "Anna Berg"),
    ("andy", "Andy Lowe"),
    ("bea", "Bea Jones"),
    ("dan", "Dan Brown"),
    ("hana", "Hana Ito"),
    ("ian", "Ian Ward"),
    ("jan", "Jan Novak"),
    ("kim", "Kim Lee"),
];

async fn people() -> People {
    people_with(generous_limits()).await
}

async fn people_with(config: Config) -> People {
    let t = TestApp::with_config(config).await;
    let mut ids = std::collections::HashMap::new();
    ids.insert("root", t.user("root", "Root Admin", Role::Admin).await);
    ids.insert("sue", t.user("sue", "Sue Support", Role::Support).await);
    for (username, name) in MEMBERS {
        ids.insert(*username, t.user(username, name, Role::Member).await);
    }
    ids.insert(
        "gone",
        t.add_user(
            "gone",
            "Gone Anderson",
            Role::Member,
            UserStatus::Deactivated,
        )
        .await,
    );
    let root = t.login("root", "app").await;
    People { t, root, ids }
}

fn body(v: Value) -> Option<Value> {
    Some(v)
}

#[tokio::test]
async fn each_order_pages_exactly_once_through_every_user() {
    let p = people().await;
    let t = &p.t;
    // Sessions: hana 3, dan 2, jan 2, kim 1, root 1 (the admin's own), the rest none.
    for (who, n) in [("hana", 3), ("dan", 2), ("jan", 2), ("kim", 1)] {
        for _ in 0..n {
            t.login(who, "web").await;
        }
    }
    // Last active: set apart by minutes, so that the order is known; bea never.
    let now = crate::now_ms();
    for (i, who) in ["ian", "anna", "andy"].iter().enumerate() {
        sqlx::query("UPDATE users SET last_seen_at = $1 WHERE username = $2")
            .bind(now + 60_000 * (3 - i as i64))
            .bind(*who)
            .execute(&t.store.pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE users SET last_seen_at = NULL WHERE username IN ('bea', 'sue', 'gone')")
        .execute(&t.store.pool)
        .await
        .unwrap();

    let by_sessions = [
        "hana", "dan", "jan", "kim", "root", // then no session, by name
        "andy", "anna", "bea", "gone", "ian", "sue",
    ];
    for limit in [1, 2, 3, 4, 100] {
        let seen = all_pages(t, &p.root, &[("sort", "sessions")], limit).await;
        assert_eq!(seen, by_sessions, "sessions order, pages of {limit}");
    }
    let by_name = all_pages(t, &p.root, &[], 100).await;
    for limit in [1, 3] {
        assert_eq!(
            all_pages(t, &p.root, &[("sort", "name")], limit).await,
            by_name
        );
    }
    for limit in [1, 2, 5] {
        let seen = all_pages(t, &p.root, &[("sort", "last_active")], limit).await;
        assert_eq!(
            &seen[..3],
            ["ian", "anna", "andy"],
            "most recent first: {seen:?}"
        );
        // Never active: last, by username.
        assert_eq!(&seen[seen.len() - 3..], ["bea", "gone", "sue"], "{seen:?}");
        assert_eq!(seen.len(), 11);
    }
    // The role filter, in any order, with the search.
    let members = all_pages(
        t,
        &p.root,
        &[("role", "member"), ("q", "an"), ("sort", "sessions")],
        2,
    )
    .await;
    assert_eq!(
        members,
        ["hana", "dan", "jan", "andy", "anna", "gone", "ian"]
    );
    let support = all_pages(t, &p.root, &[("role", "support")], 10).await;
    assert_eq!(support, ["sue"]);
    // The Online filter in the sessions order: only the first part.
    let online = all_pages(t, &p.root, &[("status", "online"), ("sort", "sessions")], 2).await;
    assert_eq!(online, by_sessions[..5]);

    // A cursor belongs to its order.
    let page = ok(t
        .users(&p.root, &[("sort", "sessions"), ("limit", "1")])
        .await);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    for other in ["name", "last_active"] {
        let reply = t
            .users(&p.root, &[("sort", other), ("cursor", &cursor)])
            .await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_cursor");
    }
    let reply = t.users(&p.root, &[("sort", "loudest")]).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, Some("invalid_query"));
    let reply = t.users(&p.root, &[("role", "owner")]).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, Some("invalid_query"));
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
        seen.extend(names);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
    panic!("paging never ended: {seen:?}");
}

#[tokio::test]
async fn chip_counts_follow_the_search_the_filter_and_the_role() {
    let p = people().await;
    let t = &p.t;
    t.login("anna", "web").await;
    t.login("dan", "app").await;
    let root = p.root.clone();
    let counts = |q: &str| {
        let path = format!("/api/v1/admin/users/counts{}", query(&[("q", q)]));
        let root = root.clone();
        async move { ok(t.get(&path, &root).await) }
    };
    let all = counts("").await;
    assert_eq!(all["matching"], 11);
    assert_eq!(all["all"], 11);
    assert_eq!(all["online"], 3, "anna, dan and root: {all}");
    assert_eq!(all["deactivated"], 1);
    assert_eq!(all["active"], 10);
    assert_eq!(
        (
            all["admin"].as_i64(),
            all["support"].as_i64(),
            all["member"].as_i64()
        ),
        (Some(1), Some(1), Some(9))
    );
    // "an": anna, andy, dan, hana, ian, jan, gone (Anderson).
    let an = counts("an").await;
    assert_eq!(an["matching"], 7, "{an}");
    assert_eq!(an["online"], 2, "{an}");
    assert_eq!(an["deactivated"], 1, "{an}");
    assert_eq!(an["member"], 7, "{an}");
    assert_eq!(an["admin"], 0, "{an}");
    // With a filter and a role: matching narrows by both, each chip by the other.
    let path = format!(
        "/api/v1/admin/users/counts{}",
        query(&[("q", "an"), ("status", "online"), ("role", "member")])
    );
    let narrowed = ok(t.get(&path, &p.root).await);
    assert_eq!(narrowed["matching"], 2, "{narrowed}");
    assert_eq!(
        narrowed["all"], 7,
        "status chips count the role: {narrowed}"
    );
    assert_eq!(
        narrowed["all_roles"], 2,
        "role chips count the status: {narrowed}"
    );
    assert_eq!(narrowed["admin"], 0);
    // The users list agrees with `matching`.
    let listed = ok(t
        .users(
            &p.root,
            &[("q", "an"), ("status", "online"), ("role", "member")],
        )
        .await);
    assert_eq!(usernames(&listed).len(), 2);
    // A member may not count; bad search text is refused.
    let member = t.login("kim", "app").await;
    assert_code(
        &t.get("/api/v1/admin/users/counts", &member).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let long = "x".repeat(curfew::limits::SEARCH_MAX + 1);
    let path = format!("/api/v1/admin/users/counts{}", query(&[("q", &long)]));
    assert_code(
        &t.get(&path, &p.root).await,
        StatusCode::BAD_REQUEST,
        "search_too_long",
    );
}

/// The ids of the entries the audit filter by user (`target`) finds, newest first.
async fn found_by_target(t: &TestApp, token: &str, target: &str) -> Vec<Value> {
    let page = ok(t
        .get(&format!("/api/v1/admin/audit?target={target}"), token)
        .await);
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect()
}

#[tokio::test]
async fn logout_selected_by_ids_ends_their_sessions_in_one_audited_call() {
    let p = people().await;
    let t = &p.t;
    let anna = [t.login("anna", "web").await, t.login("anna", "app").await];
    let dan = t.login("dan", "web").await;
    let kim = t.login("kim", "web").await;
    let root_web = t.login("root", "web").await;
    let ids = json!([
        p.ids["anna"],
        p.ids["dan"],
        p.ids["root"],
        p.ids["bea"],
        Uuid::new_v4()
    ]);
    let selection = json!({ "ids": ids });
    let preview = ok(t
        .post(
            "/api/v1/admin/users/logout",
            &p.root,
            body(json!({ "selection": selection, "dry_run": true })).as_ref(),
        )
        .await);
    // anna 2 + dan 1 + root's other session 1; the unknown id is not counted.
    assert_eq!(preview["selected"], 4, "{preview}");
    assert_eq!(preview["sessions_revoked"], 4, "{preview}");
    assert_eq!(preview["users_affected"], 3, "{preview}");
    assert_eq!(preview["own_account_spared"], true);
    assert_eq!(preview["dry_run"], true);
    assert_eq!(
        t.token_state(&dan).await,
        "live",
        "a dry run changes nothing"
    );
    let audit_before = t.audit_entries(&p.root).await.len();

    let done = ok(t
        .post(
            "/api/v1/admin/users/logout",
            &p.root,
            body(json!({ "selection": selection })).as_ref(),
        )
        .await);
    assert_eq!(done["sessions_revoked"], 4, "{done}");
    assert_eq!(done["users_affected"], 3, "{done}");
    assert_eq!(done["dry_run"], false);
    for token in anna.iter().chain([&dan, &root_web]) {
        assert_eq!(t.token_state(token).await, "session_revoked");
    }
    assert_eq!(t.token_state(&kim).await, "live", "kim was not selected");
    assert_eq!(
        t.token_state(&p.root).await,
        "live",
        "the caller's own session stays"
    );
    let entries = t.audit_entries(&p.root).await;
    assert_eq!(entries.len(), audit_before + 1, "one audit entry");
    let entry = &entries[0];
    assert_eq!(entry["action"], "logout_selected");
    assert_eq!(entry["sessions_revoked"], 4);
    assert_eq!(entry["users_affected"], 3);
    assert_eq!(entry["reason"], "3 users: anna, dan and root", "{entry}");
    // The filter by user finds it by any of those it names (and by no one else).
    for name in ["anna", "dan", "root"] {
        assert_eq!(
            found_by_target(t, &p.root, name).await,
            [entry["id"].clone()],
            "{name}"
        );
    }
    assert!(found_by_target(t, &p.root, "kim").await.is_empty());
    assert_eq!(entry["target_usernames"], json!(["anna", "dan", "root"]));
}

#[tokio::test]
async fn all_matching_a_search_is_selected_whether_loaded_or_not() {
    let p = people().await;
    let t = &p.t;
    let an: Vec<String> = {
        let mut v = Vec::new();
        for who in ["anna", "andy", "dan", "hana", "jan"] {
            v.push(t.login(who, "web").await);
        }
        v
    };
    let kim = t.login("kim", "web").await;
    let selection = json!({ "matching": { "q": "an", "role": "member" } });
    let done = ok(t
        .post(
            "/api/v1/admin/users/logout",
            &p.root,
            body(json!({ "selection": selection })).as_ref(),
        )
        .await);
    // anna, andy, dan, hana, ian, jan and gone; five signed in.
    assert_eq!(done["selected"], 7, "{done}");
    assert_eq!(done["sessions_revoked"], 5, "{done}");
    for token in &an {
        assert_eq!(t.token_state(token).await, "session_revoked");
    }
    assert_eq!(t.token_state(&kim).await, "live");

    // Deactivate all matching "a" (root and sue too): the caller is spared, the rest go
    // with their sessions, in one entry.
    let sue = t.login("sue", "app").await;
    let kim_app = t.login("kim", "app").await;
    let selection = json!({ "matching": { "q": "a" } });
    let preview = ok(t
        .post(
            "/api/v1/admin/users/deactivate",
            &p.root,
            body(json!({ "selection": selection, "dry_run": true })).as_ref(),
        )
        .await);
    let done = ok(t
        .post(
            "/api/v1/admin/users/deactivate",
            &p.root,
            body(json!({ "selection": selection })).as_ref(),
        )
        .await);
    assert_eq!(
        preview["users_affected"], done["users_affected"],
        "the preview said what it did"
    );
    assert_eq!(preview["sessions_revoked"], done["sessions_revoked"]);
    // "a": root, anna, andy, bea, dan, hana, ian, jan, gone (already deactivated), not sue/kim.
    assert_eq!(done["selected"], 9, "{done}");
    assert_eq!(
        done["users_affected"], 7,
        "every active one but root: {done}"
    );
    assert_eq!(done["own_account_spared"], true);
    assert_eq!(t.token_state(&p.root).await, "live");
    assert_eq!(t.token_state(&sue).await, "live");
    assert_eq!(t.token_state(&kim_app).await, "live");
    let counts = ok(t.get("/api/v1/admin/users/counts", &p.root).await);
    assert_eq!(counts["deactivated"], 8, "{counts}");
    let entry = &t.audit_entries(&p.root).await[0];
    assert_eq!(entry["action"], "deactivate_selected");
    assert_eq!(entry["users_affected"], 7);
    assert_eq!(
        entry["reason"], "7 users: andy, anna, bea, dan, hana, ian and jan",
        "{entry}"
    );
    assert_eq!(
        entry["target_usernames"],
        json!(["andy", "anna", "bea", "dan", "hana", "ian", "jan"])
    );
    let found = found_by_target(t, &p.root, "hana").await;
    assert_eq!(
        found[0], entry["id"],
        "the deactivation, then the logout: {found:?}"
    );
    assert_eq!(found.len(), 2, "{found:?}");
    // The Online filter selects who was online when the statement ran.
    let kim_web = t.login("kim", "web").await;
    let selection = json!({ "matching": { "status": "online", "role": "member" } });
    let done = ok(t
        .post(
            "/api/v1/admin/users/deactivate",
            &p.root,
            body(json!({ "selection": selection })).as_ref(),
        )
        .await);
    assert_eq!(done["users_affected"], 1, "{done}");
    assert_eq!(t.token_state(&kim_web).await, "session_revoked");
}

#[tokio::test]
async fn bulk_actions_check_permissions_and_refuse_bad_selections_unchanged() {
    let p = people().await;
    let t = &p.t;
    let anna = t.login("anna", "web").await;
    let sue = t.login("sue", "app").await;
    let member = t.login("kim", "app").await;
    let selection = json!({ "ids": [p.ids["anna"]] });
    let request = json!({ "selection": selection, "dry_run": true });
    // Support may log out, not deactivate; a member neither.
    ok(t.post("/api/v1/admin/users/logout", &sue, Some(&request))
        .await);
    assert_code(
        &t.post("/api/v1/admin/users/deactivate", &sue, Some(&request))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    for path in [
        "/api/v1/admin/users/logout",
        "/api/v1/admin/users/deactivate",
        "/api/v1/admin/sessions/logout-idle",
    ] {
        let reply = t.post(path, &member, Some(&request)).await;
        assert_code(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    let before = t.snapshot(&p.root).await;
    let too_many: Vec<Uuid> = (0..=curfew::limits::BULK_IDS_MAX)
        .map(|_| Uuid::new_v4())
        .collect();
    for bad in [
        json!({ "selection": {} }),
        json!({ "selection": { "ids": [] } }),
        json!({ "selection": { "ids": too_many } }),
        json!({ "selection": { "ids": [p.ids["anna"]], "matching": {} } }),
    ] {
        for path in [
            "/api/v1/admin/users/logout",
            "/api/v1/admin/users/deactivate",
        ] {
            let reply = t.post(path, &p.root, Some(&bad)).await;
            assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_selection");
        }
    }
    for bad in [
        json!({ "selection": { "matching": { "q": "x".repeat(101) } } }),
        json!({ "selection": { "ids": ["not-a-uuid"] } }),
        json!({ "selection": { "matching": { "role": "owner" } } }),
        json!({ "selection": { "matching": {} }, "extra": 1 }),
        // serde would read a sequence as the struct: everyone, by accident.
        json!({ "selection": { "matching": [null, null] } }),
        json!({ "selection": { "ids": null, "matching": "everyone" } }),
    ] {
        let reply = t
            .post("/api/v1/admin/users/logout", &p.root, Some(&bad))
            .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, None);
    }
    for days in [0, curfew::limits::IDLE_DAYS_MAX + 1] {
        let reply = t
            .post(
                "/api/v1/admin/sessions/logout-idle",
                &p.root,
                Some(&json!({ "days": days })),
            )
            .await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_days");
    }
    assert_eq!(t.snapshot(&p.root).await, before, "bad input changed state");
    assert_eq!(t.token_state(&anna).await, "live");
}

#[tokio::test]
async fn a_bulk_deactivation_never_leaves_no_active_administrator() {
    let p = people().await;
    let t = &p.t;
    // A service token has no account of its own to spare: deactivating every admin by
    // it is refused whole.
    let reply = t
        .post(
            "/api/v1/admin/tokens",
            &p.root,
            Some(&json!({ "name": "offboarding", "scopes": ["force_logout"] })),
        )
        .await;
    assert_eq!(reply.0, StatusCode::CREATED, "{}", reply.1);
    let token = reply.1["token"].as_str().unwrap().to_owned();
    let anna = t.login("anna", "web").await;
    let selection = json!({ "matching": { "q": "" } });
    let reply = t
        .post(
            "/api/v1/admin/users/deactivate",
            &token,
            Some(&json!({ "selection": selection })),
        )
        .await;
    assert_code(&reply, StatusCode::CONFLICT, "last_admin");
    assert_eq!(t.token_state(&anna).await, "live", "nothing changed");
    assert_eq!(t.token_state(&p.root).await, "live");
    let counts = ok(t.get("/api/v1/admin/users/counts", &p.root).await);
    assert_eq!(counts["deactivated"], 1);
    // Without the admin it goes through.
    let selection = json!({ "matching": { "role": "member" } });
    let done = ok(t
        .post(
            "/api/v1/admin/users/deactivate",
            &token,
            Some(&json!({ "selection": selection })),
        )
        .await);
    assert_eq!(done["users_affected"], 8, "{done}");
    assert_eq!(t.token_state(&anna).await, "session_revoked");
}

#[tokio::test]
async fn idle_sessions_end_in_one_statement_counted_first() {
    // No idle timeout of the server's own: these sessions stay live however old.
    let p = people_with(Config {
        session_idle: None,
        ..generous_limits()
    })
    .await;
    let t = &p.t;
    let day = 86_400_000;
    let now = crate::now_ms();
    let anna_old = t.login("anna", "web").await;
    let anna_new = t.login("anna", "app").await;
    let dan_old = t.login("dan", "web").await;
    let kim_recent = t.login("kim", "web").await;
    let root_old = t.login("root", "web").await;
    // The caller's own session is idle too: it is spared.
    for (token, days) in [
        (&anna_old, 40),
        (&dan_old, 31),
        (&kim_recent, 29),
        (&root_old, 60),
        (&p.root, 90),
    ] {
        let hash = crate::core::secrets::hash_token(token);
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now - days * day)
            .bind(hash)
            .execute(&t.store.pool)
            .await
            .unwrap();
    }
    let preview = ok(t
        .post(
            "/api/v1/admin/sessions/logout-idle",
            &p.root,
            Some(&json!({ "days": 30, "dry_run": true })),
        )
        .await);
    assert_eq!(preview["sessions_revoked"], 3, "{preview}");
    assert_eq!(preview["users_affected"], 3, "{preview}");
    // A dry run changes nothing (asking a session's state would use it: count again).
    let again = ok(t
        .post(
            "/api/v1/admin/sessions/logout-idle",
            &p.root,
            Some(&json!({ "days": 30, "dry_run": true })),
        )
        .await);
    assert_eq!(again, preview);
    let done = ok(t
        .post(
            "/api/v1/admin/sessions/logout-idle",
            &p.root,
            Some(&json!({ "days": 30 })),
        )
        .await);
    assert_eq!(done["sessions_revoked"], 3, "{done}");
    assert_eq!(done["days"], 30);
    for token in [&anna_old, &dan_old, &root_old] {
        assert_eq!(t.token_state(token).await, "session_revoked");
    }
    for token in [&anna_new, &kim_recent, &p.root] {
        assert_eq!(t.token_state(token).await, "live");
    }
    let entry = &t.audit_entries(&p.root).await[0];
    assert_eq!(entry["action"], "logout_idle");
    assert_eq!(entry["sessions_revoked"], 3);
    assert_eq!(entry["users_affected"], 3);
    assert_eq!(entry["reason"], "idle for more than 30 days");
    assert_eq!(entry["target_usernames"], json!(["anna", "dan", "root"]));
    assert_eq!(
        found_by_target(t, &p.root, "dan").await,
        [entry["id"].clone()]
    );
    assert!(found_by_target(t, &p.root, "kim").await.is_empty());
}
