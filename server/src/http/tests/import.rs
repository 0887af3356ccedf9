//! CSV import: previews that change nothing, one transaction that applies all or nothing,
//! the file's edge cases (BOM, semicolons, quoted commas and line breaks, duplicates,
//! unknown columns), deactivations that end sessions, and a second import that changes
//! nothing.

use super::*;

const IMPORT: &str = "/api/v1/admin/users/import";

impl TestApp {
    async fn import(&self, token: &str, csv: &str, dry_run: bool) -> Reply {
        let path = format!("{IMPORT}?dry_run={dry_run}");
        self.post_bytes(&path, Some(token), Some("text/csv"), csv.to_owned())
            .await
    }
}

async fn office() -> (TestApp, String) {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("alice", "Alice Martin", Role::Member).await;
    t.user("bob", "Bob Okafor", Role::Member).await;
    let admin = t.login("root", "app").await;
    (t, admin)
}

/// BOM, semicolons, a quoted semicolon, a quoted line break, an empty cell.
const MIXED: &str = "\u{feff}username;display_name;email;role;active\r\n\
    alice;\"Martin; Alice\";alice@example.com;member;true\r\n\
    bob;Bob Okafor;;;\r\n\
    carol;\"Carol\r\nDiaz\";carol@example.com;support;yes\r\n\
    dave;Dave;;;no\r\n";

#[tokio::test]
async fn a_preview_counts_by_row_and_changes_nothing_then_apply_does_it_all() {
    let (t, admin) = office().await;
    let before = t.snapshot(&admin).await;
    let preview = ok(t.import(&admin, MIXED, true).await);
    assert_eq!(preview["applied"], false);
    assert_eq!(
        (
            &preview["rows"],
            &preview["new"],
            &preview["changed"],
            &preview["unchanged"]
        ),
        (&json!(4), &json!(2), &json!(1), &json!(1)),
        "{preview}"
    );
    assert_eq!(preview["deactivated"], 1);
    assert_eq!(preview["errors"], json!([]));
    let changes = preview["changes"].as_array().unwrap();
    assert_eq!(changes[0]["username"], "alice");
    assert_eq!(changes[0]["kind"], "changed");
    assert!(changes[0]["what"].as_str().unwrap().contains("email"));
    // carol's row starts on line 4 and spans two; dave's starts on line 6.
    assert_eq!(
        (&changes[1]["line"], &changes[2]["line"]),
        (&json!(4), &json!(6))
    );
    assert_eq!(
        t.snapshot(&admin).await,
        before,
        "a preview changes nothing"
    );

    let applied = ok(t.import(&admin, MIXED, false).await);
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["new"], 2);
    let page = ok(t.users(&admin, &[("limit", "500")]).await);
    assert_eq!(user_in(&page, "alice")["display_name"], "Martin; Alice");
    assert_eq!(user_in(&page, "alice")["email"], "alice@example.com");
    assert_eq!(user_in(&page, "carol")["display_name"], "Carol Diaz");
    assert_eq!(user_in(&page, "carol")["role"], "support");
    assert_eq!(user_in(&page, "dave")["status"], "deactivated");
    assert_eq!(user_in(&page, "bob")["display_name"], "Bob Okafor");
    let entries = t.audit_entries(&admin).await;
    assert_eq!(entries[0]["action"], "import_users");
    assert_eq!(entries[0]["reason"], "2 new, 1 changed, 1 unchanged");
    assert!(entries
        .iter()
        .any(|e| e["action"] == "create_user" && e["target_username"] == "carol"));
}

#[tokio::test]
async fn importing_the_same_file_twice_changes_nothing_the_second_time() {
    let (t, admin) = office().await;
    ok(t.import(&admin, MIXED, false).await);
    let after_first = t.snapshot(&admin).await;
    let again = ok(t.import(&admin, MIXED, false).await);
    assert_eq!(
        (&again["new"], &again["changed"], &again["unchanged"]),
        (&json!(0), &json!(0), &json!(4)),
        "{again}"
    );
    assert_eq!(
        t.snapshot(&admin).await,
        after_first,
        "no change, no audit entry"
    );
}

#[tokio::test]
async fn one_bad_row_in_the_middle_applies_nothing() {
    let (t, admin) = office().await;
    let before = t.snapshot(&admin).await;
    let csv = "username,display_name,role\n\
               erin,Erin,member\n\
               frank,Frank,boss\n\
               \"gina\",\"Gina, the second\",admin\n\
               erin,Erin again,member\n";
    let preview = ok(t.import(&admin, csv, true).await);
    let errors = preview["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{preview}");
    assert_eq!(errors[0]["line"], 3);
    assert!(errors[0]["reason"].as_str().unwrap().contains("boss"));
    assert_eq!(errors[1]["line"], 5);
    assert!(errors[1]["reason"]
        .as_str()
        .unwrap()
        .contains("also on line 2"));
    assert_eq!(preview["new"], 2, "the good rows are still previewed");

    let reply = t.import(&admin, csv, false).await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_import");
    let message = reply.1["message"].as_str().unwrap();
    assert!(
        message.contains("line 3") && message.contains("line 5"),
        "{message}"
    );
    assert_eq!(t.snapshot(&admin).await, before, "nothing was applied");
}

