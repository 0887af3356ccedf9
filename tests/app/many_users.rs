//! A long users list: only the rows in view are in the page, however many are loaded,
//! and scrolling, zoom, focus, search and row actions still work.

use std::process::Command;

use serde_json::Value;

use crate::driver::App;
use crate::support::{curfewd_bin, Server, PASSWORD};

const USERS: usize = 2_000;
/// Rows in the page at most: a viewport of rows and the overscan, far below `USERS`.
const RENDERED_MAX: u64 = 100;
/// Users held at most: the pages around the view (two each side of it, 100 a page).
const HELD_MAX: u64 = 600;

/// Waits until the next two frames are painted.
async fn frames(app: &App) {
    app.client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             requestAnimationFrame(() => requestAnimationFrame(() => done()));",
            vec![],
        )
        .await
        .expect("frames");
}

/// Scrolls the list to `fraction` of its height (1.0: the end) and waits two frames.
async fn scroll_to(app: &App, fraction: f64) {
    app.script(&format!(
        "const s = document.getElementById('users-scroll'); \
         s.scrollTop = (s.scrollHeight - s.clientHeight) * {fraction}; return true;"
    ))
    .await;
    frames(app).await;
}

async fn searches(app: &App) -> u64 {
    app.script("return Number(document.getElementById('users-view').dataset.searchCount ?? 0)")
        .await
        .as_u64()
        .unwrap_or(0)
}

async fn loaded(app: &App) -> u64 {
    app.script("return Number(document.getElementById('users-view').dataset.loadedCount)")
        .await
        .as_u64()
        .unwrap_or(0)
}

/// Rows in the page, and whether they cover the list's viewport: no spacer shows in it.
async fn rendered(app: &App) -> (u64, bool) {
    let v = app
        .script(
            "const view = document.getElementById('users-scroll').getBoundingClientRect(); \
             const head = document.querySelector('#users-table th').getBoundingClientRect(); \
             const before = document.getElementById('users-before').getBoundingClientRect(); \
             const after = document.getElementById('users-after').getBoundingClientRect(); \
             const rows = document.getElementById('users-body').rows.length; \
             return [rows, rows > 0 && before.bottom <= head.bottom + 1 \
               && (after.height < 1 || after.top >= view.bottom - 1)];",
        )
        .await;
    (v[0].as_u64().unwrap(), v[1].as_bool().unwrap())
}

