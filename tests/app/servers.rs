//! Several servers: the admin names each server, signs in to each with its own keychain
//! entry, switches between them with the remembered sign-ins (no password), sees the
//! current server's name in the top bar, on the sign-in screen, in desktop notifications
//! and on the tray's line; still hears from a remembered server not shown; keeps a search
//! across a switch; forgets one (its keychain entry goes); and a settings folder
//! from before several servers (`profile.json`) still opens with its saved sign-in.

use curfew::api::{ClientKind, MaintenanceRequest};

use crate::driver::{keychain_token, App};
use crate::maintenance::NotifyMonitor;
use crate::support::{Server, PASSWORD};
use crate::tray::{TrayMenu, Watcher, TRAY_HOST};

fn window_in(minutes: i64, message: &str) -> MaintenanceRequest {
    MaintenanceRequest {
        starts_at: chrono::Utc::now() + chrono::Duration::minutes(minutes),
        ends_at: None,
        message: message.into(),
        warn_before: vec![3600],
        freeze_before: 0,
        keep_admins: true,
    }
}

/// Picks `value` in the `<select>` `css`, as the admin does.
async fn choose(app: &App, css: &str, value: &str) {
    app.find(css).await;
    app.script(&format!(
        "const select = document.querySelector({css:?}); select.value = {value:?}; \
         select.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;"
    ))
    .await;
}

