//! Accounts in User Settings, where the admin sees them: Add user (with the server's
//! refusals beside their field), Edit, Reset password (generated, shown once, Copy),
//! Delete (naming the user and the sessions that end); a user's sessions with End this
//! session (the admin's own marked, not endable); the throttled sign-ins panel with Let
//! sign in; and the Activity filter for sign-ins.

use std::time::{Duration, Instant};

use curfew::api::{ClientKind, LoginRequest, UserQuery};

use crate::driver::App;
use crate::support::{Server, ServerOptions, PASSWORD};

fn row(username: &str, inside: &str) -> String {
    format!("#users-body tr[data-username=\"{username}\"] {inside}")
}

/// Waits until the script `js` (returning a boolean) is true, or fails naming `what`.
async fn until_true(app: &App, what: &str, js: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.script(js).await != serde_json::Value::Bool(true) {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn visible_text(app: &App, css: &str) -> String {
    app.visible(css).await.text().await.unwrap()
}

async fn login_with(server: &Server, username: &str, password: &str) -> curfew::Result<()> {
    server
        .client()
        .login(&LoginRequest {
            username: username.into(),
            password: password.into(),
            client: ClientKind::Web,
            device_name: None,
        })
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_edit_reset_and_delete_with_refusals_beside_their_field() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("erin", "member");
    let (erin, _) = server.login("erin", ClientKind::Web).await;
    let (root2, _) = server.login("root", ClientKind::App).await;
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("accounts-manage", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "root").await;
    app.find(&row("erin", "button.details")).await;

    // Add user: a bad email is refused beside the email field, a taken username beside
    // the username.
    app.click("#add-user").await;
    app.visible("#user-form").await;
    app.fill("#uf-username", "alice").await;
    app.fill("#uf-display-name", "Alice Adams").await;
    app.fill("#uf-email", "not an address").await;
    app.fill("#uf-password", "a long enough passphrase").await;
    app.click("#uf-submit").await;
    let said = visible_text(&app, "#uf-email-error").await;
    assert!(!said.is_empty(), "no sentence beside the email");
    assert_eq!(
        app.script("return document.getElementById('uf-username-error').hidden")
            .await,
        true
    );
    app.shot("add-user-bad-email").await;
    app.fill("#uf-email", "alice@example.com").await;
    app.fill("#uf-username", "erin").await;
    app.click("#uf-submit").await;
    let said = visible_text(&app, "#uf-username-error").await;
    assert!(
        said.to_lowercase().contains("erin")
            || said.to_lowercase().contains("taken")
            || said.to_lowercase().contains("username"),
        "{said}"
    );
    assert_eq!(
        app.script("return document.getElementById('uf-email-error').hidden")
            .await,
        true
    );
    app.shot("add-user-taken").await;
    app.fill("#uf-username", "alice").await;
    app.script("document.getElementById('uf-role').value = 'support'; return true;")
        .await;
    app.click("#uf-submit").await;
    app.find(&row("alice", "button.details")).await;
    let users = root2
        .users(&UserQuery {
            q: Some("alice".into()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    let alice = &users.users[0];
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert_eq!(alice.display_name, "Alice Adams");
    assert_eq!(alice.role.as_str(), "support");
    login_with(&server, "alice", "a long enough passphrase")
        .await
        .expect("alice signs in with the password typed");

    // Edit erin from her detail: name, email and role.
    app.click(&row("erin", "button.details")).await;
    app.visible("#user-detail").await;
    app.count_is("#ud-sessions tr", 1).await;
    app.click("#ud-edit").await;
    app.visible("#user-form").await;
    assert_eq!(
        app.script("return document.getElementById('uf-username-field').hidden")
            .await,
        true
    );
    app.fill("#uf-display-name", "Erin Example").await;
    app.fill("#uf-email", "erin@example.com").await;
    app.shot("edit-user").await;
    app.click("#uf-submit").await;
    app.text_containing("#ud-title", "Erin Example").await;
    let users = root2
        .users(&UserQuery {
            q: Some("erin".into()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(users.users[0].display_name, "Erin Example");
    assert_eq!(users.users[0].email.as_deref(), Some("erin@example.com"));

    // Reset password: generated, shown once with Copy, and erin is signed out everywhere.
    app.click("#ud-reset").await;
    app.visible("#reset-form").await;
    assert_eq!(
        app.script("return document.getElementById('rp-sign-out').checked")
            .await,
        true,
        "sign out everywhere is not ticked by default"
    );
    app.shot("reset-password-ask").await;
    app.click("#rp-submit").await;
    let generated = visible_text(&app, "#rp-generated-password").await;
    assert!(
        generated.len() >= 8,
        "no generated password shown: {generated:?}"
    );
    app.click("#rp-copy").await;
    app.text_containing("#rp-copied", "Copied").await;
    app.shot("reset-password-generated").await;
    app.click("#rp-close").await;
    assert!(
        erin.session().await.is_err(),
        "erin's session survived the reset"
    );
    login_with(&server, "erin", &generated)
        .await
        .expect("erin signs in with the generated password");
    assert!(
        login_with(&server, "erin", PASSWORD).await.is_err(),
        "the old password still works"
    );

    // Delete: the confirmation names her and the one session that ends.
    app.script("document.getElementById('user-detail').close(); return true;")
        .await;
    app.click(&row("erin", "button.details")).await;
    app.count_is("#ud-sessions tr", 1).await;
    app.click("#ud-delete").await;
    let title = visible_text(&app, "#confirm-title").await;
    let body = visible_text(&app, "#confirm-body").await;
    assert!(title.contains("Erin Example"), "{title}");
    assert!(
        body.contains("(erin)") && body.contains("1 open session"),
        "{body}"
    );
    app.shot("delete-confirm").await;
    app.click("#confirm-ok").await;
    until_true(
        &app,
        "erin's row stayed",
        "return !document.querySelector('#users-body tr[data-username=\"erin\"]')",
    )
    .await;
    assert!(
        login_with(&server, "erin", &generated).await.is_err(),
        "erin can still sign in"
    );
    app.shot("deleted").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_sessions_end_one_at_a_time_and_ones_own_is_marked() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("helpdesk", "support");
    server.add_user("erin", "member");
    let (erin_web, _) = server.login("erin", ClientKind::Web).await;
    let (erin_app, _) = server
        .client()
        .login(&LoginRequest {
            username: "erin".into(),
            password: PASSWORD.into(),
            client: ClientKind::App,
            device_name: Some("Erin's phone".into()),
        })
        .await
        .unwrap();
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("accounts-sessions", config_home.path(), 0).await;
    // Support may see and end sessions, not change accounts: the reason is said.
    app.sign_in_as(&server.url, "helpdesk").await;
    assert_eq!(
        app.script("return document.getElementById('add-user').disabled")
            .await,
        true
    );
    app.click(&row("helpdesk", "button.details")).await;
    app.visible("#user-detail").await;
    app.count_is("#ud-sessions tr", 1).await;
    let own = app.text("#ud-sessions tr[data-current=true]").await;
    assert!(own.contains("Your session"), "{own}");
    assert_eq!(
        app.count("#ud-sessions tr[data-current=true] button.end-session")
            .await,
        0
    );
    assert_eq!(app.script("return document.getElementById('ud-edit').disabled && document.getElementById('ud-delete').disabled").await, true);
    let note = visible_text(&app, "#ud-role-note").await;
    assert!(
        note.contains("(support)") && note.contains("ask an administrator"),
        "{note}"
    );
    app.shot("own-sessions").await;
    app.click("#ud-close").await;

    app.click(&row("erin", "button.details")).await;
    app.count_is("#ud-sessions tr", 2).await;
    let phone = app.text("#ud-sessions tr:first-child .device").await;
    assert!(phone.contains("Erin's phone"), "{phone}");
    let address = app.text("#ud-sessions tr:first-child .address").await;
    assert!(address.contains("127.0.0.1"), "{address}");
    app.shot("user-sessions").await;
    app.click("#ud-sessions tr:first-child button.end-session")
        .await;
    let title = visible_text(&app, "#confirm-title").await;
    assert!(title.contains("Erin's phone"), "{title}");
    app.shot("end-session-confirm").await;
    app.click("#confirm-ok").await;
    app.count_is("#ud-sessions tr", 1).await;
    assert!(
        erin_app.session().await.is_err(),
        "the phone's session survived"
    );
    assert!(
        erin_web.session().await.is_ok(),
        "the web session ended too"
    );
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_sign_ins_are_shown_and_let_through_and_activity_shows_sign_ins() {
    let server = Server::start_with(ServerOptions {
        login_per_minute_per_account: 10,
        ..ServerOptions::default()
    });
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    for _ in 0..12 {
        let _ = login_with(&server, "alice", "wrong password").await;
    }
    assert!(
        login_with(&server, "alice", PASSWORD).await.is_err(),
        "alice was not throttled"
    );
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("accounts-throttles", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "root").await;
    let said = visible_text(&app, "#throttles-list li[data-username=alice]").await;
    assert!(
        said.contains("alice: 10 failed sign-ins in the last minute, from 1 address"),
        "{said}"
    );
    assert!(said.contains("throttled for"), "{said}");
    app.shot("throttled").await;
    app.click("#throttles-list li[data-username=alice] button.clear-throttle")
        .await;
    until_true(
        &app,
        "the panel stayed",
        "return document.getElementById('throttles').hidden",
    )
    .await;
    login_with(&server, "alice", PASSWORD)
        .await
        .expect("alice signs in after Let sign in");

    // Activity: administrators' actions by default, sign-ins with client, address and why.
    app.click("#nav-activity").await;
    app.find("#audit-body tr[data-action=clear_throttle]").await;
    assert_eq!(
        app.count("#audit-body tr[data-action=sign_in_failed]")
            .await,
        0
    );
    app.click(".audit-chip[data-category=sign_in]").await;
    let failed = app
        .text("#audit-body tr[data-action=sign_in_failed] .from")
        .await;
    assert!(
        failed.contains("web")
            && failed.contains("127.0.0.1")
            && failed.contains("wrong username or password"),
        "{failed}"
    );
    assert_eq!(
        app.count("#audit-body tr[data-action=clear_throttle]")
            .await,
        0
    );
    app.find("#audit-body tr[data-action=sign_in]").await;
    app.shot("activity-sign-ins").await;
    app.click(".audit-chip[data-category=all]").await;
    app.find("#audit-body tr[data-action=clear_throttle]").await;
    app.find("#audit-body tr[data-action=sign_in_failed]").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_a_password_gets_a_typed_one_and_the_last_admin_stays() {
    let server = Server::start();
    server.add_user("root", "admin");
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("accounts-typed", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "root").await;

    // No password: bob exists but cannot sign in.
    app.click("#add-user").await;
    app.fill("#uf-username", "bob").await;
    app.click("#uf-password-none").await;
    app.click("#uf-submit").await;
    app.find(&row("bob", "button.details")).await;
    app.text_containing("#messages", "without a password").await;
    assert!(login_with(&server, "bob", PASSWORD).await.is_err());

    // A typed password that is too short is refused beside it; a good one lets bob in.
    app.click(&row("bob", "button.details")).await;
    app.click("#ud-reset").await;
    app.click("#rp-typed").await;
    app.fill("#rp-password", "short").await;
    app.click("#rp-submit").await;
    let said = visible_text(&app, "#rp-password-error").await;
    assert!(!said.is_empty());
    app.shot("reset-typed-too-short").await;
    app.fill("#rp-password", "a long enough passphrase").await;
    app.click("#rp-submit").await;
    app.text_containing("#rp-done-text", "was changed").await;
    assert_eq!(
        app.script("return document.getElementById('rp-generated-box').hidden")
            .await,
        true
    );
    app.click("#rp-close").await;
    login_with(&server, "bob", "a long enough passphrase")
        .await
        .expect("bob signs in with the typed password");
    app.click("#ud-close").await;

    // Root (the last administrator) cannot change its own role: said beside the role.
    app.click(&row("root", "button.details")).await;
    app.click("#ud-edit").await;
    app.script("document.getElementById('uf-role').value = 'member'; return true;")
        .await;
    app.click("#uf-submit").await;
    let said = visible_text(&app, "#uf-role-error").await;
    assert!(said.contains("your own role"), "{said}");
    app.shot("last-admin").await;
    app.quit().await;
}
