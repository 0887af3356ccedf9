//! The users list: paging, search, filters and live session counts.

use super::*;

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
