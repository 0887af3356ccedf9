//! The audit as a tool, where the admin works with it: filtered by administrator, user,
//! action and dates (by the server: the rows are what its filter returns), exact local
//! times with the full timestamp on hover, entries that match appearing at once from the
//! event stream (and those that do not staying out), and exports in CSV and JSON Lines of
//! every matching entry, written to the Downloads folder.

use std::path::Path;
use std::time::{Duration, Instant};

use curfew::api::{AuditAction, AuditFilter, AuditQuery, ClientKind, UserQuery, UserSelection};

use crate::driver::App;
use crate::support::Server;

/// Sets a form control's value as typing or picking would, and fires its events.
async fn set_value(app: &App, css: &str, value: &str) {
    app.find(css).await;
    app.script(&format!(
        "const input = document.querySelector({css:?}); input.value = {value:?}; \
         input.dispatchEvent(new Event('input', {{ bubbles: true }})); \
         input.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;"
    ))
    .await;
}

/// The (action, actor, target) of every row shown, top to bottom.
async fn rows(app: &App) -> Vec<(String, String, String)> {
    let value = app
        .script(
            "return [...document.querySelectorAll('#audit-body tr')].map((tr) => \
             [tr.dataset.action, tr.cells[1].textContent, tr.cells[3].textContent]);",
        )
        .await;
    serde_json::from_value(value).unwrap()
}

