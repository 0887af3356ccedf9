//! `cargo xtask bench --only attack`: curfewd under the attacks the hardening issue names,
//! side by side with a quiet run of the same server: session-check throughput and
//! p50/p99, curfewd's peak RSS, and whether `/healthz` and an administrator's call kept
//! answering. At once: 400 wrong-password sign-ins from 250 loopback addresses, 2,000
//! notice streams on one token, 500 sockets sending their headers slowly.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::AsyncWriteExt;

use crate::bench::{admin_token, demo_seed, session_checks, Curfewd};

const WRONG_LOGINS: usize = 400;
const ADDRESSES: usize = 250;
const STREAMS_ON_ONE_TOKEN: usize = 2_000;
const SLOW_SOCKETS: usize = 500;

pub struct AttackRow {
    pub label: &'static str,
    pub checks_per_second: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub peak_rss_mib: f64,
    pub health: Probe,
    pub admin: Probe,
}

/// The slowest answer and the failures of a probe polled through a run.
#[derive(Default, Clone, Copy)]
pub struct Probe {
    pub max_ms: f64,
    pub failures: u64,
    pub calls: u64,
}

pub struct Attack {
    pub login_replies: Vec<(u16, usize)>,
    pub streams_opened: usize,
    pub streams_refused: usize,
    pub slow_closed: usize,
}

pub struct AttackBench {
    pub rows: Vec<AttackRow>,
    pub attack: Attack,
}

