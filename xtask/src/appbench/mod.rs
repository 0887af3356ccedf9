//! `cargo xtask bench --only app`: Curfew's release build beside a baseline, a minimal Tauri
//! 2 app with the same crates and window and an empty page (`xtask/baseline-app/`, built in
//! the same cargo invocation), in one run under Xvfb against curfewd with 100,000 users.
//! Memory is proportional (PSS, summed over the app and its WebKit processes, [`pss`]);
//! first paint is timed the same way for both (WebDriver session request to the page's
//! element: Curfew's first user row, the baseline's one element); the search is timed
//! against the server's own answer to the same query, asked directly over HTTP in the same
//! run. Each figure is the median of [`LAUNCHES`] launches (or `--launches`), baseline and Curfew alternating,
//! but the scroll through all users, which runs in the first launch only (it takes minutes).

mod curfew;
mod pss;
mod report;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::webdriver::Session;
pub use report::print;

const USERS: usize = 100_000;
const LOADED: usize = 10_000;
/// Launches of each app unless `--launches` says otherwise.
pub const LAUNCHES: usize = 3;
/// The scroll through all users, in the first launch only: it takes some 15 minutes on two
/// cores (each page costs the web process more as the list grows).
const SCROLL_WITHIN_S: u64 = 1200;
const PASSWORD: &str = crate::bench::ADMIN_PASSWORD;
/// Typed one at a time: m, ma, mar, mart, mar, ma, mai, maia.
const KEYS: [&str; 8] = ["m", "a", "r", "t", "\u{E003}", "\u{E003}", "i", "a"];

/// One launch of the baseline.
pub struct BaselineRun {
    pub first_paint_ms: f64,
    pub memory: pss::Memory,
}

/// One launch of Curfew.
pub struct CurfewRun {
    pub first_paint_ms: f64,
    pub at_paint: pss::Memory,
    pub at_10k: pss::Memory,
    pub loaded_10k: curfew::Loaded,
    /// After the scroll through all users (the first launch only), and whether its last
    /// row was the last user's.
    pub at_end: Option<(pss::Memory, curfew::Loaded, bool)>,
    /// Each key: the query, keystroke to painted list, to the answer in the page, and the
    /// server's answer to the same query over HTTP (median of three), in ms.
    pub search: Vec<(curfew::Keystroke, f64)>,
}

pub struct Report {
    pub users: usize,
    pub baseline: Vec<BaselineRun>,
    pub curfew: Vec<CurfewRun>,
}

/// Every user in the list's order, through the API: (how many, the last one's id).
async fn last_user(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> anyhow::Result<(usize, String)> {
    let (mut count, mut last, mut cursor) = (0, None, None::<String>);
    loop {
        let mut request = http
            .get(format!("{url}/api/v1/admin/users"))
            .bearer_auth(token)
            .query(&[("limit", "500")]);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        let page: serde_json::Value = request.send().await?.error_for_status()?.json().await?;
        let users = page["users"].as_array().context("users")?;
        count += users.len();
        if let Some(u) = users.last() {
            last = u["id"].as_str().map(str::to_owned);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok((count, last.context("no users")?)),
        }
    }
}

/// The server's answer to the app's first page of a search (same page size as the app's
/// `list_users`), over loopback HTTP: the median of three, in ms.
async fn server_answer_ms(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    q: &str,
) -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let mut request = http
            .get(format!("{url}/api/v1/admin/users"))
            .bearer_auth(token)
            .query(&[("limit", "100")]);
        if !q.is_empty() {
            request = request.query(&[("q", q)]);
        }
        request.send().await?.error_for_status()?.bytes().await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(report::median(&times))
}

async fn baseline_launch(driver: &Path, app: &Path, config: &Path) -> anyhow::Result<BaselineRun> {
    let started = Instant::now();
    let session = Session::launch(driver, app, config).await?;
    session
        .wait_for("#baseline-painted", Duration::from_secs(60))
        .await?;
    let first_paint_ms = started.elapsed().as_secs_f64() * 1000.0;
    let memory = pss::settled(app).await?;
    eprintln!(
        "    baseline: first paint {first_paint_ms:.0} ms, PSS {:.0} MiB: {}",
        memory.mib(),
        memory.by_name()
    );
    session.quit().await;
    pss::wait_until_gone(app).await;
    Ok(BaselineRun {
        first_paint_ms,
        memory,
    })
}

struct Server<'a> {
    url: &'a str,
    token: &'a str,
    http: &'a reqwest::Client,
    total: usize,
    last_id: &'a str,
}

