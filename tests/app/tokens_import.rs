//! Settings › Service tokens (make one, shown once with Copy, then revoke it after a
//! confirmation naming it) and Import users… (a file with one bad line: the preview says
//! which, Apply is refused and nothing changes; a good file: applied with progress, the new
//! rows in the list), in the real app against a real curfewd.

use curfew::api::{ClientKind, UserQuery};

use crate::driver::App;
use crate::support::Server;

/// Picks `csv` as the file `name` in the file input, as the file picker would: the file is
/// written to disk and its path typed into the input (WebDriver's file upload).
async fn pick_file(app: &App, dir: &std::path::Path, name: &str, csv: &str) {
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    app.visible("#im-file")
        .await
        .send_keys(path.to_str().unwrap())
        .await
        .expect("a file typed into the file input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_tokens_are_shown_once_and_revoked_by_name() {
    let server = Server::start();
    server.add_user("root", "admin");
    let (root, _) = server.login("root", ClientKind::App).await;
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("service-tokens", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "root").await;
    app.click("#nav-tokens").await;
    app.visible("#tokens-view").await;
    app.text_containing("#tokens-status", "No service tokens")
        .await;
    app.shot("tokens-empty").await;

    // Nothing chosen: refused beside the scopes, nothing made.
    app.fill("#tk-name", "nightly logout").await;
    app.click("#tk-submit").await;
    app.visible("#tk-scopes-error").await;
    app.click("#tk-scope-read").await;
    app.click("#tk-scope-force_logout").await;
    app.shot("tokens-form").await;
    app.click("#tk-submit").await;
    app.visible("#token-created").await;
    let token = app.text("#tc-token").await;
    assert!(token.starts_with("cft_"), "{token}");
    app.click("#tc-copy").await;
    app.text_containing("#tc-copied", "Copied").await;
    app.shot("token-shown-once").await;
    // The token works, within its scopes.
    let script = server.client().with_token(&token);
    script
        .users(&UserQuery::default())
        .await
        .expect("read scope");
    app.click("#tc-close").await;
    // Shown once: gone from the page once the dialog is closed, and not in the list.
    let still_there = app
        .script(&format!(
            "return document.documentElement.outerHTML.includes({:?})",
            &token[4..]
        ))
        .await;
    assert_eq!(still_there, serde_json::Value::Bool(false));
    let row = "#tokens-body tr[data-token=\"nightly logout\"]";
    let listed = app.text(row).await;
    assert!(
        listed.contains("read, force_logout") && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(&token[4..]), "the list shows no token");
    app.shot("tokens-listed").await;

    // Revoke: the confirmation names the token; Cancel keeps it, Revoke ends it.
    app.click(&format!("{row} button")).await;
    app.visible("#confirm").await;
    let asked = app.text("#confirm-title").await;
    assert!(asked.contains("nightly logout"), "{asked}");
    app.shot("token-revoke-confirm").await;
    app.click("#confirm-cancel").await;
    script
        .users(&UserQuery::default())
        .await
        .expect("still live");
    app.click(&format!("{row} button")).await;
    app.visible("#confirm").await;
    app.click("#confirm-ok").await;
    app.text_containing(row, "revoked").await;
    app.shot("token-revoked").await;
    let refused = script.users(&UserQuery::default()).await.unwrap_err();
    assert_eq!(refused.status(), Some(401), "{refused}");
    let audit = root.audit(&Default::default()).await.unwrap();
    assert!(audit
        .entries
        .iter()
        .any(|e| e.action.as_str() == "revoke_service_token" && e.actor_username == "root"));
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_users_previews_refuses_a_bad_file_and_applies_a_good_one() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let (alice, _) = server.login("alice", ClientKind::Web).await;
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("import-users", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "root").await;
    app.find("#users-body tr[data-username=\"alice\"]").await;

    app.click("#import-users").await;
    app.visible("#import-dialog").await;
    let bad = "username;display_name;role\nbea;Bea Quinn;member\ncid;Cid Roe;boss\ndot;\"Dot; Dee\";support\n";
    pick_file(&app, config_home.path(), "bad.csv", bad).await;
    app.text_containing("#im-counts", "1 row in error").await;
    let errors = app.text("#im-errors").await;
    assert!(
        errors.contains("Line 3") && errors.contains("boss"),
        "{errors}"
    );
    app.shot("import-preview-bad-line").await;
    app.click("#im-apply").await;
    let refused = app
        .text_containing("#im-error", "Nothing was imported")
        .await;
    assert!(refused.contains("line 3"), "{refused}");
    app.shot("import-refused").await;
    let names = |page: curfew::api::UserPage| {
        let mut names: Vec<String> = page.users.into_iter().map(|u| u.username).collect();
        names.sort();
        names
    };
    assert_eq!(
        names(root.users(&UserQuery::default()).await.unwrap()),
        ["alice", "root"]
    );

    let good = "\u{feff}username;display_name;role;active\nbea;Bea Quinn;member;yes\n\
                dot;\"Dot; Dee\";support;yes\nalice;Alice Martin;member;no\n";
    pick_file(&app, config_home.path(), "good.csv", good).await;
    let counts = app.text_containing("#im-counts", "2 new").await;
    assert!(
        counts.contains("1 changed") && counts.contains("1 to deactivate"),
        "{counts}"
    );
    app.shot("import-preview-good").await;
    app.click("#im-apply").await;
    let done = app.text_containing("#im-done", "Imported").await;
    assert!(
        done.contains("2 new") && done.contains("1 session ended"),
        "{done}"
    );
    app.shot("import-applied").await;
    app.click("#im-cancel").await;
    app.find("#users-body tr[data-username=\"bea\"]").await;
    let dot = app.text("#users-body tr[data-username=\"dot\"]").await;
    assert!(dot.contains("Dot; Dee") && dot.contains("support"), "{dot}");
    let alice_row = app.text("#users-body tr[data-username=\"alice\"]").await;
    assert!(alice_row.to_lowercase().contains("deact"), "{alice_row}");
    app.shot("import-new-rows").await;
    assert!(
        alice.session().await.is_err(),
        "the inactive row ended alice's session"
    );
    app.quit().await;
}
