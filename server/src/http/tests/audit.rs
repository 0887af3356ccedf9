//! The audit as a tool: filters by administrator, user, action and date range, keyset
//! pages that stay exact under a filter, whole exports (CSV, JSON Lines) of exactly what
//! is filtered, the event that announces new entries, and who may read it.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use curfew::api::{AuditAction, Role};
use http_body_util::BodyExt;
use serde_json::Value;

use super::*;
use crate::store::{Actor, AuditRecord};

/// Every entry of a query, page after page of `limit`, as (id, action, actor, target, at).
async fn all_pages(t: &TestApp, token: &str, params: &[(&str, &str)], limit: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut pairs: Vec<(&str, &str)> = params.to_vec();
        pairs.push(("limit", limit));
        if let Some(c) = &cursor {
            pairs.push(("cursor", c));
        }
        let page = ok(t
            .get(&format!("/api/v1/admin/audit{}", query(&pairs)), token)
            .await);
        entries.extend(page["entries"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return entries,
        }
    }
}

fn ids(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn export(
    t: &TestApp,
    token: &str,
    params: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let path = format!("/api/v1/admin/audit/export{}", query(params));
    let request = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, headers, bytes) = t.send_raw(request).await;
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn the_audit_filters_by_administrator_user_action_and_dates_with_exact_pages() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("ops", "Ops Desk", Role::Support).await;
    let alice = t.user("alice", "Alice Martin", Role::Member).await;
    let bob = t.user("bob", "Bob Okafor", Role::Member).await;
    let root = t.login("root", "app").await;
    let ops = t.login("ops", "app").await;
    for (token, user) in [
        (&root, alice),
        (&ops, bob),
        (&ops, alice),
        (&root, bob),
        (&ops, alice),
    ] {
        t.login(if user == alice { "alice" } else { "bob" }, "web")
            .await;
        ok(
            t.post(&format!("/api/v1/admin/users/{user}/logout"), token, None)
                .await,
        );
    }
    ok(t.post(
        &format!("/api/v1/admin/users/{bob}/deactivate"),
        &root,
        None,
    )
    .await);
    let everything = all_pages(&t, &root, &[("category", "all")], "500").await;
    let admin = all_pages(&t, &root, &[], "500").await;
    assert_eq!(admin.len(), 6, "{admin:?}");

    // By administrator, in any case: ops's three logouts, newest first, one per page.
    let by_ops = all_pages(&t, &root, &[("actor", " OPS ")], "1").await;
    assert_eq!(by_ops.len(), 3);
    assert!(by_ops.iter().all(|e| e["actor_username"] == "ops"));
    let expected: Vec<Value> = admin
        .iter()
        .filter(|e| e["actor_username"] == "ops")
        .cloned()
        .collect();
    assert_eq!(ids(&by_ops), ids(&expected));
    // By user, and both: whom it was done to.
    let to_alice = all_pages(&t, &root, &[("target", "alice")], "2").await;
    assert_eq!(to_alice.len(), 3);
    let ops_to_alice = all_pages(&t, &root, &[("target", "alice"), ("actor", "ops")], "1").await;
    assert_eq!(ops_to_alice.len(), 2);
    // By action, whatever the category: the deactivation; sign-ins by who signed in.
    let deactivations = all_pages(&t, &root, &[("action", "deactivate")], "50").await;
    assert_eq!(deactivations.len(), 1);
    assert_eq!(deactivations[0]["target_username"], "bob");
    let alice_signed_in = all_pages(
        &t,
        &root,
        &[("action", "sign_in"), ("actor", "alice")],
        "50",
    )
    .await;
    assert_eq!(alice_signed_in.len(), 3);
    let sign_ins = all_pages(&t, &root, &[("category", "sign_in")], "3").await;
    assert_eq!(sign_ins.len(), everything.len() - admin.len());

    // By dates: since is inclusive, until exclusive, paged on the same keys.
    let pivot = everything[everything.len() / 2]["at"]
        .as_str()
        .unwrap()
        .to_owned();
    let since = all_pages(&t, &root, &[("category", "all"), ("since", &pivot)], "2").await;
    let until = all_pages(&t, &root, &[("category", "all"), ("until", &pivot)], "2").await;
    assert!(!since.is_empty() && !until.is_empty());
    assert!(since
        .iter()
        .all(|e| e["at"].as_str().unwrap() >= pivot.as_str()));
    assert!(until
        .iter()
        .all(|e| e["at"].as_str().unwrap() < pivot.as_str()));
    let mut both = ids(&since);
    both.extend(ids(&until));
    assert_eq!(
        both,
        ids(&everything),
        "since + until is everything, in order"
    );

    // Bad filters are refused with a sentence and change nothing.
    // A range that ends where it starts holds nothing; a name of white space is no filter.
    let empty = all_pages(&t, &root, &[("since", &pivot), ("until", &pivot)], "50").await;
    assert!(empty.is_empty(), "{empty:?}");
    let blank = all_pages(&t, &root, &[("actor", "  "), ("target", "")], "500").await;
    assert_eq!(ids(&blank), ids(&admin));
    for bad in [
        query(&[("actor", &" ".repeat(65))]),
        query(&[("actor", "a\u{7}b")]),
        query(&[("target", &"x".repeat(65))]),
        query(&[("action", "explode")]),
        query(&[("since", "yesterday")]),
    ] {
        let reply = t.get(&format!("/api/v1/admin/audit{bad}"), &root).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_query");
    }
    assert_eq!(
        all_pages(&t, &root, &[("category", "all")], "500")
            .await
            .len(),
        everything.len()
    );

    // A service token's name keeps its capitals: found as given, and not by another case.
    let token = Actor {
        user_id: uuid::Uuid::new_v4(),
        username: "Okta".into(),
        session_id: uuid::Uuid::nil(),
        service_token: true,
    };
    let mut tx = t.store.pool.begin().await.unwrap();
    crate::store::audit::insert_audits(
        &mut tx,
        &[AuditRecord::new(
            crate::now_ms(),
            &token,
            AuditAction::UpdateUser,
        )],
        1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let by_okta = all_pages(&t, &root, &[("actor", "Okta")], "50").await;
    assert_eq!(by_okta.len(), 1);
    assert_eq!(by_okta[0]["actor_kind"], "service_token");
    assert!(all_pages(&t, &root, &[("actor", "OKTA")], "50")
        .await
        .is_empty());
}

#[tokio::test]
async fn an_export_holds_exactly_every_entry_the_filter_matches_in_csv_or_json_lines() {
    let t = TestApp::new().await;
    let root_id = t.user("root", "Root Admin", Role::Admin).await;
    let alice = t.user("alice", "Alice Martin", Role::Member).await;
    let root = t.login("root", "app").await;
    ok(
        t.post(&format!("/api/v1/admin/users/{alice}/logout"), &root, None)
            .await,
    );
    // More entries than an export reads at once (500), with one that needs quoting.
    let actor = Actor {
        user_id: root_id,
        username: "root".into(),
        session_id: uuid::Uuid::nil(),
        service_token: false,
    };
    let now = crate::now_ms();
    let records: Vec<AuditRecord> = (0..1203)
        .map(|i| AuditRecord {
            reason_text: Some(format!("role member → admin, \"take {i}\"\nsecond line")),
            target_name: Some("alice".into()),
            ..AuditRecord::new(now - 10_000 + i, &actor, AuditAction::UpdateUser)
        })
        .collect();
    let mut tx = t.store.pool.begin().await.unwrap();
    crate::store::audit::insert_audits(&mut tx, &records, 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let filter = [("actor", "root"), ("action", "update_user")];
    let paged = all_pages(&t, &root, &filter, "500").await;
    assert_eq!(paged.len(), 1203);

    let mut params = filter.to_vec();
    params.push(("format", "csv"));
    let (status, headers, csv_text) = export(&t, &root, &params).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains(".csv"));
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        crate::core::audit::csv_header()
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1203);
    let csv_ids: Vec<String> = rows.iter().map(|r| r[14].to_owned()).collect();
    assert_eq!(csv_ids, ids(&paged), "the same entries in the same order");
    assert_eq!(&rows[0][3], "update_user");
    assert_eq!(&rows[0][4], AuditAction::UpdateUser.label());
    assert_eq!(
        &rows[0][11],
        "role member → admin, \"take 1202\"\nsecond line"
    );

    params.pop();
    params.push(("format", "jsonl"));
    let (status, headers, lines) = export(&t, &root, &params).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/jsonl");
    let entries: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        entries, paged,
        "each line is the entry as the pages give it"
    );

    // Nothing matches: a header only, or nothing.
    let (_, _, empty) = export(&t, &root, &[("format", "csv"), ("actor", "nobody")]).await;
    assert_eq!(empty.trim_end(), crate::core::audit::csv_header().join(","));
    let (_, _, empty) = export(&t, &root, &[("format", "jsonl"), ("actor", "nobody")]).await;
    assert_eq!(empty, "");
    // The filter is checked before the first byte.
    for bad in [
        vec![("format", "xml")],
        vec![("format", "csv"), ("target", "a\u{0}")],
        vec![],
    ] {
        let (status, _, body) = export(&t, &root, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], "invalid_query");
    }
}

