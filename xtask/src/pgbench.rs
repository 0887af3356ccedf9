//! curfewd on PostgreSQL: logout-all at 1k, 10k and 100k live sessions, session checks
//! against one instance and spread over two, and the cross-instance fan-out (an action
//! through instance A reaching notice streams connected to instance B).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::bench::{admin_token, demo_seed, session_checks, timed_logout_all, Curfewd};
use crate::fanout::{delays, now_ms, summary, to_rfc3339, Streams};
use crate::setup::psql;

/// Streams connected to instance B for the cross-instance fan-out.
const CROSS_STREAMS: usize = 2_000;
const CHECK_TOKENS: usize = 5_000;

pub struct PgRow {
    pub sessions: i64,
    pub logout_all_server_ms: f64,
    pub logout_all_wall_ms: f64,
    pub one_instance: (f64, u64, u64),
    pub two_instances: (f64, u64, u64),
}

pub struct CrossRow {
    pub streams: usize,
    pub cancelled_ms: (f64, f64, f64),
    pub revoked_ms: (f64, f64, f64),
    pub missing_cancelled: usize,
    pub missing_revoked: usize,
}

/// A fresh database seeded with `users` users, one in `1 / online_share` online with
/// `sessions_per_user` sessions; returns its URL and the tokens demo-seed wrote.
fn seeded_database(
    bin: &Path,
    admin: &str,
    name: &str,
    users: usize,
    sessions_per_user: usize,
    online_share: &str,
    dir: &Path,
) -> anyhow::Result<(String, Vec<String>)> {
    psql(
        admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )?;
    psql(admin, &format!("CREATE DATABASE {name}"))?;
    let (base, _) = admin
        .rsplit_once('/')
        .context("admin URL names a database")?;
    let url = format!("{base}/{name}");
    let tokens = demo_seed(
        bin,
        &url,
        users,
        sessions_per_user,
        online_share,
        &dir.join(format!("{name}.tokens")),
    )?;
    Ok((url, tokens))
}

pub async fn run(bin: &Path, sizes: &[usize]) -> anyhow::Result<(Vec<PgRow>, CrossRow)> {
    let admin = crate::setup::ensure_postgres()?;
    let dir = crate::target_dir().join("bench").join("postgres");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let mut rows = Vec::new();
    for &sessions in sizes {
        eprintln!("==> PostgreSQL, {sessions} sessions");
        let name = format!("curfew_bench_{sessions}");
        let (url, mut tokens) = seeded_database(bin, &admin, &name, sessions, 2, "0.5", &dir)?;
        tokens.truncate(CHECK_TOKENS);
        let a = Curfewd::start(bin, &url, &dir.join(format!("{name}-a.log")))?;
        let one_instance = session_checks(&http, &[&a.url], &tokens).await?;
        let b = Curfewd::start(bin, &url, &dir.join(format!("{name}-b.log")))?;
        let two_instances = session_checks(&http, &[&a.url, &b.url], &tokens).await?;
        let token = admin_token(&http, &a.url).await?;
        let (sessions, logout_all_server_ms, logout_all_wall_ms) =
            timed_logout_all(&http, &a.url, &token).await?;
        a.stop()?;
        b.stop()?;
        psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )?;
        rows.push(PgRow {
            sessions,
            logout_all_server_ms,
            logout_all_wall_ms,
            one_instance,
            two_instances,
        });
    }
    eprintln!("==> PostgreSQL, fan-out from instance A to {CROSS_STREAMS} streams on instance B");
    let cross = cross_instance(bin, &admin, &dir, &http).await?;
    Ok((rows, cross))
}

async fn cross_instance(
    bin: &Path,
    admin: &str,
    dir: &Path,
    http: &reqwest::Client,
) -> anyhow::Result<CrossRow> {
    let name = "curfew_bench_fanout";
    let (url, tokens) = seeded_database(bin, admin, name, CROSS_STREAMS + 2, 1, "1", dir)?;
    let tokens: Vec<String> = tokens.into_iter().take(CROSS_STREAMS).collect();
    let a = Curfewd::start(bin, &url, &dir.join("fanout-a.log"))?;
    let b = Curfewd::start(bin, &url, &dir.join("fanout-b.log"))?;
    let mut streams = Streams::open(&b.url, &tokens).await;
    let token = admin_token(http, &a.url).await?;
    streams.wait_open(Duration::from_secs(60)).await?;
    // A window far enough away that no step runs; cancelling it through A is what B's
    // streams must hear.
    let starts_at = now_ms() + 600_000;
    let window: serde_json::Value = http
        .post(format!("{}/api/v1/admin/maintenance", a.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "starts_at": to_rfc3339(starts_at)?,
            "message": "Benchmark maintenance",
            "warn_before": [60], "freeze_before": 60, "keep_admins": false
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = window["id"].as_str().context("window id")?;
    let cancelled_at = now_ms();
    http.delete(format!("{}/api/v1/admin/maintenance/{id}", a.url))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while streams
        .seen
        .lock()
        .await
        .iter()
        .any(|s| s.cancelled.is_none())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let revoked_at = now_ms();
    http.post(format!("{}/api/v1/admin/logout-all", a.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"keep_admins": false}))
        .send()
        .await?
        .error_for_status()?;
    streams.finish(Duration::from_secs(30)).await;
    a.stop()?;
    b.stop()?;
    psql(
        admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )?;
    let seen = streams.seen.lock().await;
    let cancelled = delays(&seen, |s| s.cancelled, cancelled_at);
    let revoked = delays(&seen, |s| s.revoked, revoked_at);
    Ok(CrossRow {
        streams: seen.len(),
        cancelled_ms: summary(&cancelled),
        revoked_ms: summary(&revoked),
        missing_cancelled: seen.len() - cancelled.len(),
        missing_revoked: seen.len() - revoked.len(),
    })
}
