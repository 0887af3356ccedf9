//! What the bench does in Curfew's window: sign in once, load users by scrolling, scroll
//! through the whole list to its last row, and type a search key by key. The page's own
//! figures come from `#users-view`'s data attributes (`loadedCount`, `searchMs`,
//! `searchFetchMs`, `searchCount`), which ui/views/users.js keeps for this bench.

use std::time::{Duration, Instant};

use anyhow::Context;

use crate::webdriver::Session;

/// Signs in with "Remember me", as an admin does the first time; later launches sign in
/// from the keychain.
pub async fn sign_in(session: &Session, url: &str, password: &str) -> anyhow::Result<()> {
    for (css, text) in [
        ("#server", url),
        ("#username", "admin"),
        ("#password", password),
    ] {
        session
            .wait_displayed(css, Duration::from_secs(30))
            .await?
            .send_keys(text)
            .await?;
    }
    for css in ["#remember", "#signin-submit"] {
        session
            .wait_displayed(css, Duration::from_secs(5))
            .await?
            .click()
            .await?;
    }
    session
        .wait_for("#users-body tr", Duration::from_secs(30))
        .await?;
    Ok(())
}

/// Where Curfew's start went, in ms from `started_at_ms` (the session request, in ms
/// since the epoch): the page's navigation, its DOM ready, and the marks app.js and
/// users.js leave ("contract", "startup", "first-page", "first-rows").
pub async fn start_marks(session: &Session, started_at_ms: f64) -> anyhow::Result<String> {
    let value = session
        .client
        .execute(
            "const [at] = arguments; const origin = performance.timeOrigin - at; \
             const nav = performance.getEntriesByType('navigation')[0]; \
             const marks = [['page', 0], ['html', nav?.responseEnd ?? NaN], \
               ['DOM ready', nav?.domContentLoadedEventEnd ?? NaN]] \
               .concat(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])); \
             return marks.map(([name, t]) => `${name} ${(origin + t).toFixed(0)}`).join(', ');",
            vec![started_at_ms.into()],
        )
        .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// Rows in the page and users loaded into the list.
pub struct Loaded {
    pub users: usize,
    pub rows: usize,
    /// The most rows the page held at once on the way.
    pub rows_max: usize,
    /// The `data-user-id` of the last row in the page.
    pub last_row: Option<String>,
    /// Frames from the last page loaded to the last user's row in the page.
    pub frames: usize,
}

async fn long_scripts(session: &Session, seconds: u64) -> anyhow::Result<()> {
    session
        .client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(seconds)),
            None,
            None,
        ))
        .await?;
    Ok(())
}

fn loaded(value: serde_json::Value) -> anyhow::Result<Loaded> {
    let n = |k: &str| value[k].as_u64().unwrap_or(0) as usize;
    Ok(Loaded {
        users: n("users"),
        rows: n("rows"),
        rows_max: n("rowsMax"),
        last_row: value["lastRow"].as_str().map(str::to_owned),
        frames: n("frames"),
    })
}

/// Jumps to the bottom of the list until `count` users are loaded (each jump loads the
/// next page), as a quick scroller does.
pub async fn load_by_jumping(session: &Session, count: usize) -> anyhow::Result<Loaded> {
    long_scripts(session, 660).await?;
    let value = session
        .client
        .execute_async(
            "const [count, done] = arguments;
             const scroller = document.getElementById('users-scroll');
             const view = document.getElementById('users-view');
             const body = document.getElementById('users-body');
             const loaded = () => Number(view.dataset.loadedCount ?? 0);
             const until = performance.now() + 600000;
             let rowsMax = 0;
             (async () => {
               while (loaded() < count && performance.now() < until) {
                 scroller.scrollTop = scroller.scrollHeight;
                 await new Promise((r) => setTimeout(r, 20));
                 rowsMax = Math.max(rowsMax, body.rows.length);
               }
               const rows = body.rows;
               done({ users: loaded(), rows: rows.length, rowsMax,
                      lastRow: rows.length ? rows[rows.length - 1].dataset.userId : null });
             })();",
            vec![count.into()],
        )
        .await?;
    loaded(value)
}

/// Goes on jumping to the bottom until all `total` users are loaded, for at most
/// `within_s` seconds; then until the last row in the page is the last user's
/// (`last_id`), for at most 10 s. (Scrolling a few viewports a frame instead, every row
/// rendered once, took over 12 minutes for 100,000 users on two busy cores: the web
/// process, not the server, was the bottleneck.)
pub async fn scroll_to_end(
    session: &Session,
    total: usize,
    last_id: &str,
    within_s: u64,
) -> anyhow::Result<Loaded> {
    long_scripts(session, within_s + 60).await?;
    let value = session
        .client
        .execute_async(
            "const [total, within, lastId, done] = arguments;
             const scroller = document.getElementById('users-scroll');
             const view = document.getElementById('users-view');
             const body = document.getElementById('users-body');
             const loaded = () => Number(view.dataset.loadedCount ?? 0);
             const frame = () => new Promise((r) => requestAnimationFrame(r));
             const until = performance.now() + within * 1000;
             let rowsMax = 0;
             (async () => {
               while (performance.now() < until) {
                 scroller.scrollTop = scroller.scrollHeight;
                 const bottom = scroller.scrollHeight - scroller.clientHeight;
                 if (loaded() >= total && scroller.scrollTop >= bottom - 1) break;
                 await new Promise((r) => setTimeout(r, 20));
                 rowsMax = Math.max(rowsMax, body.rows.length);
               }
               // The last page's rows may take a few frames (the row height is measured
               // again and the scroll position clamped): wait for the last user's row, 10 s.
               const lastRow = () => body.rows.length ? body.rows[body.rows.length - 1].dataset.userId : null;
               const settle = performance.now() + 10000;
               let frames = 0;
               while (lastRow() !== lastId && performance.now() < settle) {
                 scroller.scrollTop = scroller.scrollHeight;
                 await frame();
                 frames += 1;
               }
               done({ users: loaded(), rows: body.rows.length, rowsMax, lastRow: lastRow(), frames });
             })();",
            vec![total.into(), within_s.into(), last_id.into()],
        )
        .await?;
    loaded(value)
}

/// One key typed into the search: the query it made, keystroke to painted list and
/// keystroke to the answer reaching the page, in ms.
pub struct Keystroke {
    pub query: String,
    pub painted_ms: f64,
    pub answer_ms: f64,
}

/// Types `keys` into the search one at a time, each after a pause (as a person reading the
/// list), and reads the page's own timing of each.
pub async fn search(session: &Session, keys: &[&str]) -> anyhow::Result<Vec<Keystroke>> {
    let search = session.wait_for("#search", Duration::from_secs(5)).await?;
    let count = || async {
        session
            .client
            .execute(
                "return Number(document.getElementById('users-view').dataset.searchCount ?? 0)",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    };
    let mut out = Vec::new();
    for key in keys {
        let before = count().await;
        search.send_keys(key).await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while count().await == before {
            anyhow::ensure!(Instant::now() < deadline, "search did not finish in 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let v = session
            .client
            .execute(
                "const d = document.getElementById('users-view').dataset; \
                 return [Number(d.searchMs), Number(d.searchFetchMs), \
                         document.getElementById('search').value.trim()];",
                vec![],
            )
            .await?;
        out.push(Keystroke {
            painted_ms: v[0].as_f64().unwrap_or(f64::NAN),
            answer_ms: v[1].as_f64().unwrap_or(f64::NAN),
            query: v[2].as_str().context("the search's value")?.to_owned(),
        });
        // A pause between keys, so each key searches at once (no debounce).
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    Ok(out)
}
