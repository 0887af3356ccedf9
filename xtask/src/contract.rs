//! The contract tested from outside: schemathesis (pinned, in a virtualenv under
//! `target/`) reads curfewd's own `/api/v1/openapi.json` and generates valid and invalid
//! requests for every operation (coverage, fuzzing and stateful phases that follow the
//! document's links), against a real curfewd on SQLite, as a signed-in administrator.
//! Every check is on: no 5xx, every status documented, every response valid against its
//! schema and with its documented content type and headers, invalid requests refused,
//! valid ones accepted. Any finding, and any warning that means the run did not reach
//! the server (authentication, unresolvable references), fails the step.
//!
//! What JSON Schema cannot say (`starts_at` in the future, a password's length in bytes,
//! cursors only the server hands out) is said in the document's descriptions and made
//! true of the positive cases by the hooks below.
//!
//! `POST /auth/logout` ends the session it is called with, so it runs last, alone, on a
//! session of its own. The other destructive routes spare the caller (logout-all and
//! per-user logout keep the caller's session, the admin cannot deactivate itself,
//! windows are scheduled at least two days ahead so no freeze or mass logout happens).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The schemathesis release this step is tested with.
pub const SCHEMATHESIS: &str = "4.32.5";
/// Fixed, so a CI failure replays locally.
const SEED: &str = "20261201";
/// Test cases per operation and phase; the event streams get fewer (each waits a second).
const EXAMPLES: &str = "100";
const STREAM_EXAMPLES: u32 = 4;

const ADMIN: &str = "contract-admin";
const ADMIN_PASSWORD: &str = "contract-admin-password";

/// Hooks: the constraints the document states in words, applied to positive cases.
const HOOKS: &str = r#"
import datetime
import os
import random

import schemathesis

PASSWORD_MAX = int(os.environ["CURFEW_PASSWORD_MAX"])
STARTS_AHEAD_MAX = int(os.environ["CURFEW_STARTS_AHEAD_MAX"])
WINDOW_LENGTH_MAX = int(os.environ["CURFEW_WINDOW_LENGTH_MAX"])
PREFIX = os.environ["CURFEW_API_PREFIX"]


def _positive(case):
    meta = case.meta
    return meta is None or not meta.generation.mode.is_negative


def _stamp(moment):
    return moment.isoformat().replace("+00:00", "Z")


@schemathesis.hook
def map_case(context, case):
    if not _positive(case):
        return case
    route = f"{case.method.upper()} {case.path.removeprefix(PREFIX)}"
    body = case.body if isinstance(case.body, dict) else None
    if body is not None:
        # Passwords are at most PASSWORD_MAX bytes in UTF-8: cut to fit, keeping at least
        # the characters they need.
        for field in ("password", "new_password"):
            password = body.get(field)
            if isinstance(password, str) and len(password.encode()) > PASSWORD_MAX:
                cut = password.encode()[:PASSWORD_MAX].decode("utf-8", "ignore")
                body[field] = cut if len(cut) >= 8 else "x" * 8
    window = body
    repeating = route == "POST /admin/maintenance/series"
    if repeating and body is not None:
        # A rule curfewd runs (an RRULE is not expressible in JSON Schema), derived from the
        # generated body; the window is its first occurrence, and it needs an end.
        rng = random.Random(repr(body))
        body["repeat"] = {
            "rule": rng.choice(["FREQ=WEEKLY;BYDAY=MO;COUNT=3", "FREQ=MONTHLY;BYDAY=1SA;COUNT=2",
                                "FREQ=MONTHLY;BYMONTHDAY=15;INTERVAL=2;COUNT=2"]),
            "time_zone": rng.choice(["UTC", "Europe/Berlin", "America/New_York"]),
        }
        window = body.get("window") if isinstance(body.get("window"), dict) else None
        if window is not None:
            window["ends_at"] = "soon"
    if window is not None and route in (
            "POST /admin/maintenance", "POST /admin/maintenance/series", "PATCH /admin/maintenance/{id}"):
        # In the future, within STARTS_AHEAD_MAX; at least two days ahead so that nothing
        # freezes or signs anyone out during the run. The end after the start, within
        # WINDOW_LENGTH_MAX (a repeating one: within a day, so before the next occurrence,
        # and every occurrence within the horizon). Derived from the generated body, so
        # runs repeat.
        rng = random.Random(repr(sorted(window.items(), key=lambda kv: kv[0])))
        now = datetime.datetime.now(datetime.timezone.utc)
        latest = STARTS_AHEAD_MAX - (120 if repeating else 1) * 86400
        starts = now + datetime.timedelta(seconds=rng.randint(2 * 86400, latest))
        window["starts_at"] = _stamp(starts)
        if window.get("ends_at") is not None:
            length = rng.randint(1, 86400 if repeating else WINDOW_LENGTH_MAX)
            window["ends_at"] = _stamp(starts + datetime.timedelta(seconds=length))
    if route == "POST /admin/users/import":
        # A CSV file is text JSON Schema cannot describe (the description says what it is):
        # a valid one, derived from the generated body so that runs repeat.
        rng = random.Random(repr(case.body))
        role = rng.choice(["member", "support"])
        case.body = f"username,display_name,role\nimported{rng.randrange(10**6)},Imported,{role}\n"
    if route in ("GET /admin/users", "GET /admin/audit") and isinstance(case.query, dict):
        # Only a next_cursor the server gave is a cursor.
        case.query.pop("cursor", None)
    return case
