//! What an administrator does in the app, step by step, checked against the server.

use curfew::api::{ClientKind, LoginRequest};

use crate::driver::{keychain_token, App};
use crate::support::{assert_rejected, Server, PASSWORD};

fn row(username: &str, what: &str) -> String {
    format!("#users-body tr[data-username=\"{username}\"] {what}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_signs_in_remembered_logs_users_out_and_signs_out() {
    let server = Server::start();
    server.add_user("root", "admin");
    for name in ["alice", "bob", "carol"] {
        server.add_user(name, "member");
    }
    let (alice_app, _) = server.login("alice", ClientKind::App).await;
    let (alice_web, _) = server.login("alice", ClientKind::Web).await;
    let (bob_web, _) = server.login("bob", ClientKind::Web).await;
    let (carol_app, _) = server.login("carol", ClientKind::App).await;
    let config_home = tempfile::tempdir().unwrap();
    let test = "admin";

    let mut app = App::launch(test, config_home.path(), 0).await;
    app.shot("sign-in").await;
    // "Curfew is starting…" shows only until a view replaces it.
    let starting = || async { app.find("#starting").await.is_displayed().await.unwrap() };
    assert!(
        !starting().await,
        "the sign-in screen still says Curfew is starting"
    );
    app.sign_in(&server.url, "root", PASSWORD, true).await;
    app.visible("#shell").await;
    app.count_is("#users-body tr", 4).await;
    assert!(
        !starting().await,
        "the console still says Curfew is starting"
    );
    assert_eq!(app.text("#users-title").await, "User Settings");
    assert!(app
        .text(".breadcrumb")
        .await
        .starts_with("Settings › User Settings"));
    assert!(app
        .text("#whoami")
        .await
        .contains("Signed in as root (admin)"));
    assert_eq!(app.text(&row("alice", "td.app")).await, "1");
    assert_eq!(app.text(&row("alice", "td.web")).await, "1");
    app.text_containing("#summary", "4 users").await;
    app.shot("user-settings").await;

    // Remembered in the real Secret Service, readable by another process, and never in
    // the webview.
    let token = keychain_token("root", &server.url).expect("the token is in the keychain");
    server
        .client()
        .with_token(token.clone())
        .admin_me()
        .await
        .unwrap();
    let leaked = app
        .script(&format!(
            "return document.documentElement.outerHTML.includes({token:?}) \
             || JSON.stringify(localStorage).includes({token:?}) \
             || JSON.stringify(sessionStorage).includes({token:?})"
        ))
        .await;
    assert_eq!(
        leaked,
        serde_json::Value::Bool(false),
        "the token reached the webview"
    );

    // Search as you type, and the filters.
    app.fill("#search", "ALI").await;
    app.count_is("#users-body tr", 1).await;
    assert_eq!(app.text("#users-body tr td.mono").await, "alice");
    app.shot("search").await;
    app.fill("#search", "").await;
    app.count_is("#users-body tr", 4).await;
    app.click(".chip[data-filter=online]").await;
    app.count_is("#users-body tr", 4).await;
    app.click(".chip[data-filter=deactivated]").await;
    app.text_containing("#users-status", "No users to show")
        .await;
    app.count_is("#users-body tr", 0).await;
    app.click(".chip[data-filter='']").await;
    app.count_is("#users-body tr", 4).await;

    // Logout on one user: named, counted, and their tokens die.
    app.click(&row("alice", "button.logout")).await;
    app.visible("#confirm").await;
    let body = app.text("#confirm-body").await;
    assert!(
        body.contains("2 sessions") && body.contains("1 in the app and 1 on the web"),
        "{body}"
    );
    app.shot("confirm-logout-alice").await;
    app.click("#confirm-ok").await;
    app.text_containing("#messages", "alice was logged out")
        .await;
    app.text_containing("#messages", "2 sessions ended").await;
    assert_eq!(app.text(&row("alice", "td.app")).await, "0");
    app.shot("alice-logged-out").await;
    assert_rejected(&alice_app, "session_revoked").await;
    assert_rejected(&alice_web, "session_revoked").await;
    bob_web.session().await.unwrap();

    // Deactivate: the confirmation says it logs them out; their login is refused after.
    app.click(&row("bob", "button.deactivate")).await;
    let body = app
        .text_containing("#confirm-body", "will not be able to sign in")
        .await;
    assert!(body.contains("1 open session"), "{body}");
    app.click("#confirm-ok").await;
    app.text_containing(&row("bob", ".badge"), "deactivated")
        .await;
    app.text_containing("#messages", "bob was deactivated")
        .await;
    app.shot("bob-deactivated").await;
    assert_rejected(&bob_web, "session_revoked").await;
    let refused = server
        .client()
        .login(&LoginRequest {
            username: "bob".into(),
            password: PASSWORD.into(),
            client: ClientKind::Web,
            device_name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("account_deactivated"));

    // Logout All Users: counted, and the admin stays signed in.
    app.click("#logout-all").await;
    let body = app
        .text_containing("#confirm-body", "You stay signed in")
        .await;
    // carol's app session; the admin's own is not counted, it stays.
    assert!(
        body.contains("This logs out 1 user (1 session: 1 app, 0 web)"),
        "{body}"
    );
    app.shot("confirm-logout-all").await;
    app.click("#confirm-ok").await;
    app.text_containing("#messages", "You are still signed in")
        .await;
    app.shot("logged-out-all").await;
    assert_rejected(&carol_app, "session_revoked").await;
    server
        .client()
        .with_token(token.clone())
        .admin_me()
        .await
        .unwrap();
    app.count_is("#users-body tr", 4).await;

    // Activity shows who did what.
    app.click("#nav-activity").await;
    app.count_is("#audit-body tr", 3).await;
    let actions: Vec<String> = {
        let mut actions = Vec::new();
        for row in app
            .client
            .find_all(fantoccini::Locator::Css("#audit-body tr"))
            .await
            .unwrap()
        {
            actions.push(row.attr("data-action").await.unwrap().unwrap_or_default());
        }
        actions
    };
    assert_eq!(actions, ["logout_all", "deactivate", "logout_user"]);
    app.shot("activity").await;

    // Readable at 200 % zoom: the layout reflows instead of cutting controls off.
    app.click("#nav-users").await;
    app.script("document.documentElement.style.zoom = '2'; return true;")
        .await;
    app.visible("#logout-all").await;
    let fits = app
        .script(
            "const r = document.getElementById('logout-all').getBoundingClientRect(); \
             return r.right <= window.innerWidth + 1 && r.width > 0;",
        )
        .await;
    assert_eq!(
        fits,
        serde_json::Value::Bool(true),
        "Logout All Users is cut off at 200 %"
    );
    app.shot("zoom-200").await;
    app.script("document.documentElement.style.zoom = ''; return true;")
        .await;

    // Restart, with the desktop in dark mode: straight to User Settings, no password, and
    // the page follows the system theme.
    let step = app.step();
    app.quit().await;
    let mut app = App::launch_with(
        test,
        config_home.path(),
        step,
        &[("GTK_THEME", "Adwaita:dark")],
    )
    .await;
    app.visible("#shell").await;
    app.count_is("#users-body tr", 4).await;
    let dark = app
        .script("return matchMedia('(prefers-color-scheme: dark)').matches")
        .await;
    assert_eq!(
        dark,
        serde_json::Value::Bool(true),
        "the page ignores the dark desktop"
    );
    app.shot("restarted-signed-in-dark").await;

    // Sign out: revoked on the server, gone from the keychain.
    app.click("#signout").await;
    app.text_containing("#signin-notice", "You signed out")
        .await;
    app.shot("signed-out").await;
    assert_eq!(keychain_token("root", &server.url), None);
    assert_rejected(&server.client().with_token(token), "session_revoked").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_explained_and_support_cannot_deactivate() {
    let server = Server::start();
    server.add_user("helpdesk", "support");
    server.add_user("dave", "member");
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("failures", config_home.path(), 0).await;

    app.sign_in("http://curfew.example.com", "helpdesk", PASSWORD, false)
        .await;
    app.text_containing("#signin-error", "Use https://").await;
    app.shot("insecure-http").await;

    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
    };
    app.sign_in(&dead, "helpdesk", PASSWORD, false).await;
    app.text_containing("#signin-error", "Could not reach the server")
        .await;
    app.shot("unreachable").await;

    app.sign_in(&server.url, "helpdesk", "not the password", false)
        .await;
    app.text_containing("#signin-error", "Wrong username or password")
        .await;
    app.shot("wrong-password").await;

    app.sign_in(&server.url, "dave", PASSWORD, false).await;
    app.text_containing("#signin-error", "no administrator permissions")
        .await;
    app.shot("not-an-administrator").await;

    // dave has a session, so support is offered Logout on him.
    let (_dave, _) = server.login("dave", ClientKind::Web).await;
    app.sign_in(&server.url, "helpdesk", PASSWORD, false).await;
    app.visible("#shell").await;
    app.count_is("#users-body tr", 2).await;
    let deactivate = app.find(&row("dave", "button.deactivate")).await;
    assert!(
        !deactivate.is_enabled().await.unwrap(),
        "support can press Deactivate"
    );
    let reason = deactivate.attr("title").await.unwrap().unwrap_or_default();
    assert!(reason.contains("(support) cannot deactivate"), "{reason}");
    assert!(app
        .find(&row("dave", "button.logout"))
        .await
        .is_enabled()
        .await
        .unwrap());
    app.shot("support-view").await;
    // Not remembered: nothing in the keychain.
    assert_eq!(keychain_token("helpdesk", &server.url), None);
    app.quit().await;
}
