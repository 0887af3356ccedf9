//! Maintenance fan-out with 10,000 end-user notice streams open: from a warning's scheduled
//! moment, and from the mass logout, to each stream receiving its event; and how late each
//! step ran against its scheduled time.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

const STREAMS: usize = 10_000;
/// How long a stream stays connected after `session_revoked` (see [`follow`]).
const HOLD_AFTER_REVOKED: Duration = Duration::from_secs(3);

pub struct FanoutRow {
    pub streams: usize,
    pub warning_ms: (f64, f64, f64),
    pub revoked_ms: (f64, f64, f64),
    pub revoked_from_run_ms: (f64, f64, f64),
    pub missing_warning: usize,
    pub missing_revoked: usize,
    pub step_late_ms: Vec<(String, i64)>,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Receive times (Unix ms) of the warning and the revocation on one stream.
#[derive(Default, Clone, Copy)]
pub struct Seen {
    pub warning: Option<i64>,
    pub cancelled: Option<i64>,
    pub revoked: Option<i64>,
}

/// Opens one notice stream and records when its events arrive, until `session_revoked`.
pub async fn follow(
    address: String,
    token: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    connected: Arc<AtomicUsize>,
    index: usize,
) -> anyhow::Result<()> {
    let request = format!(
        "GET /api/v1/notices/stream HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Accept: text/event-stream\r\n\r\n"
    );
    // Ten thousand connections at once can overflow the listen backlog: try again.
    let mut attempts = 0;
    let mut stream = loop {
        attempts += 1;
        let error = match tokio::net::TcpStream::connect(&address).await {
            Ok(mut stream) => match stream.write_all(request.as_bytes()).await {
                Ok(()) => break stream,
                Err(e) => e,
            },
            Err(e) => e,
        };
        anyhow::ensure!(attempts < 10, "could not open a stream: {error}");
        tokio::time::sleep(Duration::from_millis(100 * attempts)).await;
    };
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let mut warned = false;
    let mut open = false;
    loop {
        let n = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut chunk)).await??;
        if n == 0 {
            break;
        }
        let at = now_ms();
        if !open {
            open = true;
            connected.fetch_add(1, Ordering::Relaxed);
        }
        buffer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buffer);
        if !warned && text.contains("event: maintenance_warning") {
            warned = true;
            seen.lock().await[index].warning = Some(at);
        }
        if seen.lock().await[index].cancelled.is_none()
            && text.contains("event: maintenance_cancelled")
        {
            seen.lock().await[index].cancelled = Some(at);
        }
        if text.contains("event: session_revoked") {
            seen.lock().await[index].revoked = Some(at);
            // Real clients are on other machines: closing ten thousand sockets here, at
            // once, would take the cores curfewd is being measured on.
            tokio::time::sleep(HOLD_AFTER_REVOKED).await;
            break;
        }
        if buffer.len() > 64 * 1024 {
            buffer.drain(..buffer.len() - 1024);
        }
    }
    Ok(())
}

/// Notice streams opened by the load generator, each recording when its events arrive.
pub struct Streams {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    connected: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Streams {
    pub async fn open(server_url: &str, tokens: &[String]) -> Streams {
        let address = server_url.trim_start_matches("http://").to_owned();
        let seen = Arc::new(Mutex::new(vec![Seen::default(); tokens.len()]));
        let connected = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            tasks.push(tokio::spawn(follow(
                address.clone(),
                token.clone(),
                seen.clone(),
                connected.clone(),
                i,
            )));
            // In steps, so that the listen backlog keeps up.
            if i % 500 == 499 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Streams {
            seen,
            connected,
            tasks,
        }
    }