async fn assert_bounded_and_covered(app: &App, at: &str) {
    let (rows, covered) = rendered(app).await;
    assert!(
        rows > 0 && rows < RENDERED_MAX,
        "{rows} rows in the page {at}"
    );
    assert!(covered, "the rows do not fill the list's viewport {at}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_renders_only_the_rows_in_view() {
    let server = Server::start();
    let seeded = Command::new(curfewd_bin())
        .args(["demo-seed", "--database-url", &server.database_url])
        .args(["--users", &USERS.to_string(), "--admin-password", PASSWORD])
        .args(["--online-share", "0.2"])
        .env("CURFEW_LOG", "warn")
        .output()
        .expect("demo-seed");
    assert!(
        seeded.status.success(),
        "demo-seed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("many", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "admin").await;
    app.find("#users-body tr").await;
    app.text_containing("#users-status", "Scroll for more")
        .await;
    assert_bounded_and_covered(&app, "at the start").await;
    app.shot("first-page").await;
    let first_user = app
        .script(
            "return document.querySelector('#users-body tr[aria-rowindex=\"2\"]').dataset.username",
        )
        .await;

    // Focus a button, scroll it out of the page and back: it has the focus again.
    let focused = app
        .script(
            "const b = document.querySelector('#users-body tr:nth-child(3) button:enabled'); \
             b.focus(); return b.closest('tr').dataset.userId;",
        )
        .await;
    scroll_to(&app, 0.9).await;
    scroll_to(&app, 0.0).await;
    let refocused = app
        .script("return document.activeElement.closest('#users-body tr')?.dataset.userId ?? null")
        .await;
    assert_eq!(refocused, focused, "the focus was not given back");

    // Tab from the last row in the page goes on to the rows after it.
    let index = app
        .script(
            "const rows = document.getElementById('users-body').rows; \
             const row = rows[rows.length - 1]; row.querySelector('button.deactivate, button.activate').focus(); \
             return Number(row.getAttribute('aria-rowindex'));",
        )
        .await
        .as_u64()
        .unwrap();
    // The focus scrolled the list; its rows follow at the next frame, as a person's next key.
    frames(&app).await;
    app.type_into_focused("\u{E004}").await;
    let next = app
        .script("return Number(document.activeElement.closest('#users-body tr')?.getAttribute('aria-rowindex'))")
        .await;
    assert_eq!(
        next.as_u64(),
        Some(index + 1),
        "Tab did not reach the next row"
    );

    // Scrolling to the end loads every page; the page never holds more than a viewport.
    let mut previous = 0;
    let mut stalled = 0;
    while loaded(&app).await < USERS as u64 {
        scroll_to(&app, 1.0).await;
        app.until("the next page", || async {
            let now = loaded(&app).await;
            now > previous || now >= USERS as u64
        })
        .await;
        let now = loaded(&app).await;
        assert_bounded_and_covered(&app, &format!("with {now} users loaded")).await;
        stalled = if now == previous { stalled + 1 } else { 0 };
        assert!(stalled < 50, "loading stopped at {now} users");
        previous = now;
    }
    app.text_containing("#users-status", "users shown").await;
    let rowcount = app
        .script("return document.getElementById('users-table').getAttribute('aria-rowcount')")
        .await;
    assert_eq!(rowcount, Value::from("2001"));
    app.shot("scrolled-to-the-end").await;

    // Only the pages near the view keep their users (the page holds only the rows in view
    // already): scrolled through 2,000, a few hundred are held.
    let held = app
        .script("return Number(document.getElementById('users-view').dataset.heldUsers)")
        .await
        .as_u64()
        .unwrap();
    assert!(
        (1..=HELD_MAX).contains(&held),
        "{held} users held with {USERS} loaded"
    );
    // The header box picks every loaded user, those whose pages were let go too.
    app.click("#select-loaded").await;
    let picked = app.text_containing("#bulk-count", "users selected").await;
    assert_eq!(
        picked
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>(),
        USERS.to_string(),
        "the header box picked {picked:?}"
    );
    app.click("#bulk-clear").await;
    // Back at the top, the first page is fetched again and its rows come back.
    scroll_to(&app, 0.0).await;
    app.until("the first page fetched again", || async {
        app.script(
            "const first = document.querySelector('#users-body tr[aria-rowindex=\"2\"]');              return !document.querySelector('#users-body tr.placeholder') && first ? first.dataset.username : null",
        )
        .await
            == first_user
    })
    .await;
    assert_bounded_and_covered(&app, "back at the top").await;
    app.shot("back-at-the-top").await;
    let last = app
        .script(
            "return [...document.getElementById('users-body').rows].reverse() \
             .find((row) => row.querySelector('button.logout'))?.dataset.username",
        )
        .await;
    let last = last.as_str().expect("a last row").to_owned();

    // The middle, at 200 % zoom too.
    scroll_to(&app, 0.5).await;
    assert_bounded_and_covered(&app, "in the middle").await;
    app.script("document.documentElement.style.zoom = '2'; document.getElementById('users-scroll').scrollIntoView(); return true;")
        .await;
    scroll_to(&app, 0.3).await;
    assert_bounded_and_covered(&app, "at 200 %").await;
    app.shot("zoom-200-middle").await;
    app.script("document.documentElement.style.zoom = ''; return true;")
        .await;
    scroll_to(&app, 0.7).await;
    assert_bounded_and_covered(&app, "back at 100 %").await;

    // A filter starts again from the top.
    app.click(".chip[data-filter=deactivated]").await;
    app.find("#users-body tr .badge.deactivated").await;
    let top = app
        .script("return document.getElementById('users-scroll').scrollTop")
        .await;
    assert_eq!(
        top.as_f64(),
        Some(0.0),
        "the filter kept the scroll position"
    );
    app.click(".chip[data-filter='']").await;

    // A search with more than one page: its time is recorded (for `cargo xtask bench`).
    let before = searches(&app).await;
    app.fill("#search", "a").await;
    app.until("the search time", || async {
        searches(&app).await > before
    })
    .await;
    assert_bounded_and_covered(&app, "after a search").await;

    // Search finds the last user, and a row action updates the row.
    app.fill("#search", &last).await;
    let row = format!("#users-body tr[data-username=\"{last}\"]");
    app.find(&row).await;
    app.click(&format!("{row} button.logout")).await;
    app.click("#confirm-ok").await;
    app.text_containing("#messages", "was logged out").await;
    app.text_containing(&format!("{row} td.app"), "0").await;
    assert_eq!(app.text(&format!("{row} td.web")).await, "0");
    app.shot("search-last-user").await;
    app.quit().await;
}
