//! `cargo xtask bench --only gate`: what the gate costs, in one run with wrk (32
//! connections, loopback, the load generator on the same cores): nginx serving a small
//! static page alone; the same page through nginx's proxy hop without the gate; through
//! `deploy/nginx/curfew-gate.conf` (auth_request to curfewd, the banner injected); and
//! curfewd's check `/.curfew/auth` called directly with a session cookie. Beside the
//! figures: the baseline, the targets, curfewd's sockets left in TIME-WAIT
//! (connections that were not reused) and the CPU each process spent per request, which
//! says where the time goes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use curfew_testkit::gate::{self, NginxSetup};

const CONNECTIONS: &str = "32";
const SECONDS: u64 = 8;
const PASSWORD: &str = "gate-bench-password";

/// A small page with a `</head>` for the banner to go before.
const PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Office</title></head>\n<body><h1>Office</h1><p>A small page the gate benchmark serves \
through nginx: about the size of an app's lightest answer.</p></body></html>\n";

pub struct Run {
    pub what: &'static str,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// CPU µs per request: nginx (master and workers), curfewd, wrk, everything else on
    /// the machine (other work skews the figures).
    pub cpu_us: (f64, f64, f64, f64),
    /// Sockets to or from curfewd's port in TIME-WAIT after the run: connections not reused.
    pub time_wait: usize,
}

pub fn run(curfewd_bin: &Path) -> anyhow::Result<Vec<Run>> {
    let dir = crate::target_dir().join("bench").join("gate");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("static"))?;
    std::fs::write(dir.join("static/index.html"), PAGE)?;
    // As root, nginx's workers run as nobody: they must read the page.
    make_readable(&dir)?;
    let database = format!("sqlite://{}", dir.join("curfew.db").display());
    add_user(curfewd_bin, &database, "office", "member")?;

    let (gated, static_port, proxied) = (free(), free(), free());
    let host = format!("127.0.0.1:{gated}");
    let curfewd = crate::bench::Curfewd::start_with(
        curfewd_bin,
        &database,
        &dir.join("curfewd.log"),
        &["--gate-host", &host, "--trust-forwarded-for"],
    )?;
    let curfewd_address = curfewd.url.trim_start_matches("http://").to_owned();
    let app = format!("127.0.0.1:{static_port}");
    let extra = format!(
        "  server {{ listen 127.0.0.1:{static_port}; access_log off; location / {{ root {root}; }} }}\n  \
         server {{ listen 127.0.0.1:{proxied}; access_log off; location / {{ proxy_pass http://curfew_gated_app; \
         proxy_http_version 1.1; proxy_set_header Connection \"\"; }} }}",
        root = dir.join("static").display(),
    );
    let nginx_dir = dir.join("nginx");
    std::fs::create_dir_all(&nginx_dir)?;
    let nginx = gate::start_nginx(&NginxSetup {
        dir: &nginx_dir,
        port: gated,
        curfewd: &curfewd_address,
        app: &app,
        workers: "auto",
        extra_http: &extra,
        access_log: false,
    })
    .map_err(anyhow::Error::msg)?;

    let cookie = tokio::runtime::Runtime::new()?.block_on(sign_in(gated, &host))?;
    let cookie_header = format!("Cookie: {cookie}");
    let host_header = format!("Host: {host}");
    let gated_url = format!("http://{host}/");
    let check_url = format!("{}/.curfew/auth", curfewd.url);
    // Before measuring: each path answers what it should.
    expect(
        &curl(&gated_url, &[&cookie_header])?,
        "200",
        "/.curfew/banner.js",
    )?;
    expect(
        &curl(&check_url, &[&cookie_header, &host_header])?,
        "200",
        "",
    )?;
    let pids = Pids {
        nginx: nginx.pid(),
        curfewd: curfewd.pid(),
        curfewd_port: curfewd_address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .context("curfewd's port")?,
    };
    let mut runs = Vec::new();
    for (what, url, headers) in [
        (
            "nginx alone (static page)",
            format!("http://127.0.0.1:{static_port}/"),
            vec![],
        ),
        (
            "nginx proxy hop, no gate",
            format!("http://127.0.0.1:{proxied}/"),
            vec![],
        ),
        (
            "nginx + the gate (auth_request)",
            gated_url.clone(),
            vec![cookie_header.clone()],
        ),
        (
            "the check direct (/.curfew/auth)",
            check_url.clone(),
            vec![cookie_header.clone(), host_header.clone()],
        ),
    ] {
        eprintln!("==> wrk: {what}");
        wrk(&url, &headers, 1)?; // warm up: connections, caches
        std::thread::sleep(Duration::from_millis(500));
        runs.push(measure(what, &url, &headers, &pids)?);
    }
    drop(nginx);
    curfewd.stop()?;
    Ok(runs)
}