/// Waits until the rows are `expected` (an admin event or a filter reloads them).
async fn rows_become(app: &App, what: &str, expected: &[(&str, &str, &str)]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = rows(app).await;
        let matches = seen.len() == expected.len()
            && seen
                .iter()
                .zip(expected)
                .all(|(s, e)| (s.0.as_str(), s.1.as_str(), s.2.as_str()) == *e);
        if matches {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: expected rows {expected:?}, saw {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The file the app says it exported to, once the success message names it.
async fn exported(app: &App, dir: &Path, entries: &str) -> String {
    let said = app
        .text_containing("#messages", &format!("Exported {entries} to "))
        .await;
    let path = said
        .lines()
        .find(|l| l.contains("Exported"))
        .and_then(|l| l.split(" to ").nth(1))
        .map(|p| p.trim_end_matches("Dismiss").trim().to_owned())
        .unwrap_or_else(|| panic!("no path in {said:?}"));
    assert!(
        Path::new(&path).starts_with(dir),
        "{path} is not in the Downloads folder {}",
        dir.display()
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_filters_updates_live_shows_exact_times_and_exports_what_is_filtered() {
    let server = Server::start();
    for (name, role) in [
        ("root", "admin"),
        ("ops", "admin"),
        ("alice", "member"),
        ("bob", "member"),
        ("carol", "member"),
        ("dave", "member"),
        ("erin", "member"),
    ] {
        server.add_user(name, role);
    }
    let (ops, _) = server.login("ops", ClientKind::App).await;
    let (root_api, _) = server.login("root", ClientKind::App).await;
    let page = ops.users(&UserQuery::default()).await.unwrap();
    let id = |name: &str| page.users.iter().find(|u| u.username == name).unwrap().id;
    let (alice, bob) = (id("alice"), id("bob"));
    ops.logout_user(alice).await.unwrap();
    root_api.logout_user(bob).await.unwrap();
    ops.deactivate(bob).await.unwrap();

    // The desktop's Downloads folder, as the XDG user-dirs file names it.
    let config_home = tempfile::tempdir().unwrap();
    let downloads = config_home.path().join("the downloads");
    std::fs::write(
        config_home.path().join("user-dirs.dirs"),
        format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display()),
    )
    .unwrap();
    let mut app = App::launch("activity", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "root").await;
    app.click("#nav-activity").await;
    rows_become(
        &app,
        "everything administrators did",
        &[
            ("deactivate", "ops", "bob"),
            ("logout_user", "root", "bob"),
            ("logout_user", "ops", "alice"),
        ],
    )
    .await;

    // Exact local times with the date; the full timestamp (to the millisecond, and in
    // UTC) on hover, the same moment the server recorded.
    let newest = root_api
        .audit(&AuditQuery::default())
        .await
        .unwrap()
        .entries[0]
        .clone();
    let when = app
        .script(
            "const td = document.querySelector('#audit-body tr td.when'); \
             return [td.querySelector('time').textContent, td.title];",
        )
        .await;
    let (shown, title): (String, String) = serde_json::from_value(when).unwrap();
    let local = newest.at.with_timezone(&chrono::Local);
    // In the desktop's locale: a 24-hour or a 12-hour clock.
    let clock = [local.format("%H:%M:%S"), local.format("%I:%M:%S")].map(|t| t.to_string());
    assert!(
        shown.contains(&local.format("%Y").to_string())
            && clock.iter().any(|t| shown.contains(t.as_str())),
        "the time shown {shown:?} is not {local} to the second with its date"
    );
    let utc = newest.at.format("%H:%M:%S%.3f UTC").to_string();
    assert!(title.contains(&utc), "the tooltip {title:?} lacks {utc}");

    // Empty date fields say what they mean, not a grey date that looks like a value.
    let empty = app
        .script(
            "return ['audit-since', 'audit-until'].map((id) => { \
             const note = document.querySelector(`#${id}-field .empty-note`); \
             return getComputedStyle(note).display !== 'none' ? note.textContent : ''; });",
        )
        .await;
    assert_eq!(empty, serde_json::json!(["The first entry", "Now"]));

    // By administrator: only what ops did, as the server filters it.
    set_value(&app, "#audit-actor", "ops").await;
    rows_become(
        &app,
        "ops's actions",
        &[
            ("deactivate", "ops", "bob"),
            ("logout_user", "ops", "alice"),
        ],
    )
    .await;
    // And by action.
    set_value(&app, "#audit-action", "logout_user").await;
    rows_become(&app, "ops's logouts", &[("logout_user", "ops", "alice")]).await;

    // Live: what matches appears at once, on top; what does not stays out.
    server.login("alice", ClientKind::Web).await;
    ops.logout_user(alice).await.unwrap();
    rows_become(
        &app,
        "a new logout by ops, live",
        &[
            ("logout_user", "ops", "alice"),
            ("logout_user", "ops", "alice"),
        ],
    )
    .await;
    root_api.logout_user(alice).await.unwrap();
    ops.logout_user(bob).await.unwrap();
    rows_become(
        &app,
        "ops's next logout, without root's",
        &[
            ("logout_user", "ops", "bob"),
            ("logout_user", "ops", "alice"),
            ("logout_user", "ops", "alice"),
        ],
    )
    .await;
    app.shot("filtered-live").await;

    // Export: every entry the filter matches, as the server has them, in both formats.
    let filter = AuditFilter {
        actor: Some("ops".into()),
        action: Some(AuditAction::LogoutUser),
        ..AuditFilter::default()
    };
    let expected = root_api
        .audit(&AuditQuery::default().with_filter(filter))
        .await
        .unwrap()
        .entries;
    assert_eq!(expected.len(), 3);
    app.click("#audit-export-csv").await;
    let csv = exported(&app, &downloads, "3 entries").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("at,actor,actor_kind,action,"), "{csv}");
    assert_eq!(lines.len(), 4, "a header and three rows: {csv}");
    for (line, entry) in lines[1..].iter().zip(&expected) {
        assert!(
            line.contains(&entry.id.to_string()),
            "{line} is not {entry:?}"
        );
        assert!(line.contains(",ops,user,logout_user,"), "{line}");
    }
    app.click("#audit-export-jsonl").await;
    // The first success message is replaced by the second.
    let deadline = Instant::now() + Duration::from_secs(10);
    let jsonl = loop {
        let files: Vec<_> = std::fs::read_dir(&downloads)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
            .collect();
        if let Some(file) = files.first() {
            let text = std::fs::read_to_string(file.path()).unwrap();
            if text.lines().count() == 3 {
                break text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no JSON Lines export of 3 entries"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let ids: Vec<String> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected_ids: Vec<String> = expected.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(ids, expected_ids);
    app.shot("exported").await;

    // A date range with nothing in it says so.
    let tomorrow = (chrono::Local::now() + chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    set_value(&app, "#audit-since", &tomorrow).await;
    app.text_containing("#audit-status", "No entry matches this filter")
        .await;
    rows_become(&app, "nothing from tomorrow", &[]).await;

    // Sign-ins: alice's, live, under the Sign-ins chip with only the user's name.
    app.click("#audit-clear").await;
    app.click(".audit-chip[data-category=sign_in]").await;
    set_value(&app, "#audit-actor", "alice").await;
    rows_become(&app, "alice's sign-in", &[("sign_in", "alice", "")]).await;
    server.login("alice", ClientKind::App).await;
    rows_become(
        &app,
        "alice's new sign-in, live",
        &[("sign_in", "alice", ""), ("sign_in", "alice", "")],
    )
    .await;
    app.shot("sign-ins-live").await;

    // Actions on several users: the User column says who, the first few by name and every
    // name on hover, and the filter by user finds them by any of those names.
    app.click("#audit-clear").await;
    app.click(".audit-chip[data-category=admin]").await;
    for who in ["alice", "carol", "dave", "erin"] {
        server.login(who, ClientKind::Web).await;
    }
    let selection = |names: &[&str]| UserSelection {
        ids: Some(names.iter().map(|n| id(n)).collect()),
        matching: None,
    };
    root_api
        .logout_selected(&selection(&["alice", "carol", "dave", "erin"]), false)
        .await
        .unwrap();
    root_api
        .deactivate_selected(&selection(&["carol", "dave"]), false)
        .await
        .unwrap();
    set_value(&app, "#audit-target", "dave").await;
    rows_become(
        &app,
        "the bulk actions naming dave",
        &[
            ("deactivate_selected", "root", "2 users: carol, dave"),
            (
                "logout_selected",
                "root",
                "4 users: alice, carol, dave and 1 more",
            ),
        ],
    )
    .await;
    let hover = app
        .script(
            "return document.querySelector('#audit-body tr[data-action=logout_selected] td.target').title;",
        )
        .await;
    assert_eq!(hover, "alice, carol, dave, erin");
    // The names are said once: not again beside the action.
    let detail = app
        .text("#audit-body tr[data-action=logout_selected] td.from")
        .await;
    assert!(!detail.contains("carol"), "{detail}");
    app.shot("bulk-users").await;
    app.quit().await;
}