/// Signed in to `name` at `url`: the switcher shows it with its address on hover (set from
/// what the Rust side answered, so a switch still under way is not taken for done: the
/// line beside it reads the same on every server), and the rest of the top bar does not
/// say it again.
async fn signed_in_to(app: &App, name: &str, url: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let seen = app
            .script(
                "const select = document.getElementById('server-switch'); \
                 return [select.selectedOptions[0]?.textContent ?? '', select.title.replace(/\\/$/, ''), \
                 document.getElementById('whoami').textContent, \
                 [...document.querySelectorAll('.topbar > :not(.server-switch)')] \
                 .map((e) => e.innerText).join(' | '), \
                 document.getElementById('messages').innerText, \
                 document.getElementById('signin-view').hidden ? '' : 'the sign-in screen: ' + document.getElementById('signin-notice').innerText];",
            )
            .await;
        let (chosen, address, whoami, bar, _, _): (String, String, String, String, String, String) =
            serde_json::from_value(seen.clone()).unwrap();
        if chosen == name
            && address == url.trim_end_matches('/')
            && whoami == "Signed in as root (admin)"
        {
            assert!(
                !bar.contains(name),
                "the top bar names {name} again beside the switcher: {bar:?}"
            );
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not signed in to {name}: the switcher, its address, the line, the bar, the messages and the sign-in screen read {seen}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The usernames of the list's rows, in order.
async fn rows(app: &App) -> Vec<String> {
    serde_json::from_value(
        app.script("return [...document.querySelectorAll('#users-body tr[data-username]')].map((r) => r.dataset.username);")
            .await,
    )
    .unwrap()
}

/// The switcher's options, in order.
async fn switcher(app: &App) -> Vec<String> {
    let value = app
        .script("return [...document.querySelectorAll('#server-switch option')].map((o) => o.textContent);")
        .await;
    serde_json::from_value(value).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_server_has_its_name_and_keychain_entry_and_switching_signs_in_with_it() {
    let production = Server::start();
    let staging = Server::start();
    for server in [&production, &staging] {
        server.add_user("root", "admin");
    }
    for member in ["alice", "bob"] {
        production.add_user(member, "member");
    }
    let _turn = TRAY_HOST.lock().await;
    let watcher = Watcher::default();
    let bus = zbus::connection::Builder::session()
        .unwrap()
        .name("org.kde.StatusNotifierWatcher")
        .unwrap()
        .serve_at("/StatusNotifierWatcher", watcher.clone())
        .unwrap()
        .build()
        .await
        .expect("the session bus (run the desktop tests through `cargo xtask test`)");
    let monitor = NotifyMonitor::start();
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("servers", config_home.path(), 0).await;
    let tray = TrayMenu::of(&bus, &watcher, app.app_pid()).await;

    // The first server, named by the admin.
    app.visible("#signin-view").await;
    app.fill("#server-name", "production").await;
    app.sign_in(&production.url, "root", PASSWORD, true).await;
    signed_in_to(&app, "production", &production.url).await;
    tray.wait_for_entry("production: No maintenance planned")
        .await;

    // A second one: the sign-in screen says it is a new server.
    choose(&app, "#server-switch", "\u{0}add").await;
    app.visible("#signin-view").await;
    app.text_containing("#signin-which", "a new server").await;
    app.shot("adding-a-server").await;
    app.fill("#server-name", "staging").await;
    app.sign_in(&staging.url, "root", PASSWORD, true).await;
    signed_in_to(&app, "staging", &staging.url).await;
    assert_eq!(
        switcher(&app).await,
        ["production", "staging", "Add a server…"]
    );
    // Each has its own keychain entry.
    let production_token = keychain_token("root", &production.url).expect("production's entry");
    let staging_token = keychain_token("root", &staging.url).expect("staging's entry");
    assert_ne!(production_token, staging_token);

    // Notifications and the tray's line say which server they are about.
    let (staging_root, _) = staging.login("root", ClientKind::App).await;
    let staging_upgrade = staging_root
        .schedule_maintenance(&window_in(15, "Staging upgrade"))
        .await
        .unwrap();
    monitor
        .expect(&[
            "staging: Maintenance warning sent",
            "15 min before the start",
        ])
        .await;
    let (_, line, _) = tray.wait_for_entry("staging: Next maintenance:").await;
    assert!(
        line.ends_with("(in 14 min)") || line.ends_with("(in 15 min)"),
        "{line}"
    );
    app.shot("staging").await;

    // Switching signs in to the other with its remembered sign-in: no password asked.
    let (production_root, _) = production.login("root", ClientKind::App).await;
    production_root
        .schedule_maintenance(&window_in(45, "Production upgrade"))
        .await
        .unwrap();
    // A search typed on staging stays for production: the first page the switch brings
    // along (the default order, unsearched) must not stand in for it.
    app.fill("#search", "ali").await;
    app.until("staging's list searched", || async {
        rows(&app).await.is_empty()
    })
    .await;
    choose(&app, "#server-switch", "production").await;
    signed_in_to(&app, "production", &production.url).await;
    app.until("production's list searched for \"ali\"", || async {
        rows(&app).await == ["alice"]
    })
    .await;
    app.fill("#search", "").await;
    app.until("production's whole list", || async {
        rows(&app).await == ["alice", "bob", "root"]
    })
    .await;
    tray.wait_for_entry("production: Next maintenance:").await;
    // Staging, remembered, is still heard from while production is shown: its
    // notifications, led by its name. Its watcher connects in the background, so a window
    // is scheduled and cancelled there until the notification comes (each cancellation is
    // an event of its own; the first to go is the upgrade, which has no end and so would
    // overlap any other).
    staging_root
        .cancel_maintenance(staging_upgrade.id)
        .await
        .unwrap();
    let mut heard = false;
    for _ in 0..20 {
        if monitor
            .seen_within(
                &["staging: Maintenance cancelled"],
                std::time::Duration::from_secs(1),
            )
            .await
        {
            heard = true;
            break;
        }
        let later = staging_root
            .schedule_maintenance(&window_in(180, "Staging, later"))
            .await
            .unwrap();
        staging_root.cancel_maintenance(later.id).await.unwrap();
    }
    assert!(
        heard,
        "no notification from staging while production was shown"
    );
    // Staging's sign-in was kept for the way back, not ended.
    assert_eq!(
        keychain_token("root", &staging.url).as_deref(),
        Some(staging_token.as_str())
    );
    staging_root.admin_me().await.unwrap();
    let (_, line, _) = tray.wait_for_entry("production: Next maintenance:").await;
    assert!(
        line.ends_with("(in 44 min)") || line.ends_with("(in 45 min)"),
        "{line}"
    );
    app.shot("production").await;
    // At the minimum window size the top bar still says it once, and everything in it
    // stays in the window.
    app.client.set_window_size(720, 480).await.unwrap();
    app.until("the window at its minimum size", || async {
        app.script("return innerWidth <= 720").await == serde_json::Value::Bool(true)
    })
    .await;
    signed_in_to(&app, "production", &production.url).await;
    let overflow = app
        .script(
            "return [...document.querySelectorAll('.topbar > *')] \
             .filter((e) => e.getBoundingClientRect().right > innerWidth + 1) \
             .map((e) => e.id || e.className);",
        )
        .await;
    assert_eq!(overflow, serde_json::json!([]), "cut off at 720 px");
    app.shot("production-minimum-size").await;
    app.client.set_window_size(1200, 780).await.unwrap();

    // Back, and forget staging: signed out there, its entry gone, production opens.
    choose(&app, "#server-switch", "staging").await;
    signed_in_to(&app, "staging", &staging.url).await;
    app.click("#server-forget").await;
    app.text_containing("#confirm-body", "deletes its saved sign-in")
        .await;
    app.shot("forget-staging").await;
    app.click("#confirm-ok").await;
    signed_in_to(&app, "production", &production.url).await;
    assert_eq!(switcher(&app).await, ["production", "Add a server…"]);
    assert_eq!(
        keychain_token("root", &staging.url),
        None,
        "staging's entry stayed"
    );
    let client = staging.client().with_token(staging_token);
    assert!(
        client.admin_me().await.is_err(),
        "staging's saved token still works"
    );
    let step = app.step();
    app.quit().await;
    drop(tray);

    // A settings folder from before several servers: one profile, the same keychain
    // entry. It opens signed in, named after its host.
    let dir = config_home.path().join("dev.curfew.app");
    std::fs::remove_file(dir.join("servers.json")).unwrap();
    std::fs::write(
        dir.join("profile.json"),
        serde_json::json!({"server": format!("{}/", production.url), "username": "root", "remember": true}).to_string(),
    )
    .unwrap();
    let host = production.url.trim_start_matches("http://").to_owned();
    let mut app = App::launch("servers-upgrade", config_home.path(), step).await;
    signed_in_to(&app, &host, &production.url).await;
    assert_eq!(switcher(&app).await, [host.as_str(), "Add a server…"]);
    // Signed out, the sign-in screen says which server it is for.
    app.click("#signout").await;
    app.text_containing("#signin-which", &format!("Sign in to {host}"))
        .await;
    // The form is filled in for it: only the password is asked for.
    let filled = app
        .script("return [document.getElementById('server').value, document.getElementById('username').value, document.getElementById('remember').checked];")
        .await;
    assert_eq!(filled, serde_json::json!([production.url, "root", true]));
    app.shot("signed-out-of-the-upgraded").await;
    app.quit().await;
}