struct Pids {
    nginx: u32,
    curfewd: u32,
    curfewd_port: u16,
}

fn measure(what: &'static str, url: &str, headers: &[String], pids: &Pids) -> anyhow::Result<Run> {
    let nginx_before = cpu_ticks_tree(pids.nginx);
    let curfewd_before = cpu_ticks(pids.curfewd);
    let machine_before = machine_ticks();
    let (output, wrk_ticks) = wrk(url, headers, SECONDS)?;
    let machine = machine_ticks() - machine_before;
    let time_wait = time_wait_sockets(pids.curfewd_port);
    let nginx = cpu_ticks_tree(pids.nginx) - nginx_before;
    let curfewd = cpu_ticks(pids.curfewd) - curfewd_before;
    let others = machine.saturating_sub(nginx + curfewd + wrk_ticks);
    let per_second = field(&output, "Requests/sec:")
        .and_then(|v| v.parse::<f64>().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{output}"))?;
    if let Some(line) = output.lines().find(|l| l.contains("Non-2xx")) {
        bail!("{what}: wrk saw errors ({}):\n{output}", line.trim());
    }
    let requests = per_second * SECONDS as f64;
    // One clock tick is 10 ms (USER_HZ 100).
    let per_request = |ticks: u64| ticks as f64 * 10_000.0 / requests;
    Ok(Run {
        what,
        per_second,
        p50_ms: percentile(&output, "50%")?,
        p99_ms: percentile(&output, "99%")?,
        cpu_us: (
            per_request(nginx),
            per_request(curfewd),
            per_request(wrk_ticks),
            per_request(others),
        ),
        time_wait,
    })
}

/// Runs wrk; returns its output and the CPU ticks it used.
fn wrk(url: &str, headers: &[String], seconds: u64) -> anyhow::Result<(String, u64)> {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c", CONNECTIONS, "--latency"]);
    command.arg(format!("-d{seconds}s"));
    for header in headers {
        command.arg("-H").arg(header);
    }
    let child = command
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("wrk (Debian package wrk)")?;
    let pid = child.id();
    // The ticks of a child that has exited but not been waited for are still in /proc.
    let mut ticks = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds + 30);
    while std::time::Instant::now() < deadline {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.contains(") Z ") {
            break;
        }
        ticks = cpu_ticks(pid);
        std::thread::sleep(Duration::from_millis(100));
    }
    ticks = ticks.max(cpu_ticks(pid));
    let output = child.wait_with_output()?;
    anyhow::ensure!(output.status.success(), "wrk failed ({})", output.status);
    Ok((String::from_utf8_lossy(&output.stdout).into_owned(), ticks))
}

fn field<'a>(output: &'a str, label: &str) -> Option<&'a str> {
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .map(str::trim)
}

/// A latency percentile from wrk's `--latency` table, in ms.
fn percentile(output: &str, label: &str) -> anyhow::Result<f64> {
    let value = field(output, label).with_context(|| format!("no {label} in:\n{output}"))?;
    let (number, unit) = value
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| value.split_at(i))
        .context("a latency without a unit")?;
    let number: f64 = number.parse()?;
    Ok(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        other => bail!("unknown unit {other}"),
    })
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let at = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    at(11) + at(12)
}

/// A process and its children (nginx's master and its workers).
fn cpu_ticks_tree(pid: u32) -> u64 {
    let mut total = cpu_ticks(pid);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if parent == Some(pid) {
            total += cpu_ticks(child);
        }
    }
    total
}

/// Busy CPU ticks of the whole machine (all cores), from /proc/stat.
fn machine_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| fields.get(i))
        .sum()
}