#[tokio::test]
async fn only_those_who_may_read_the_audit_export_it() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let alice = t.login("alice", "app").await;
    let (status, _, body) = export(&t, &alice, &[("format", "csv")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let reply = t.get("/api/v1/admin/audit?actor=root", &alice).await;
    assert_error(&reply, StatusCode::FORBIDDEN, None);
    let (status, _, _) = export(&t, "not-a-token", &[("format", "csv")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_sign_in_is_announced_on_the_administrators_event_stream() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let root = t.login("root", "app").await;
    let request = Request::get("/api/v1/admin/events")
        .header(header::AUTHORIZATION, format!("Bearer {root}"))
        .body(Body::empty())
        .unwrap();
    let response = t.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    t.login("alice", "web").await;
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                seen.push_str(&String::from_utf8_lossy(data));
                if seen.contains("event: audit_recorded") && seen.contains("\"sign_in\"") {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "{seen}");
}

#[tokio::test]
async fn the_csv_export_names_every_user_of_an_entry_on_several_users() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    let mut ids = Vec::new();
    for name in ["alice", "carol", "dave", "erin", "kim"] {
        ids.push(t.user(name, name, Role::Member).await);
        t.login(name, "web").await;
    }
    let root = t.login("root", "app").await;
    let old = t.login("kim", "app").await;
    ok(t.post(
        "/api/v1/admin/users/logout",
        &root,
        Some(&json!({ "selection": { "ids": &ids[..4] } })),
    )
    .await);
    ok(t.post(
        "/api/v1/admin/users/deactivate",
        &root,
        Some(&json!({ "selection": { "ids": [ids[1], ids[3]] } })),
    )
    .await);
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(crate::now_ms() - 40 * 86_400_000)
        .bind(crate::core::secrets::hash_token(&old))
        .execute(&t.store.pool)
        .await
        .unwrap();
    ok(t.post(
        "/api/v1/admin/sessions/logout-idle",
        &root,
        Some(&json!({ "days": 30 })),
    )
    .await);

    let (status, _, csv_text) = export(&t, &root, &[("format", "csv")]).await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<(String, String)> = reader
        .records()
        .map(Result::unwrap)
        .map(|r| (r[3].to_owned(), r[5].to_owned()))
        .collect();
    let target_of = |action: &str| {
        rows.iter()
            .find(|(a, _)| a == action)
            .map(|(_, target)| target.clone())
            .unwrap_or_else(|| panic!("no {action} in {rows:?}"))
    };
    assert_eq!(target_of("logout_selected"), "alice carol dave erin");
    assert_eq!(target_of("deactivate_selected"), "carol erin");
    assert_eq!(target_of("logout_idle"), "kim");
    // Spreadsheets split the cell on the separator into the entry's names.
    assert_eq!(
        target_of("logout_selected")
            .split(curfew::api::CSV_NAMES_SEPARATOR)
            .count(),
        4
    );
}