/// curfewd's resident-set high-water mark, from `/proc` (MiB).
fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Polls `url` (with `token`) every 100 ms until `stop`, recording the slowest answer.
fn probe(
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Probe> {
    tokio::spawn(async move {
        let mut probe = Probe::default();
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let mut request = http.get(&url).timeout(Duration::from_secs(10));
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            let ok = request.send().await.is_ok_and(|r| r.status().is_success());
            probe.calls += 1;
            probe.failures += u64::from(!ok);
            probe.max_ms = probe.max_ms.max(started.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        probe
    })
}

/// One measured run: session checks for the benches' usual five seconds, with the probes
/// polling beside them.
async fn measured(
    label: &'static str,
    server: &Curfewd,
    http: &reqwest::Client,
    tokens: &[String],
    admin: &str,
) -> anyhow::Result<AttackRow> {
    let stop = Arc::new(AtomicBool::new(false));
    let probe_client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let health = probe(
        probe_client.clone(),
        format!("{}/healthz", server.url),
        None,
        stop.clone(),
    );
    let admin_probe = probe(
        probe_client,
        format!("{}/api/v1/admin/me", server.url),
        Some(admin.to_owned()),
        stop.clone(),
    );
    let (checks_per_second, p50_us, p99_us) = session_checks(http, &[&server.url], tokens).await?;
    stop.store(true, Ordering::Relaxed);
    Ok(AttackRow {
        label,
        checks_per_second,
        p50_us,
        p99_us,
        peak_rss_mib: peak_rss_mib(server.pid()),
        health: health.await?,
        admin: admin_probe.await?,
    })
}

/// The attacks, started together; they run while the attack row is measured.
struct Attackers {
    logins: tokio::task::JoinHandle<Vec<u16>>,
    streams: tokio::task::JoinHandle<(usize, usize, Vec<reqwest::Response>)>,
    slow: tokio::task::JoinHandle<usize>,
}

fn start_attacks(
    url: &str,
    usernames: Vec<String>,
    stream_token: String,
) -> anyhow::Result<Attackers> {
    // One client per loopback source address: the per-address limit sees 250 addresses.
    let clients: Vec<reqwest::Client> = (0..ADDRESSES)
        .map(|i| {
            let address = Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
            reqwest::Client::builder()
                .local_address(IpAddr::V4(address))
                .build()
        })
        .collect::<Result<_, _>>()?;
    let login_url = format!("{url}/api/v1/auth/login");
    let logins = tokio::spawn(async move {
        let attempts = usernames.into_iter().enumerate().map(|(i, username)| {
            let client = clients[i % clients.len()].clone();
            let url = login_url.clone();
            async move {
                client
                    .post(url)
                    .json(&serde_json::json!({"username": username, "password": "a wrong guess", "client": "web"}))
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16())
            }
        });
        futures_util::future::join_all(attempts).await
    });
    let streams_url = format!("{url}/api/v1/notices/stream");
    let streams = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let opened = (0..STREAMS_ON_ONE_TOKEN).map(|_| {
            client
                .get(&streams_url)
                .bearer_auth(&stream_token)
                .header("accept", "text/event-stream")
                .send()
        });
        let mut held = Vec::new();
        let (mut ok, mut refused) = (0, 0);
        for response in futures_util::future::join_all(opened)
            .await
            .into_iter()
            .flatten()
        {
            if response.status().is_success() {
                ok += 1;
                held.push(response);
            } else {
                refused += 1;
            }
        }
        (ok, refused, held)
    });
    let address = url.trim_start_matches("http://").to_owned();
    let closed = Arc::new(AtomicU64::new(0));
    let slow = tokio::spawn(async move {
        let mut sockets = Vec::new();
        for _ in 0..SLOW_SOCKETS {
            if let Ok(mut socket) = tokio::net::TcpStream::connect(&address).await {
                let _ = socket.write_all(b"GET /healthz HTTP/1.1\r\n").await;
                sockets.push(socket);
            }
        }
        // One header line every 5 s, as the attack that was never cut off.
        let mut tasks = Vec::new();
        for mut socket in sockets {
            let closed = closed.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..12 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    if socket
                        .write_all(format!("X-Slow-{n}: 1\r\n").as_bytes())
                        .await
                        .is_err()
                    {
                        closed.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        closed.load(Ordering::Relaxed) as usize
    });
    Ok(Attackers {
        logins,
        streams,
        slow,
    })
}

pub async fn run(bin: &Path) -> anyhow::Result<AttackBench> {
    let dir = crate::target_dir().join("bench").join("attack");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let database_url = format!("sqlite://{}", dir.join("curfew.db").display());
    let tokens = demo_seed(bin, &database_url, 2_000, 1, "0.5", &dir.join("tokens.txt"))?;
    let usernames: Vec<String> = std::fs::read_to_string(dir.join("tokens.txt"))?
        .lines()
        .filter_map(|l| l.split(' ').next().map(str::to_owned))
        .filter(|u| u != "support" && u != "admin")
        .take(WRONG_LOGINS)
        .collect();
    anyhow::ensure!(usernames.len() == WRONG_LOGINS, "too few demo users");
    // The server's own defaults: sign-in limits, password checks, streams, timeouts.
    let server = Curfewd::start_with(bin, &database_url, &dir.join("curfewd.log"), &[])?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let admin = admin_token(&http, &server.url).await?;
    let checked: Vec<String> = tokens.iter().skip(1).take(1_000).cloned().collect();
    let quiet = measured("quiet", &server, &http, &checked, &admin).await?;
    let attackers = start_attacks(&server.url, usernames, tokens[0].clone())?;
    let under_attack = measured("under attack", &server, &http, &checked, &admin).await?;
    let logins = attackers.logins.await?;
    let (streams_opened, streams_refused, held) = attackers.streams.await?;
    drop(held);
    let slow_closed = tokio::time::timeout(Duration::from_secs(70), attackers.slow)
        .await
        .context("slow sockets still running after 70 s")??;
    let mut counts = std::collections::BTreeMap::new();
    for status in logins {
        *counts.entry(status).or_insert(0usize) += 1;
    }
    server.stop()?;
    Ok(AttackBench {
        rows: vec![quiet, under_attack],
        attack: Attack {
            login_replies: counts.into_iter().collect(),
            streams_opened,
            streams_refused,
            slow_closed,
        },
    })
}

pub fn print(bench: &AttackBench) {
    println!();
    println!("curfewd under attack, release build, SQLite, loopback (load generator on the same 2 cores)");
    println!(
        "{:>13} | {:>9} {:>8} {:>8} | {:>12} | {:>22} | {:>22}",
        "",
        "checks/s",
        "p50 µs",
        "p99 µs",
        "peak RSS MiB",
        "/healthz max ms (fail)",
        "admin call max ms (fail)"
    );
    for r in &bench.rows {
        println!(
            "{:>13} | {:>9.0} {:>8} {:>8} | {:>12.1} | {:>14.1} ({:>2}/{:>3}) | {:>14.1} ({:>2}/{:>3})",
            r.label,
            r.checks_per_second,
            r.p50_us,
            r.p99_us,
            r.peak_rss_mib,
            r.health.max_ms,
            r.health.failures,
            r.health.calls,
            r.admin.max_ms,
            r.admin.failures,
            r.admin.calls
        );
    }
    let a = &bench.attack;
    let replies: Vec<String> = a
        .login_replies
        .iter()
        .map(|(status, n)| format!("{n}× {status}"))
        .collect();
    println!(
        "attack: {WRONG_LOGINS} wrong-password sign-ins from {ADDRESSES} addresses answered {}; \
         {STREAMS_ON_ONE_TOKEN} streams on one token: {} opened, {} refused; \
         {SLOW_SOCKETS} slow-header sockets: {} closed by curfewd",
        replies.join(", "),
        a.streams_opened,
        a.streams_refused,
        a.slow_closed
    );
    if let [quiet, attack] = &bench.rows[..] {
        let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
        let answered = attack.health.failures == 0 && attack.admin.failures == 0;
        println!(
            "targets: peak RSS under 300 MiB: {} ({:.1}); p99 under 3× quiet: {} ({:.1}×); /healthz and an admin call answered throughout: {}",
            verdict(attack.peak_rss_mib < 300.0),
            attack.peak_rss_mib,
            verdict((attack.p99_us as f64) < 3.0 * quiet.p99_us as f64),
            attack.p99_us as f64 / quiet.p99_us.max(1) as f64,
            verdict(answered)
        );
    }
}