fn time_wait_sockets(port: u16) -> usize {
    let filter = format!("( sport = :{port} or dport = :{port} )");
    Command::new("ss")
        .args(["-tanH", "state", "time-wait", &filter])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().count())
        .unwrap_or(0)
}

/// GET with curl: the status and the body.
fn curl(url: &str, headers: &[&str]) -> anyhow::Result<(String, String)> {
    let mut command = Command::new("curl");
    command.args(["-s", "-o", "-", "-w", "\n%{http_code}"]);
    for header in headers {
        command.arg("-H").arg(header);
    }
    let out = command.arg(url).output().context("curl")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    Ok((status.to_owned(), body.to_owned()))
}

fn expect(answer: &(String, String), status: &str, needle: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        answer.0 == status && answer.1.contains(needle),
        "expected {status} with {needle:?}, got {} {:?}",
        answer.0,
        answer.1
    );
    Ok(())
}

/// Signs in through nginx, as the browser would; returns `curfew_session=…`.
async fn sign_in(port: u16, host: &str) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = http
        .post(format!("http://{host}/.curfew/sign-in"))
        .header("origin", format!("http://127.0.0.1:{port}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=office&password={PASSWORD}&rd=%2F"))
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == 303,
        "sign-in through nginx answered {}",
        response.status()
    );
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with("curfew_session="))
        .map(str::to_owned)
        .context("no curfew_session cookie")
}

fn add_user(bin: &Path, database: &str, name: &str, role: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut child = Command::new(bin)
        .args([
            "user",
            "add",
            "--database-url",
            database,
            "--username",
            name,
        ])
        .args(["--role", role, "--password-stdin"])
        .env("CURFEW_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("curfewd user add")?;
    writeln!(child.stdin.take().expect("piped"), "{PASSWORD}")?;
    anyhow::ensure!(child.wait()?.success(), "curfewd user add {name} failed");
    Ok(())
}

fn free() -> u16 {
    curfew_testkit::free_port()
}

/// nginx's workers (another user) must read the page; other platforms have no such modes.
#[cfg(not(unix))]
fn make_readable(_dir: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn make_readable(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for path in [
        dir.to_path_buf(),
        dir.join("static"),
        dir.join("static/index.html"),
    ] {
        let mode = if path.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// The table, beside the baseline and the targets.
pub fn print(runs: &[Run]) {
    println!();
    println!(
        "the gate, wrk -t2 -c{CONNECTIONS} for {SECONDS} s each, loopback, release curfewd, nginx worker_processes auto"
    );
    println!(
        "{:<34} | {:>10} {:>8} {:>8} | {:>9} | {:>35}",
        "", "req/s", "p50 ms", "p99 ms", "TIME-WAIT", "CPU µs/req nginx/curfewd/wrk/others"
    );
    for r in runs {
        println!(
            "{:<34} | {:>10.0} {:>8.2} {:>8.2} | {:>9} | {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            r.what,
            r.per_second,
            r.p50_ms,
            r.p99_ms,
            r.time_wait,
            r.cpu_us.0,
            r.cpu_us.1,
            r.cpu_us.2,
            r.cpu_us.3
        );
    }
    let alone = runs.first().map_or(f64::NAN, |r| r.per_second);
    let find = |prefix: &str| runs.iter().find(|r| r.what.starts_with(prefix));
    if let (Some(gated), Some(check)) = (find("nginx + the gate"), find("the check direct")) {
        let share = 100.0 * gated.per_second / alone;
        println!(
            "baseline (issue 11, plain auth_request): nginx alone 113–116k/s, check direct 22–23k/s, \
             nginx + auth_request 4.5–4.8k/s = 4% (p99 34–43 ms), 14,000 sockets in TIME-WAIT"
        );
        println!(
            "targets: check ≥ 25,000/s with p99 < 5 ms: {:.0}/s, p99 {:.2} ms — {}; nginx + gate ≥ 15% of nginx alone: {share:.1}% — {}",
            check.per_second,
            check.p99_ms,
            met(check.per_second >= 25_000.0 && check.p99_ms < 5.0),
            met(share >= 15.0)
        );
    }
}

fn met(yes: bool) -> &'static str {
    if yes {
        "met"
    } else {
        "NOT met"
    }
}
