//! The users list as a tool, in the real app against a seeded curfewd: the counts follow
//! the search (defect 16: "1,155 users match 'an'", not only "Scroll for more"), the chips
//! are counted, the sessions order and the role filter; selecting all matching (not only
//! the loaded rows) and Logout selected, a Shift-click range and Deactivate selected, and
//! signing out idle sessions, each confirmation naming the server's exact counts; Activity
//! says what was done in words.

use std::process::Command;
use std::time::{Duration, Instant};

use curfew::api::{
    ClientKind, Role, UserFilter, UserMatch, UserQuery, UserSelection, UserSort, UserStatus,
};
use fantoccini::actions::{
    ActionSequence, Actions, InputSource, KeyAction, KeyActions, MouseActions, PointerAction,
};
use fantoccini::Locator;

use crate::driver::App;
use crate::support::{curfewd_bin, run_sql, Server, PASSWORD};

/// Seeded with random names: enough that "an" matches over a page (100) in every run. At
/// 600 it matched 96 in one CI run (about one user in six matches).
const USERS: usize = 1500;

/// Clicks `css` with Shift held, the way a person extends a range.
async fn shift_click(app: &App, css: &str) {
    let element = app.visible(css).await;
    let shift = '\u{E008}';
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: shift })
        .pause(Duration::ZERO)
        .pause(Duration::ZERO)
        .pause(Duration::ZERO)
        // Released after the button is, so the click carries Shift.
        .then(KeyAction::Up { value: shift });
    let mouse = MouseActions::new("mouse".into())
        .pause(Duration::ZERO)
        .then(PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down { button: 0 })
        .then(PointerAction::Up { button: 0 });
    app.client
        .perform_actions(Actions::from(vec![
            ActionSequence::from(keys),
            ActionSequence::from(mouse),
        ]))
        .await
        .expect("a Shift-click");
    app.client.release_actions().await.expect("keys released");
}

