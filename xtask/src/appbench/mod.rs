//! The desktop app's figures, for a debug and a release build under Xvfb, against curfewd
//! with 100,000 users: start to users list painted, resident memory after loading 10,000
//! users, and keystroke to filtered list painted.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::{Client, ClientBuilder, Locator};

const USERS: usize = 100_000;
const PASSWORD: &str = "bench-admin-password";

pub struct AppRow {
    pub build: String,
    pub first_paint_ms: f64,
    pub rss_mb_10k: f64,
    pub rows_loaded: usize,
    pub search_ms: Vec<f64>,
}

struct Session {
    client: Client,
    driver: Child,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(curfew_testkit::free_port())
}

impl Session {
    async fn launch(driver_bin: &Path, app: &Path, config_home: &Path) -> anyhow::Result<Session> {
        let (port, native) = (free_port()?, free_port()?);
        let driver = Command::new(driver_bin)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("XDG_CONFIG_HOME", config_home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start tauri-driver")?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let attempt = tokio::time::timeout(
                Duration::from_secs(30),
                ClientBuilder::rustls()?
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .await;
            match attempt {
                Ok(Ok(client)) => return Ok(Session { client, driver }),
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                other => bail!("no WebDriver session with the app: {other:?}"),
            }
        }
    }

    async fn wait_for(
        &self,
        css: &str,
        within: Duration,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        Ok(self
            .client
            .wait()
            .at_most(within)
            .every(Duration::from_millis(5))
            .for_element(Locator::Css(css))
            .await?)
    }

    async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = Command::new("kill")
            .args(["-TERM", &self.driver.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.driver.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.driver.kill();
    }
}

/// Processes running the executable `app`.
fn app_pids(app: &Path) -> Vec<u32> {
    let app = std::fs::canonicalize(app).unwrap_or_else(|_| app.to_owned());
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .ok()
                .as_deref()
                == Some(&app)
        })
        .collect()
}

async fn wait_until_gone(app: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !app_pids(app).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Resident memory of every process of `app` (the app and its WebKit helpers), in MiB.
fn app_rss_mb(app: &Path) -> anyhow::Result<f64> {
    let app = std::fs::canonicalize(app)?;
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0);
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        parents.push((pid, ppid, exe));
    }
    let mut tree: Vec<u32> = parents
        .iter()
        .filter(|(_, _, exe)| exe.as_deref() == Some(app.as_path()))
        .map(|(pid, _, _)| *pid)
        .collect();
    anyhow::ensure!(!tree.is_empty(), "the app process is not running");
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, ppid, _)| *ppid == parent)
                .map(|(pid, _, _)| *pid),
        );
        i += 1;
    }
    let mut kib = 0u64;
    let mut parts = Vec::new();
    for pid in tree {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        let name = status
            .lines()
            .find_map(|l| l.strip_prefix("Name:"))
            .unwrap_or("?")
            .trim()
            .to_owned();
        kib += field("VmRSS:");
        parts.push(format!(
            "{name} {} MiB (anon {}, file {})",
            field("VmRSS:") / 1024,
            field("RssAnon:") / 1024,
            field("RssFile:") / 1024
        ));
    }
    // Which process holds the memory, to know where to look when it grows.
    eprintln!("    resident: {}", parts.join(", "));
    Ok(kib as f64 / 1024.0)
}