"#;

/// Warnings that mean the run did not test what it should; they fail it like findings.
const FAILING_WARNINGS: &str = r#"["missing_auth", "unresolvable_reference", "unsupported_regex",
  "validation_mismatch", "missing_deserializer", "base_url_mismatch", "unused_openapi_auth"]"#;

fn config() -> String {
    format!(
        r#"[warnings]
fail-on = {FAILING_WARNINGS}

# An event stream is read for a second (it never ends by itself); a few cases suffice.
[[operations]]
include-path-regex = "/(notices/stream|admin/events)$"
request-timeout = 1
max-stream-events = 1
generation.max-examples = {STREAM_EXAMPLES}
"#
    )
}

/// The virtualenv's `st`, installing the pinned schemathesis with pip if it is missing.
fn schemathesis() -> anyhow::Result<PathBuf> {
    let venv = crate::target_dir().join("contract-venv");
    let st = venv.join("bin").join("st");
    let installed = Command::new(&st)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS))
        .unwrap_or(false);
    if !installed {
        if !venv.join("bin").join("pip").exists() {
            crate::run_step(
                "create the contract test's virtualenv",
                Command::new("python3").arg("-m").arg("venv").arg(&venv),
            )?;
        }
        crate::run_step(
            &format!("install schemathesis {SCHEMATHESIS}"),
            Command::new(venv.join("bin").join("pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .arg(format!("schemathesis=={SCHEMATHESIS}")),
        )?;
    }
    Ok(st)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(curfew_testkit::free_port())
}

fn add_user(curfewd: &Path, database: &str, name: &str, role: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut child = Command::new(curfewd)
        .args([
            "user",
            "add",
            "--database-url",
            database,
            "--username",
            name,
        ])
        .args(["--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("curfewd user add")?;
    let password = if name == ADMIN {
        ADMIN_PASSWORD.to_owned()
    } else {
        format!("{name}-password")
    };
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(password.as_bytes())?;
    anyhow::ensure!(child.wait()?.success(), "curfewd user add {name} failed");
    Ok(())
}

/// A fresh session of the run's administrator.
async fn login(base: &str) -> anyhow::Result<String> {
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}{}", curfew::routes::LOGIN.full_path()))
        .json(
            &serde_json::json!({ "username": ADMIN, "password": ADMIN_PASSWORD, "client": "app" }),
        )
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    reply["token"]
        .as_str()
        .map(str::to_owned)
        .context("the login answer has no token")
}

async fn wait_healthy(base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(reply) = reqwest::get(format!("{base}/healthz")).await {
            if reply.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("curfewd did not answer /healthz within 30 s")
}

/// One schemathesis run; returns its closing line ("N failures ... in Xs" or "N passed").
fn schemathesis_run(
    st: &Path,
    dir: &Path,
    base: &str,
    token: &str,
    operations: &[&str],
) -> anyhow::Result<String> {
    let mut cmd = Command::new(st);
    cmd.current_dir(dir)
        .arg("--config-file")
        .arg(dir.join("schemathesis.toml"))
        .args([
            "run",
            &format!("{base}{}", curfew::routes::OPENAPI.full_path()),
        ])
        .args([
            "--checks",
            "all",
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
        ])
        .args([
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .args(["--request-timeout", "10"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(operations)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", dir)
        .env(
            "CURFEW_PASSWORD_MAX",
            curfew::limits::PASSWORD_MAX.to_string(),
        )
        .env(
            "CURFEW_STARTS_AHEAD_MAX",
            curfew::limits::STARTS_AHEAD_MAX.to_string(),
        )
        .env(
            "CURFEW_WINDOW_LENGTH_MAX",
            curfew::limits::WINDOW_LENGTH_MAX.to_string(),
        )
        .env("CURFEW_API_PREFIX", curfew::routes::API_PREFIX)
        .stdout(Stdio::piped());
    let output = cmd.output().context("run schemathesis")?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    let generated = text
        .lines()
        .skip_while(|l| l.trim() != "Test cases:")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let closing = text
        .lines()
        .rev()
        .find(|l| l.starts_with('='))
        .unwrap_or_default()
        .trim_matches(|c: char| c == '=' || c.is_whitespace())
        .to_owned();
    if !output.status.success() {
        bail!("schemathesis found problems: {closing} ({generated})");
    }
    Ok(format!("{generated}; {closing}"))
}

/// Runs schemathesis against a fresh curfewd built at `curfewd`, and prints one summary
/// line. Fails on any finding.
pub fn run(curfewd: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    eprintln!("==> contract: schemathesis {SCHEMATHESIS} against curfewd's OpenAPI document");
    let st = schemathesis()?;
    let dir = crate::target_dir().join("contract");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("hooks.py"), HOOKS)?;
    std::fs::write(dir.join("schemathesis.toml"), config())?;
    let database = format!("sqlite://{}", dir.join("curfew.db").display());
    for (name, role) in [
        (ADMIN, "admin"),
        ("contract-support", "support"),
        ("contract-member", "member"),
    ] {
        add_user(curfewd, &database, name, role)?;
    }
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.join("curfewd.log"))?;
    // Sign-in limits out of the way: the run signs in twice and fuzzes the login route.
    let server = Server(
        Command::new(curfewd)
            .args(["serve", "--database-url", &database])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--login-per-minute-per-account", "1000000"])
            .args(["--login-per-minute-per-address", "1000000"])
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("start curfewd")?,
    );
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(wait_healthy(&base))?;
    let logout = curfew::routes::LOGOUT.full_path();

    let token = runtime.block_on(login(&base))?;
    let most = schemathesis_run(&st, &dir, &base, &token, &["--exclude-path", &logout])?;
    // Signing out ends the session it is called with: last, on a session of its own.
    let token = runtime.block_on(login(&base))?;
    // It has no links to follow: no stateful phase.
    let last = schemathesis_run(
        &st,
        &dir,
        &base,
        &token,
        &[
            "--include-path",
            &logout,
            "--phases",
            "examples,coverage,fuzzing",
        ],
    )?;
    drop(server);

    let log = std::fs::read_to_string(dir.join("curfewd.log"))?;
    anyhow::ensure!(
        !log.contains("panicked"),
        "curfewd panicked during the contract run; see {}",
        dir.join("curfewd.log").display()
    );
    println!(
        "contract: schemathesis {SCHEMATHESIS} (seed {SEED}), every operation of {}: {most}; {} alone: {last}; {:.0} s",
        curfew::routes::OPENAPI.full_path(),
        logout,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