/// Waits until the script `js` (returning a boolean) is true, or fails naming `what`.
async fn until_true(app: &App, what: &str, js: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.script(js).await != serde_json::Value::Bool(true) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_list_is_a_tool_with_counts_selections_and_idle_sessions() {
    let server = Server::start();
    let seeded = Command::new(curfewd_bin())
        .args(["demo-seed", "--database-url", &server.database_url])
        .args(["--users", &USERS.to_string(), "--admin-password", PASSWORD])
        .args(["--online-share", "0.5", "--deactivated-share", "0"])
        .env("CURFEW_LOG", "warn")
        .output()
        .expect("demo-seed");
    assert!(
        seeded.status.success(),
        "demo-seed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    // The test's own administrator, whom no search below matches.
    server.add_user("ops", "admin");
    let (admin, _) = server.login("ops", ClientKind::Web).await;
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("bulk", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "admin").await;
    app.find("#users-body tr").await;

    // Defect 16: a search with more than a page of matches says how many match, above
    // the list and under it; the chips count the search.
    let an = UserMatch {
        q: Some("an".into()),
        ..Default::default()
    };
    let counts = admin.user_counts(&an).await.unwrap();
    assert!(
        counts.matching > 100,
        "the seed gives over a page of \"an\": {counts:?}"
    );
    app.fill("#search", "an").await;
    let matching = thousands(counts.matching);
    app.text_containing("#summary", &format!("{matching} users match “an”"))
        .await;
    app.text_containing(
        "#users-status",
        &format!("100 of {matching} users matching “an” shown. Scroll for more"),
    )
    .await;
    app.text_containing(
        ".chip[data-filter=online] .chip-count",
        &thousands(counts.online),
    )
    .await;
    app.text_containing(
        ".chip[data-role=member] .chip-count",
        &thousands(counts.member),
    )
    .await;
    app.shot("counts-follow-the-search").await;

    // Sorted by sessions: the first row is the server's first; every row says its devices.
    app.script("const s = document.getElementById('sort'); s.value = 'sessions'; s.dispatchEvent(new Event('change'));")
        .await;
    let first = admin
        .users(&UserQuery {
            q: Some("an".into()),
            sort: Some(UserSort::Sessions),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .users
        .remove(0);
    let first_row = format!("#users-body tr[data-username=\"{}\"]", first.username);
    until_true(
        &app,
        "the sessions order",
        &format!(
            "return document.querySelector('#users-body tr')?.dataset.username === {:?};",
            first.username
        ),
    )
    .await;
    let devices = first.app_sessions + first.web_sessions;
    let shown = app
        .script(&format!(
            "return document.querySelector({:?})?.textContent;",
            format!("{first_row} td.devices")
        ))
        .await;
    assert_eq!(shown, serde_json::json!(devices.to_string()), "{first_row}");
    app.shot("sorted-by-sessions").await;

    // Select all matching (not just the 100 loaded), then Logout selected: the
    // confirmation names what the server will end, and one call ends it.
    app.click("#select-loaded").await;
    app.text_containing("#bulk-count", "100 users selected")
        .await;
    app.click("#bulk-all").await;
    app.text_containing(
        "#bulk-count",
        &format!("All {matching} users matching “an” are selected"),
    )
    .await;
    let preview = admin
        .logout_selected(
            &UserSelection {
                ids: None,
                matching: Some(an.clone()),
            },
            true,
        )
        .await
        .unwrap();
    app.click("#bulk-logout").await;
    let body = app
        .text_containing(
            "#confirm-body",
            &format!("This ends {} sessions", thousands(preview.sessions_revoked)),
        )
        .await;
    assert!(
        body.contains(&format!("of {} users", thousands(preview.users_affected))),
        "{body}"
    );
    app.shot("logout-selected-confirmation").await;
    app.click("#confirm-ok").await;
    app.text_containing(
        "#messages",
        &format!("Logged out {} users", thousands(preview.users_affected)),
    )
    .await;
    let after = admin.user_counts(&an).await.unwrap();
    let admin_matches = admin
        .users(&UserQuery {
            q: Some("an".into()),
            role: Some(Role::Admin),
            ..Default::default()
        })
        .await
        .unwrap();
    // Only the caller's own session may be left among them.
    assert!(
        after.online <= admin_matches.users.len() as i64,
        "{after:?}"
    );
    app.text_containing(
        ".chip[data-filter=online] .chip-count",
        &after.online.to_string(),
    )
    .await;
    assert!(
        app.script("return document.getElementById('bulk-bar').hidden;")
            .await
            == true
    );
    app.shot("logged-out-all-matching").await;

    // The role filter and a Shift-click range: five members, then Deactivate selected.
    app.fill("#search", "").await;
    app.script("const s = document.getElementById('sort'); s.value = 'name'; s.dispatchEvent(new Event('change'));")
        .await;
    app.click(".chip[data-role=member]").await;
    let members = admin
        .users(&UserQuery {
            role: Some(Role::Member),
            limit: Some(5),
            ..Default::default()
        })
        .await
        .unwrap()
        .users;
    let first_box = format!(
        "#users-body tr[data-username=\"{}\"] input.select-user",
        members[0].username
    );
    let fifth_box = format!(
        "#users-body tr[data-username=\"{}\"] input.select-user",
        members[4].username
    );
    app.click(&first_box).await;
    shift_click(&app, &fifth_box).await;
    app.text_containing("#bulk-count", "5 users selected").await;
    assert_eq!(app.count("#users-body tr.selected").await, 5);
    let sessions: i64 = members
        .iter()
        .map(|u| u.app_sessions + u.web_sessions)
        .sum();
    app.shot("a-shift-click-range").await;
    app.click("#bulk-deactivate").await;
    let body = app
        .text_containing("#confirm-body", "5 users will not be able to sign in")
        .await;
    if sessions > 0 {
        assert!(
            body.contains(&format!("{sessions} open session")),
            "{sessions} sessions: {body}"
        );
    }
    app.click("#confirm-ok").await;
    app.text_containing("#messages", "Deactivated 5 users")
        .await;
    for user in &members {
        let listed = admin
            .users(&UserQuery {
                q: Some(user.username.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        let found = listed
            .users
            .iter()
            .find(|u| u.username == user.username)
            .unwrap();
        assert_eq!(found.status, UserStatus::Deactivated, "{}", user.username);
    }

    // Idle sessions: three users' sessions last used 40 days ago; the preview and the
    // confirmation say how many; the admin's own session stays.
    let online = admin
        .users(&UserQuery {
            status: Some(UserFilter::Online),
            role: Some(Role::Member),
            limit: Some(3),
            ..Default::default()
        })
        .await
        .unwrap()
        .users;
    let names: Vec<String> = online.iter().map(|u| format!("'{}'", u.username)).collect();
    let forty_days_ago = chrono::Utc::now().timestamp_millis() - 40 * 86_400_000;
    run_sql(
        &server.database_url,
        &format!(
            "UPDATE sessions SET last_seen_at = {forty_days_ago} WHERE revoked_at IS NULL \
             AND user_id IN (SELECT id FROM users WHERE username IN ({}))",
            names.join(", ")
        ),
    );
    let idle = admin.logout_idle(30, true).await.unwrap();
    assert_eq!(idle.users_affected, 3, "{idle:?}");
    app.fill("#idle-days", "30").await;
    app.click("#idle-submit").await;
    app.text_containing(
        "#confirm-body",
        &format!(
            "{} sessions of 3 users have not been used for more than 30 days",
            idle.sessions_revoked
        ),
    )
    .await;
    app.shot("idle-sessions-confirmation").await;
    app.click("#confirm-ok").await;
    app.text_containing(
        "#messages",
        &format!(
            "Signed out {} idle sessions of 3 users",
            idle.sessions_revoked
        ),
    )
    .await;
    assert_eq!(
        admin.logout_idle(30, true).await.unwrap().sessions_revoked,
        0
    );

    // Activity says each in words, with whom and how many.
    app.click("#nav-activity").await;
    let log = app
        .text_containing("#audit-body", "signed out idle sessions")
        .await;
    for words in [
        "idle for more than 30 days",
        "deactivated selected users",
        "logged out selected users",
        &members[0].username,
    ] {
        assert!(log.contains(words), "Activity lacks {words:?}: {log}");
    }
    let rows = app
        .client
        .find_all(Locator::Css("#audit-body tr[data-action=logout_selected]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one entry for the whole selection");
    app.shot("activity-in-words").await;
    app.quit().await;
}