    /// Waits until every stream's first bytes arrived.
    pub async fn wait_open(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + within;
        while self.connected.load(Ordering::Relaxed) < self.tasks.len() {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "only {} of {} streams opened in {within:?}",
                self.connected.load(Ordering::Relaxed),
                self.tasks.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Waits for every stream to end; returns how many failed or did not end in time.
    pub async fn finish(&mut self, within: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        let mut failed = 0;
        for task in self.tasks.drain(..) {
            if !matches!(
                tokio::time::timeout_at(deadline, task).await,
                Ok(Ok(Ok(())))
            ) {
                failed += 1;
            }
        }
        failed
    }
}

/// For each stream that saw the event `pick` reads, its delay after `from` (Unix ms).
pub fn delays(seen: &[Seen], pick: fn(&Seen) -> Option<i64>, from: i64) -> Vec<i64> {
    seen.iter().filter_map(pick).map(|t| t - from).collect()
}

pub fn summary(values: &[i64]) -> (f64, f64, f64) {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for v in values {
        let _ = h.record((*v).max(0) as u64);
    }
    (
        h.value_at_quantile(0.5) as f64,
        h.value_at_quantile(0.99) as f64,
        h.max() as f64,
    )
}

pub async fn run(curfewd: &Path) -> anyhow::Result<FanoutRow> {
    let dir = crate::target_dir().join("bench").join("fanout");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let database_url = format!("sqlite://{}", dir.join("curfew.db").display());
    let mut tokens = crate::bench::demo_seed(
        curfewd,
        &database_url,
        STREAMS + 1,
        1,
        "1",
        &dir.join("tokens.txt"),
    )?;
    tokens.truncate(STREAMS);
    let server = crate::bench::Curfewd::start(curfewd, &database_url, &dir.join("curfewd.log"))?;
    let mut streams = Streams::open(&server.url, &tokens).await;
    let http = reqwest::Client::new();
    let token = crate::bench::admin_token(&http, &server.url).await?;
    // Every stream must be open (its first bytes arrived) before the window is scheduled.
    streams.wait_open(Duration::from_secs(120)).await?;

    let starts_at = now_ms() + 8_000;
    let window: serde_json::Value = http
        .post(format!("{}/api/v1/admin/maintenance", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "starts_at": to_rfc3339(starts_at)?,
            "ends_at": to_rfc3339(starts_at + 2_000)?,
            "message": "Benchmark maintenance",
            "warn_before": [4], "freeze_before": 1, "keep_admins": false
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = window["id"].as_str().context("id")?.to_owned();
    // Every stream ends with session_revoked at the start.
    let failed = streams.finish(Duration::from_secs(60)).await;
    if failed > 0 {
        eprintln!("{failed} streams failed or timed out");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let list: serde_json::Value = http
        .get(format!("{}/api/v1/admin/maintenance", server.url))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    server.stop()?;
    let window = list["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["id"] == id.as_str()))
        .context("window")?;
    let parse = |v: &serde_json::Value| -> Option<i64> { parse_rfc3339_ms(v.as_str()?) };
    let mut step_late_ms = Vec::new();
    let (mut warning_due, mut logout_due, mut logout_ran) = (0, 0, 0);
    for step in window["steps"].as_array().context("steps")? {
        let kind = step["kind"].as_str().unwrap_or("?").to_owned();
        let due = parse(&step["due_at"]).unwrap_or(0);
        let ran = parse(&step["ran_at"]).unwrap_or(0);
        match kind.as_str() {
            "warning" => warning_due = due,
            "logout" => (logout_due, logout_ran) = (due, ran),
            _ => {}
        }
        step_late_ms.push((kind, ran - due));
    }
    let seen = streams.seen.lock().await;
    let warnings = delays(&seen, |s| s.warning, warning_due);
    let revoked = delays(&seen, |s| s.revoked, logout_due);
    let revoked_from_run = delays(&seen, |s| s.revoked, logout_ran);
    Ok(FanoutRow {
        streams: seen.len(),
        warning_ms: summary(&warnings),
        revoked_ms: summary(&revoked),
        revoked_from_run_ms: summary(&revoked_from_run),
        missing_warning: seen.len() - warnings.len(),
        missing_revoked: seen.len() - revoked.len(),
        step_late_ms,
    })
}

pub fn to_rfc3339(ms: i64) -> anyhow::Result<String> {
    Ok(chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .context("time out of range")?
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    Some(
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()?
            .timestamp_millis(),
    )
}