pub async fn run(
    curfewd: &Path,
    driver: &Path,
    apps: &[(String, PathBuf)],
) -> anyhow::Result<Vec<AppRow>> {
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
    let server = crate::bench::Curfewd::start(curfewd, &database_url, &dir.join("curfewd.log"))?;
    let mut rows = Vec::new();
    for (build, app) in apps {
        eprintln!("==> app bench: {build} build");
        let config = dir.join(format!("config-{build}"));
        std::fs::create_dir_all(&config)?;
        // Sign in once with "Remember me", as an admin does the first time.
        let session = Session::launch(driver, app, &config).await?;
        session
            .wait_for("#server", Duration::from_secs(30))
            .await?
            .send_keys(&server.url)
            .await?;
        session
            .wait_for("#username", Duration::from_secs(5))
            .await?
            .send_keys("admin")
            .await?;
        session
            .wait_for("#password", Duration::from_secs(5))
            .await?
            .send_keys(PASSWORD)
            .await?;
        session
            .wait_for("#remember", Duration::from_secs(5))
            .await?
            .click()
            .await?;
        session
            .wait_for("#signin-submit", Duration::from_secs(5))
            .await?
            .click()
            .await?;
        session
            .wait_for("#users-body tr", Duration::from_secs(30))
            .await?;
        session.quit().await;
        // Else its processes would count in the next session's memory.
        wait_until_gone(app).await;

        // Start to the users list painted, signed in from the keychain.
        let started = Instant::now();
        let session = Session::launch(driver, app, &config).await?;
        session
            .wait_for("#users-body tr", Duration::from_secs(60))
            .await?;
        let first_paint_ms = started.elapsed().as_secs_f64() * 1000.0;
        tokio::time::sleep(Duration::from_secs(1)).await;
        eprintln!("    {:.0} MiB at first paint", app_rss_mb(app)?);

        // Resident memory with 10,000 users loaded by scrolling.
        session
            .client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(Duration::from_secs(200)),
                None,
                None,
            ))
            .await?;
        let loaded = session
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const scroller = document.getElementById('users-scroll');
                 const view = document.getElementById('users-view');
                 const loaded = () => Number(view.dataset.loadedCount ?? 0);
                 const until = performance.now() + 180000;
                 (async () => {
                   while (loaded() < 10000 && performance.now() < until) {
                     scroller.scrollTop = scroller.scrollHeight;
                     await new Promise((r) => setTimeout(r, 20));
                   }
                   done(loaded());
                 })();",
                vec![],
            )
            .await?
            .as_u64()
            .unwrap_or(0) as usize;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss_mb_10k = app_rss_mb(app)?;
        let rendered = session
            .client
            .execute(
                "return document.getElementById('users-body').rows.length",
                vec![],
            )
            .await?;
        eprintln!("    {loaded} users loaded, {rendered} rows in the page, {rss_mb_10k:.0} MiB");

        // Keystroke to filtered list painted, one key after a pause each time.
        let search = session.wait_for("#search", Duration::from_secs(5)).await?;
        let mut search_ms = Vec::new();
        for key in ["m", "a", "r", "t", "\u{E003}", "\u{E003}", "i", "a"] {
            let count = |s: &Session| {
                let client = s.client.clone();
                async move {
                    client
                        .execute("return Number(document.getElementById('users-view').dataset.searchCount ?? 0)", vec![])
                        .await
                        .ok()
                        .and_then(|v| v.as_u64())
                        .unwrap_or(0)
                }
            };
            let before = count(&session).await;
            search.send_keys(key).await?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while count(&session).await == before {
                anyhow::ensure!(Instant::now() < deadline, "search did not finish in 10 s");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let times = session
                .client
                .execute(
                    "const d = document.getElementById('users-view').dataset; \
                     return [Number(d.searchMs), Number(d.searchFetchMs)];",
                    vec![],
                )
                .await?;
            let ms = times[0].as_f64().unwrap_or(f64::NAN);
            let fetch_ms = times[1].as_f64().unwrap_or(f64::NAN);
            eprintln!("    search {key:?}: {ms:.0} ms, of which {fetch_ms:.0} ms to the answer");
            search_ms.push(ms);
            // A pause between keys, as when a person reads the list.
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        session.quit().await;
        rows.push(AppRow {
            build: build.clone(),
            first_paint_ms,
            rss_mb_10k,
            rows_loaded: loaded,
            search_ms,
        });
    }
    server.stop()?;
    Ok(rows)
}
