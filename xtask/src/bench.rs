//! `cargo xtask bench`: logout-all against the per-user loop other systems use, and
//! session-check throughput, on SQLite at 1k, 10k and 100k live sessions; the same on
//! PostgreSQL with one and two instances ([`crate::pgbench`]); maintenance fan-out
//! ([`crate::fanout`]); the desktop app ([`crate::appbench`]); the gate behind nginx
//! ([`crate::gatebench`]); the CSV import ([`crate::importbench`]) and SCIM provisioning ([`crate::scimbench`]). Release build, loopback only, every loop bounded in count and
//! time.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hdrhistogram::Histogram;

pub const ADMIN_PASSWORD: &str = "bench-admin-password";
const CHECK_SECONDS: u64 = 5;
const CHECK_CONCURRENCY: usize = 32;
const CHECK_TOKENS: usize = 5_000;

pub struct Curfewd {
    child: Child,
    pub url: String,
}

impl Curfewd {
    pub fn start(bin: &Path, database_url: &str, log: &Path) -> anyhow::Result<Curfewd> {
        Self::start_with(
            bin,
            database_url,
            log,
            &[
                "--login-per-minute-per-address",
                "1000000",
                "--login-per-minute-per-account",
                "1000000",
            ],
        )
    }

    /// With these `serve` flags instead of the benches' unthrottled sign-ins.
    pub fn start_with(
        bin: &Path,
        database_url: &str,
        log: &Path,
        flags: &[&str],
    ) -> anyhow::Result<Curfewd> {
        let mut child = Command::new(bin)
            .args([
                "serve",
                "--database-url",
                database_url,
                "--bind",
                "127.0.0.1:0",
            ])
            .args(flags)
            .env(
                "CURFEW_LOG",
                std::env::var("CURFEW_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .context("start curfewd")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("curfewd listening on ")
            .with_context(|| format!("curfewd did not start: {line:?}; see {}", log.display()))?
            .to_owned();
        Ok(Curfewd { child, url })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.child.kill()?;
                bail!("curfewd did not stop within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Curfewd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Row {
    sessions: i64,
    users_with_sessions: usize,
    logout_all_server_ms: f64,
    logout_all_wall_ms: f64,
    loop_server_ms: f64,
    loop_wall_ms: f64,
    checks_per_second: f64,
    check_p50_us: u64,
    check_p99_us: u64,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut sizes = vec![1_000usize, 10_000, 100_000];
    let (mut server_part, mut app_part, mut fanout_part, mut postgres_part, mut attack_part) =
        (true, true, true, true, true);
    let mut gate_part = true;
    let mut import_part = true;
    let mut scim_part = true;
    let mut list_part = true;
    let mut app_launches = crate::appbench::LAUNCHES;
    let mut app_scroll = true;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match (flag.as_str(), rest.next()) {
            ("--sizes", Some(list)) => {
                sizes = list
                    .split(',')
                    .map(|s| s.parse().context("--sizes takes numbers"))
                    .collect::<anyhow::Result<_>>()?
            }
            ("--launches", Some(n)) => {
                app_launches = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .context("--launches takes a number of launches, 1 or more")?
            }
            ("--scroll", Some(yes_no)) if ["yes", "no"].contains(&yes_no.as_str()) => {
                app_scroll = yes_no == "yes"
            }
            ("--only", Some(part))
                if ["server", "app", "fanout", "postgres", "attack", "gate", "import", "scim", "list"].contains(&part.as_str()) =>
            {
                gate_part = part == "gate";
                // The import part includes SCIM provisioning; `scim` runs that alone.
                import_part = part == "import";
                scim_part = part == "import" || part == "scim";
                server_part = part == "server";
                app_part = part == "app";
                fanout_part = part == "fanout";
                postgres_part = part == "postgres";
                attack_part = part == "attack";
                list_part = part == "list";
            }
            _ => bail!(
                "usage: cargo xtask bench [--sizes 1000,10000,100000] [--only server|app|fanout|postgres|attack|gate|import|scim|list] [--launches N] [--scroll yes|no] (the app's launches, 3 unless given, and whether the first scrolls through every user)"
            ),
        }
    }
    // CURFEW_BENCH_CURFEWD: measure another curfewd build (an older one, to compare).
    let bin = match std::env::var_os("CURFEW_BENCH_CURFEWD") {
        Some(other) => PathBuf::from(other),
        None => crate::build_curfewd(true)?,
    };
    if cfg!(debug_assertions) {
        // The load generator shares the 2 cores with curfewd: unoptimised, it would be the
        // bottleneck and the figures would measure it instead of the server.
        let mut inner = crate::cargo();
        inner
            .args([
                "run",
                "--quiet",
                "--release",
                "--package",
                "xtask",
                "--",
                "bench",
            ])
            .args(args);
        if !app_part {
            return crate::run_step("run the benchmark from an optimised build", &mut inner);
        }
        crate::setup::ensure_packages()?;
        let driver = crate::setup::ensure_tauri_driver()?;
        // One invocation for both, so that the baseline links the very builds of the crates
        // Curfew links (the features of shared crates are unified per invocation).
        crate::run_step(
            "build the app and the bench's baseline app (release)",
            crate::cargo().args([
                "build",
                "--release",
                "--package",
                "curfew-app",
                "--package",
                "curfew-bench-baseline",
                "--features",
                "curfew-app/custom-protocol,curfew-bench-baseline/custom-protocol",
            ]),
        )?;
        let release = crate::target_dir().join("release");
        inner
            .env("CURFEW_APP_RELEASE", release.join("curfew-app"))
            .env("CURFEW_BASELINE_APP", release.join("curfew-bench-baseline"))
            .env("TAURI_DRIVER_BIN", driver);
        let home = crate::target_dir().join("bench-home");
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home)?;
        return crate::run_step(
            "run the benchmark from an optimised build, in a desktop session",
            &mut crate::setup::desktop_session(&home, &mut inner),
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let mut rows = Vec::new();
    let postgres = if postgres_part {
        Some(runtime.block_on(crate::pgbench::run(&bin, &sizes))?)
    } else {
        None
    };
    if server_part {
        for sessions in sizes {
            eprintln!("==> {sessions} sessions");
            rows.push(runtime.block_on(bench_size(&bin, sessions))?);
        }
    }
    let attack = if attack_part {
        eprintln!("==> curfewd under attack, beside a quiet run");
        Some(runtime.block_on(crate::attackbench::run(&bin))?)
    } else {
        None
    };
    let gate = if gate_part {
        eprintln!("==> the gate: nginx alone, nginx + the gate, the check direct (wrk)");
        Some(crate::gatebench::run(&bin)?)
    } else {
        None
    };
    let import = if import_part {
        Some(runtime.block_on(crate::importbench::run(&bin))?)
    } else {
        None
    };
    let scim = if scim_part {
        Some(runtime.block_on(crate::scimbench::run(&bin))?)
    } else {
        None
    };
    let list = if list_part {
        Some(runtime.block_on(crate::listbench::run(&bin))?)
    } else {
        None
    };
    let fanout = if fanout_part {
        eprintln!("==> maintenance fan-out to 10,000 notice streams");
        Some(runtime.block_on(crate::fanout::run(&bin))?)
    } else {
        None
    };
    if let Some(attack) = &attack {
        crate::attackbench::print(attack);
    }
    if let Some(gate) = &gate {
        crate::gatebench::print(gate);
    }
    if let Some(import) = &import {
        crate::importbench::print(import);
    }
    if let Some(scim) = &scim {
        crate::scimbench::print(scim);
    }
    if let Some(list) = &list {
        crate::listbench::print(list);
    }
    if let Some(f) = &fanout {
        println!();
        println!(
            "maintenance fan-out, {} notice streams open (ms: p50 / p99 / max)",
            f.streams
        );
        println!(
            "warning, from its scheduled moment:      {:>6.0} / {:>6.0} / {:>6.0}   ({} streams missed it)",
            f.warning_ms.0, f.warning_ms.1, f.warning_ms.2, f.missing_warning
        );
        println!(
            "session_revoked, from the start time:    {:>6.0} / {:>6.0} / {:>6.0}   ({} streams missed it)",
            f.revoked_ms.0, f.revoked_ms.1, f.revoked_ms.2, f.missing_revoked
        );
        println!(
            "session_revoked, from the logout's run:  {:>6.0} / {:>6.0} / {:>6.0}",
            f.revoked_from_run_ms.0, f.revoked_from_run_ms.1, f.revoked_from_run_ms.2
        );
        let late: Vec<String> = f
            .step_late_ms
            .iter()
            .map(|(k, ms)| format!("{k} {ms} ms"))
            .collect();
        println!("steps ran late by: {}", late.join(", "));
    }
    if app_part {
        let env = |name: &str| -> anyhow::Result<PathBuf> {
            Ok(PathBuf::from(
                std::env::var_os(name).with_context(|| format!("{name} is not set"))?,
            ))
        };
        let report = runtime.block_on(crate::appbench::run(
            &bin,
            &env("TAURI_DRIVER_BIN")?,
            &env("CURFEW_APP_RELEASE")?,
            &env("CURFEW_BASELINE_APP")?,
            app_launches,
            app_scroll,
        ))?;
        crate::appbench::print(&report);
    }
    if let Some((pg_rows, cross)) = &postgres {
        println!();
        println!("curfewd on PostgreSQL, release build, loopback; session checks as below, spread over the instances");
        println!(
            "{:>9} | {:>13} {:>11} | {:>28} | {:>28}",
            "sessions",
            "logout-all ms",
            "(wall ms)",
            "1 instance: checks/s p50/p99 µs",
            "2 instances: checks/s p50/p99 µs"
        );
        for r in pg_rows {
            println!(
                "{:>9} | {:>13.1} {:>11.1} | {:>10.0} {:>8} {:>8} | {:>10.0} {:>8} {:>8}",
                r.sessions,
                r.logout_all_server_ms,
                r.logout_all_wall_ms,
                r.one_instance.0,
                r.one_instance.1,
                r.one_instance.2,
                r.two_instances.0,
                r.two_instances.1,
                r.two_instances.2,
            );
        }
        println!();
        println!(
            "cross-instance fan-out: through instance A, to {} notice streams on instance B (ms: p50 / p99 / max)",
            cross.streams
        );
        println!(
            "maintenance_cancelled, from the DELETE sent to A: {:>6.0} / {:>6.0} / {:>6.0}   ({} streams missed it)",
            cross.cancelled_ms.0, cross.cancelled_ms.1, cross.cancelled_ms.2, cross.missing_cancelled
        );
        println!(
            "session_revoked, from the logout-all sent to A:   {:>6.0} / {:>6.0} / {:>6.0}   ({} streams missed it)",
            cross.revoked_ms.0, cross.revoked_ms.1, cross.revoked_ms.2, cross.missing_revoked
        );
    }
    if rows.is_empty() {
        return Ok(());
    }
    println!();
    println!(
        "curfewd on SQLite, release build, loopback, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "{:>9} {:>7} | {:>13} {:>11} | {:>13} {:>11} | {:>9} {:>9} | {:>10} {:>8} {:>8}",
        "sessions",
        "users",
        "logout-all ms",
        "(wall ms)",
        "per-user ms",
        "(wall ms)",
        "ratio",
        "(wall)",
        "checks/s",
        "p50 µs",
        "p99 µs"
    );
    for r in &rows {
        println!(
            "{:>9} {:>7} | {:>13.1} {:>11.1} | {:>13.1} {:>11.1} | {:>8.0}x {:>8.0}x | {:>10.0} {:>8} {:>8}",
            r.sessions,
            r.users_with_sessions,
            r.logout_all_server_ms,
            r.logout_all_wall_ms,
            r.loop_server_ms,
            r.loop_wall_ms,
            r.loop_server_ms / r.logout_all_server_ms,
            r.loop_wall_ms / r.logout_all_wall_ms,
            r.checks_per_second,
            r.check_p50_us,
            r.check_p99_us,
        );
    }
    println!(
        "logout-all: one POST /admin/logout-all, the server's own time (Server-Timing) and the client's.\n\
         per-user: one POST /admin/users/{{id}}/logout per user with sessions, sequentially, from a restored copy of the same database.\n\
         checks: GET /auth/session, {CHECK_CONCURRENCY} keep-alive connections for {CHECK_SECONDS} s over {CHECK_TOKENS} tokens."
    );
    Ok(())
}

fn server_ms(response: &reqwest::Response) -> f64 {
    response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("dur=").nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Seeds an empty database with `users` users, the share `online_share` of them with
/// `sessions_per_user` live sessions, and returns the end users' tokens (demo-seed writes
/// them to `tokens_file`, one `username client token` line each).
pub fn demo_seed(
    bin: &Path,
    database_url: &str,
    users: usize,
    sessions_per_user: usize,
    online_share: &str,
    tokens_file: &Path,
) -> anyhow::Result<Vec<String>> {
    let seeded = Command::new(bin)
        .args(["demo-seed", "--database-url", database_url])
        .args(["--users", &users.to_string()])
        .args(["--sessions-per-user", &sessions_per_user.to_string()])
        .args(["--online-share", online_share, "--deactivated-share", "0"])
        .args(["--admin-password", ADMIN_PASSWORD, "--tokens-out"])
        .arg(tokens_file)
        .env("CURFEW_LOG", "warn")
        .output()?;
    anyhow::ensure!(
        seeded.status.success(),
        "demo-seed failed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    Ok(std::fs::read_to_string(tokens_file)?
        .lines()
        .filter(|l| !l.starts_with("support "))
        .filter_map(|l| l.split(' ').nth(2).map(str::to_owned))
        .collect())
}

/// One logout-all of everyone: (sessions revoked, the server's ms, the client's ms).
pub async fn timed_logout_all(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> anyhow::Result<(i64, f64, f64)> {
    let started = Instant::now();
    let response = http
        .post(format!("{url}/api/v1/admin/logout-all"))
        .bearer_auth(token)
        .json(&serde_json::json!({"keep_admins": false}))
        .send()
        .await?
        .error_for_status()?;
    let server = server_ms(&response);
    let result: serde_json::Value = response.json().await?;
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    Ok((
        result["sessions_revoked"].as_i64().unwrap_or(-1),
        server,
        wall,
    ))
}

pub async fn admin_token(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let login: serde_json::Value = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(
            &serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD, "client": "app"}),
        )
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(login["token"].as_str().context("token")?.to_owned())
}

fn copy_database(from: &Path, to: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let source = PathBuf::from(format!("{}{suffix}", from.display()));
        let target = PathBuf::from(format!("{}{suffix}", to.display()));
        let _ = std::fs::remove_file(&target);
        if source.exists() {
            std::fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

async fn bench_size(bin: &Path, sessions: usize) -> anyhow::Result<Row> {
    let dir = crate::target_dir().join("bench").join(sessions.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("curfew.db");
    let pristine = dir.join("pristine.db");
    let database_url = format!("sqlite://{}", db.display());
    // Half the users have an app and a web session each: users = sessions.
    let mut tokens = demo_seed(
        bin,
        &database_url,
        sessions,
        2,
        "0.5",
        &dir.join("tokens.txt"),
    )?;
    tokens.truncate(CHECK_TOKENS);
    copy_database(&db, &pristine)?;

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;

    // Session checks, then logout-all, on the first copy.
    let server = Curfewd::start(bin, &database_url, &dir.join("curfewd-1.log"))?;
    let (checks_per_second, p50, p99) = session_checks(&http, &[&server.url], &tokens).await?;
    let token = admin_token(&http, &server.url).await?;
    let (revoked, logout_all_server_ms, logout_all_wall_ms) =
        timed_logout_all(&http, &server.url, &token).await?;
    server.stop()?;

    // The same work the slow way, from the same starting point.
    copy_database(&pristine, &db)?;
    let server = Curfewd::start(bin, &database_url, &dir.join("curfewd-2.log"))?;
    let token = admin_token(&http, &server.url).await?;
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{}/api/v1/admin/users", server.url))
            .bearer_auth(&token)
            .query(&[("status", "online"), ("limit", "500")]);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        let page: serde_json::Value = request.send().await?.error_for_status()?.json().await?;
        for user in page["users"].as_array().context("users")? {
            if user["username"] != "admin" {
                ids.push(user["id"].as_str().context("id")?.to_owned());
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let started = Instant::now();
    let mut loop_server_ms = 0.0;
    let mut loop_revoked = 0;
    for id in &ids {
        let response = http
            .post(format!("{}/api/v1/admin/users/{id}/logout", server.url))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
        loop_server_ms += server_ms(&response);
        let result: serde_json::Value = response.json().await?;
        loop_revoked += result["sessions_revoked"].as_i64().unwrap_or(0);
    }
    let loop_wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    server.stop()?;
    anyhow::ensure!(
        loop_revoked == revoked,
        "the per-user loop revoked {loop_revoked} sessions, logout-all {revoked}"
    );
    Ok(Row {
        sessions: revoked,
        users_with_sessions: ids.len(),
        logout_all_server_ms,
        logout_all_wall_ms,
        loop_server_ms,
        loop_wall_ms,
        checks_per_second,
        check_p50_us: p50,
        check_p99_us: p99,
    })
}

/// GET /auth/session over keep-alive connections; returns (per second, p50 µs, p99 µs).
/// With several servers, the connections are spread over them evenly.
pub async fn session_checks(
    http: &reqwest::Client,
    urls: &[&str],
    tokens: &[String],
) -> anyhow::Result<(f64, u64, u64)> {
    let endpoints: Vec<String> = urls
        .iter()
        .map(|url| format!("{url}/api/v1/auth/session"))
        .collect();
    // One pass first: a token's first check records its activity (a write); the measured
    // run is the steady state of repeated checks.
    for token in tokens {
        http.get(&endpoints[0])
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let tokens = Arc::new(tokens.to_vec());
    let mut workers = Vec::new();
    for worker in 0..CHECK_CONCURRENCY {
        let endpoint = endpoints[worker % endpoints.len()].clone();
        let (http, stop, tokens) = (http.clone(), stop.clone(), tokens.clone());
        workers.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new(3).expect("histogram");
            let mut i = worker;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let response = http
                    .get(&endpoint)
                    .bearer_auth(&tokens[i % tokens.len()])
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "session check failed: {}",
                    response.status()
                );
                response.bytes().await?;
                histogram.record(started.elapsed().as_micros() as u64)?;
                i += CHECK_CONCURRENCY;
            }
            Ok(histogram)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(CHECK_SECONDS)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = Histogram::<u64>::new(3)?;
    for worker in workers {
        total.add(worker.await??)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok((
        total.len() as f64 / elapsed,
        total.value_at_quantile(0.5),
        total.value_at_quantile(0.99),
    ))
}