#[tokio::test]
async fn files_the_import_cannot_read_are_refused_whole() {
    let (t, admin) = office().await;
    let before = t.snapshot(&admin).await;
    let reply = t
        .import(&admin, "username,Shoe Size,team\nann,42,x\n", true)
        .await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "unknown_columns");
    let message = reply.1["message"].as_str().unwrap();
    assert!(message.contains("\"shoe size\", \"team\""), "{message}");
    for (csv, code) in [
        ("display_name\nAnn\n", "missing_username_column"),
        ("", "empty_import"),
        (
            "username,email,email\nann,a@b.c,a@b.c\n",
            "duplicate_columns",
        ),
    ] {
        assert_code(
            &t.import(&admin, csv, false).await,
            StatusCode::BAD_REQUEST,
            code,
        );
    }
    let latin1 = b"username,display_name\nrene,Ren\xe9\n".to_vec();
    let path = format!("{IMPORT}?dry_run=false");
    let reply = t
        .post_bytes(&path, Some(&admin), Some("text/csv"), latin1)
        .await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_encoding");
    let reply = t
        .post_bytes(&path, Some(&admin), Some("application/json"), "{}")
        .await;
    assert_code(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    assert_eq!(t.snapshot(&admin).await, before);
}

#[tokio::test]
async fn inactive_rows_deactivate_and_end_sessions_in_the_same_import() {
    let (t, admin) = office().await;
    let app = t.login("alice", "app").await;
    let web = t.login("alice", "web").await;
    let bob = t.login("bob", "web").await;
    let report = ok(t
        .import(&admin, "username,active\nalice,false\nbob,true\n", false)
        .await);
    assert_eq!(report["sessions_revoked"], 2, "{report}");
    assert_eq!(
        (&report["changed"], &report["unchanged"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(t.token_state(&app).await, "session_revoked");
    assert_eq!(t.token_state(&web).await, "session_revoked");
    assert_eq!(t.token_state(&bob).await, "live");
    let entries = t.audit_entries(&admin).await;
    let deactivation = entries
        .iter()
        .find(|e| e["action"] == "deactivate")
        .expect("audited");
    assert_eq!(deactivation["target_username"], "alice");
    assert_eq!(deactivation["sessions_revoked"], 2);
    assert_eq!(deactivation["reason"], "CSV import: deactivated");
    // And back.
    let report = ok(t
        .import(&admin, "username,active\nalice,yes\n", false)
        .await);
    assert_eq!(report["changed"], 1);
    let page = ok(t.users(&admin, &[("q", "alice")]).await);
    assert_eq!(user_in(&page, "alice")["status"], "active");
}

#[tokio::test]
async fn the_import_keeps_its_administrators_and_its_callers() {
    let (t, admin) = office().await;
    t.user("helpdesk", "Help Desk", Role::Support).await;
    let support = t.login("helpdesk", "app").await;
    let before = t.snapshot(&admin).await;
    let reply = t.import(&support, "username\nzed\n", false).await;
    assert_code(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = t
        .import(&admin, "username,role\nroot,member\n", false)
        .await;
    assert_code(&reply, StatusCode::CONFLICT, "last_admin");
    let preview = ok(t.import(&admin, "username,active\nroot,no\n", true).await);
    assert!(preview["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("your own account"));
    let created = t
        .post(
            "/api/v1/admin/tokens",
            &admin,
            Some(&json!({ "name": "all", "scopes": ["scim", "read", "force_logout", "maintenance"] })),
        )
        .await;
    let token = created.1["token"].as_str().unwrap().to_owned();
    let reply = t.import(&token, "username\nzed\n", false).await;
    assert_code(&reply, StatusCode::FORBIDDEN, "service_token_not_allowed");
    let mut after = t.snapshot(&admin).await;
    // Only the token's making is new.
    after["audit"]["entries"].as_array_mut().unwrap().remove(0);
    assert_eq!(after, before);
}

#[tokio::test]
async fn ten_thousand_rows_in_one_import() {
    let (t, admin) = office().await;
    let mut csv = String::from("username,display_name,email,role\n");
    for i in 0..10_000 {
        csv.push_str(&format!(
            "user{i:05},\"Person, {i}\",user{i}@example.com,member\n"
        ));
    }
    let started = std::time::Instant::now();
    let preview = ok(t.import(&admin, &csv, true).await);
    assert_eq!(preview["new"], 10_000);
    let applied = ok(t.import(&admin, &csv, false).await);
    assert_eq!(applied["new"], 10_000);
    let again = ok(t.import(&admin, &csv, true).await);
    assert_eq!(again["unchanged"], 10_000);
    eprintln!(
        "10,000 rows: preview, apply, preview in {:?} (debug build)",
        started.elapsed()
    );
}