async fn curfew_launch(
    driver: &Path,
    app: &Path,
    config: &Path,
    server: &Server<'_>,
    scroll: bool,
) -> anyhow::Result<CurfewRun> {
    // Start to the users list painted, signed in from the keychain.
    let started = Instant::now();
    let session = Session::launch(driver, app, config).await?;
    session
        .wait_for("#users-body tr", Duration::from_secs(60))
        .await?;
    let first_paint_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs_f64()
        * 1000.0
        - first_paint_ms;
    eprintln!(
        "    Curfew's start, ms from the session request: {}",
        curfew::start_marks(&session, started_at_ms).await?
    );
    let at_paint = pss::settled(app).await?;
    eprintln!(
        "    Curfew: first paint {first_paint_ms:.0} ms, PSS {:.0} MiB: {}",
        at_paint.mib(),
        at_paint.by_name()
    );

    let loaded_10k = curfew::load_by_jumping(&session, LOADED).await?;
    anyhow::ensure!(
        loaded_10k.users >= LOADED,
        "only {} users loaded",
        loaded_10k.users
    );
    let at_10k = pss::settled(app).await?;
    eprintln!(
        "    {} users loaded, {} rows in the page: PSS {:.0} MiB: {}",
        loaded_10k.users,
        loaded_10k.rows,
        at_10k.mib(),
        at_10k.by_name()
    );

    let at_end = if scroll {
        let started = Instant::now();
        let end =
            curfew::scroll_to_end(&session, server.total, server.last_id, SCROLL_WITHIN_S).await?;
        let reached = end.users == server.total && end.last_row.as_deref() == Some(server.last_id);
        let memory = pss::settled(app).await?;
        eprintln!(
            "    scrolled {:.0} s: {} of {} users loaded, the last user's row {} {} frames after, {} rows in the page (at most {}): PSS {:.0} MiB: {}",
            started.elapsed().as_secs_f64(),
            end.users,
            server.total,
            if reached { "rendered" } else { "NOT rendered" },
            end.frames,
            end.rows,
            end.rows_max,
            memory.mib(),
            memory.by_name()
        );
        Some((memory, end, reached))
    } else {
        None
    };

    let mut search = Vec::new();
    for key in curfew::search(&session, &KEYS).await? {
        let server_ms = server_answer_ms(server.http, server.url, server.token, &key.query).await?;
        eprintln!(
            "    search {:?}: painted {:.0} ms, answer in the page {:.0} ms, the server's answer {:.1} ms",
            key.query, key.painted_ms, key.answer_ms, server_ms
        );
        search.push((key, server_ms));
    }
    session.quit().await;
    pss::wait_until_gone(app).await;
    Ok(CurfewRun {
        first_paint_ms,
        at_paint,
        at_10k,
        loaded_10k,
        at_end,
        search,
    })
}

pub async fn run(
    curfewd: &Path,
    driver: &Path,
    app: &Path,
    baseline: &Path,
    launches: usize,
    scroll: bool,
) -> anyhow::Result<Report> {
    let dir = crate::target_dir().join("bench").join("app");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let database_url = format!("sqlite://{}", dir.join("curfew.db").display());
    let seeded = Command::new(curfewd)
        .args([
            "demo-seed",
            "--database-url",
            &database_url,
            "--users",
            &USERS.to_string(),
        ])
        .args([
            "--sessions-per-user",
            "2",
            "--online-share",
            "0.1",
            "--admin-password",
            PASSWORD,
        ])
        .env("CURFEW_LOG", "warn")
        .output()?;
    anyhow::ensure!(
        seeded.status.success(),
        "demo-seed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let curfewd = crate::bench::Curfewd::start(curfewd, &database_url, &dir.join("curfewd.log"))?;
    let http = reqwest::Client::new();
    let token = crate::bench::admin_token(&http, &curfewd.url).await?;
    let (total, last_id) = last_user(&http, &curfewd.url, &token).await?;
    let server = Server {
        url: &curfewd.url,
        token: &token,
        http: &http,
        total,
        last_id: &last_id,
    };

    let (curfew_config, baseline_config) = (dir.join("config-curfew"), dir.join("config-baseline"));
    std::fs::create_dir_all(&curfew_config)?;
    std::fs::create_dir_all(&baseline_config)?;
    eprintln!("==> app bench: signing Curfew in once, with Remember me");
    let session = Session::launch(driver, app, &curfew_config).await?;
    curfew::sign_in(&session, &curfewd.url, PASSWORD).await?;
    session.quit().await;
    pss::wait_until_gone(app).await;

    let mut report = Report {
        users: total,
        baseline: Vec::new(),
        curfew: Vec::new(),
    };
    for launch in 1..=launches {
        eprintln!("==> app bench: launch {launch} of {launches}, the baseline, then Curfew");
        report
            .baseline
            .push(baseline_launch(driver, baseline, &baseline_config).await?);
        report.curfew.push(
            curfew_launch(driver, app, &curfew_config, &server, scroll && launch == 1).await?,
        );
    }
    curfewd.stop()?;
    Ok(report)
}
