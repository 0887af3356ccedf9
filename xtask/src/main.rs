//! `cargo xtask demo | test | bench`: the repository's commands. Each prepares what it
//! needs (builds, databases) so that a newcomer runs one command.

mod appbench;
mod attackbench;
mod bench;
mod bundle;
mod contract;
mod fanout;
mod gatebench;
mod importbench;
#[cfg(unix)]
mod install_app;
#[cfg(unix)]
mod install_test;
mod layers;
mod listbench;
mod oidc_provider;
mod pgbench;
mod scimbench;
mod setup;
mod webdriver;
mod workflows;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("bundle") => bundle::run(&args[1..]),
        Some("install-test") => install_test(),
        Some("workflows") => workflows::lint(),
        #[cfg(unix)]
        Some("install-test-app") => install_app::app_signs_in(&args[1..]),
        Some("layers") => layers::run(&args[1..]),
        Some("contract") => build_curfewd(false).and_then(|curfewd| contract::run(&curfewd)),
        Some("oidc-provider") => oidc_provider::ensure().map(|dir| println!("{}", dir.display())),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 demo    start curfewd on SQLite with demo users and live sessions\n\
                 test    run every check and test (fmt, clippy, unit, end-to-end)\n\
                 bench   measure curfewd (SQLite, PostgreSQL, fan-out) and the app (release build)\n\
                 bundle  the packages: the desktop app (Tauri's bundler) and curfewd's .deb (--release for release builds)\n\
                 install-test  install, use, upgrade, remove and purge the packages (root, Debian)\n\
                 workflows  lint .github/workflows with actionlint\n\
                 layers  check curfewd's module graph: no cycle, layers one way (--print shows it)\n\
                 contract  test the OpenAPI document from outside (schemathesis against a real curfewd)\n\
                 oidc-provider  install the sign-in tests' OpenID Provider (oidc-provider, with npm) and print its folder"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

pub fn run_step(what: &str, cmd: &mut Command) -> anyhow::Result<()> {
    eprintln!("==> {what}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start: {cmd:?}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Builds curfewd and returns its path.
pub fn build_curfewd(release: bool) -> anyhow::Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args(["build", "--package", "curfew-server", "--bin", "curfewd"]);
    if release {
        cmd.arg("--release");
    }
    run_step(
        if release {
            "build curfewd (release)"
        } else {
            "build curfewd"
        },
        &mut cmd,
    )?;
    let bin = target_dir()
        .join(if release { "release" } else { "debug" })
        .join(format!("curfewd{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        bin.exists(),
        "curfewd was built but is not at {}",
        bin.display()
    );
    Ok(bin)
}

fn test(args: &[String]) -> anyhow::Result<()> {
    // Packages first: clippy already compiles the app, which needs WebKitGTK.
    setup::ensure_packages()?;
    let tauri_driver = setup::ensure_tauri_driver()?;
    let postgres = setup::ensure_postgres()?;
    setup::drop_test_databases(&postgres)?;
    let gate_python = setup::ensure_gate_venv()?;
    let oidc_provider = oidc_provider::ensure()?;
    run_step(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    eprintln!("==> layers of curfewd");
    layers::run(&[])?;
    run_step(
        "cargo clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    eprintln!("==> the release workflow");
    workflows::lint()?;
    let curfewd = build_curfewd(false)?;
    contract::run(&curfewd)?;
    run_step(
        "build the desktop app",
        cargo().args(["build", "--package", "curfew-app"]),
    )?;
    let app = target_dir()
        .join("debug")
        .join(format!("curfew-app{}", std::env::consts::EXE_SUFFIX));
    let home = target_dir().join("test-home");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home)?;
    // Three runs in one desktop session each: the app's WebKit windows are tested one at
    // a time (two at once on two cores made their timing flaky), everything else in
    // parallel. Every binary runs even when an earlier one failed.
    let (mut passed, mut failed) = (0, 0);
    for (what, targets, one_at_a_time) in [
        (
            "unit, router, command-line and app-unit tests",
            &["--workspace", "--exclude", "curfew"][..],
            false,
        ),
        (
            "the library and end-to-end tests on SQLite, several instances on PostgreSQL",
            &["--package", "curfew", "--lib", "--test", "e2e"][..],
            false,
        ),
        (
            "the desktop app in its webview, one test at a time",
            &["--package", "curfew", "--test", "app"][..],
            true,
        ),
    ] {
        let mut test = cargo();
        test.arg("test")
            .args(targets)
            .arg("--no-fail-fast")
            .args(args)
            .env("CURFEWD_BIN", &curfewd)
            .env("CURFEW_APP_BIN", &app)
            .env("TAURI_DRIVER_BIN", &tauri_driver)
            .env("CURFEW_GATE_PYTHON", &gate_python)
            .env("CURFEW_OIDC_PROVIDER_DIR", &oidc_provider)
            .env("CURFEW_TEST_POSTGRES", &postgres);
        if one_at_a_time {
            test.env("RUST_TEST_THREADS", "1");
        }
        let (p, f) = cargo_test(what, &mut setup::desktop_session(&home, &mut test))?;
        passed += p;
        failed += f;
    }
    // The whole server suite again with every database on PostgreSQL (the two-instance
    // tests already ran there).
    for (target, skip) in [
        (["--package", "curfew-server", "--lib"], None),
        (["--package", "curfew", "--test=e2e"], Some("instances::")),
    ] {
        let mut on_postgres = cargo();
        on_postgres
            .arg("test")
            .args(target)
            .args(args)
            .args(skip.map(|s| ["--", "--skip", s]).into_iter().flatten())
            .env("CURFEWD_BIN", &curfewd)
            .env("CURFEW_GATE_PYTHON", &gate_python)
            .env("CURFEW_OIDC_PROVIDER_DIR", &oidc_provider)
            .env("CURFEW_TEST_POSTGRES", &postgres)
            .env("CURFEW_TEST_BACKEND", "postgres");
        let (pg_passed, pg_failed) =
            cargo_test("the server suite on PostgreSQL", &mut on_postgres)?;
        passed += pg_passed;
        failed += pg_failed;
    }
    let _ = setup::drop_test_databases(&postgres);
    // Last, as it rebuilds the app for bundling: the packages installed, used and purged
    // as an administrator would (as root; otherwise it says why and skips).
    install_test()?;
    // One closing line for the whole run: cargo's own last line is the doc tests of the
    // last crate, which says "0 passed" even when hundreds ran.
    println!("tests: {passed} passed, {failed} failed");
    anyhow::ensure!(failed == 0, "{failed} tests failed");
    eprintln!("==> every check passed");
    Ok(())
}

/// The install test (Debian, as root; elsewhere it says why it skips).
fn install_test() -> anyhow::Result<()> {
    #[cfg(unix)]
    return install_test::run_step();
    #[cfg(not(unix))]
    {
        eprintln!("==> install test SKIPPED: not a Debian system");
        Ok(())
    }
}

/// Runs `cargo test`, echoing its output, and adds up its "test result" lines.
fn cargo_test(what: &str, cmd: &mut Command) -> anyhow::Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    eprintln!("==> cargo test: {what}");
    let mut child = cmd.stdout(std::process::Stdio::piped()).spawn()?;
    let (mut passed, mut failed) = (0, 0);
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            let count = |word: &str| -> u64 {
                rest.split(';')
                    .find_map(|part| part.trim().strip_suffix(word))
                    .and_then(|n| n.trim().rsplit(' ').next()?.parse().ok())
                    .unwrap_or(0)
            };
            passed += count(" passed");
            failed += count(" failed");
        }
    }
    let status = child.wait()?;
    if !status.success() && failed == 0 {
        bail!("cargo test failed ({status})");
    }
    Ok((passed, failed))
}

fn demo(args: &[String]) -> anyhow::Result<()> {
    let users = match args {
        [] => 500,
        [flag, n] if flag == "--users" => n.parse().context("--users takes a number")?,
        _ => bail!("usage: cargo xtask demo [--users N]"),
    };
    setup::ensure_packages()?;
    let curfewd = build_curfewd(false)?;
    run_step(
        "build the desktop app",
        cargo().args(["build", "--package", "curfew-app"]),
    )?;
    let dir = target_dir().join("demo");
    std::fs::create_dir_all(&dir)?;
    for leftover in ["curfew.db", "curfew.db-wal", "curfew.db-shm"] {
        let _ = std::fs::remove_file(dir.join(leftover));
    }
    let database = format!("sqlite://{}", dir.join("curfew.db").display());
    let bind = std::env::var("CURFEW_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    run_step(
        "seed demo users and live sessions",
        Command::new(&curfewd).args([
            "demo-seed",
            "--database-url",
            &database,
            "--users",
            &users.to_string(),
            "--admin-password",
            "curfew-admin",
        ]),
    )?;
    let mut server = Command::new(&curfewd)
        .args(["serve", "--database-url", &database, "--bind", &bind])
        .spawn()
        .context("start curfewd")?;
    let url = format!("http://{bind}");
    eprintln!(
        "==> curfewd on {url} (database {}); sign in as admin / curfew-admin",
        dir.join("curfew.db").display()
    );
    let has_display = !cfg!(target_os = "linux")
        || std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some();
    let result = if has_display {
        let app = target_dir()
            .join("debug")
            .join(format!("curfew-app{}", std::env::consts::EXE_SUFFIX));
        let mut command = Command::new(app);
        if cfg!(target_os = "linux") {
            // A demo profile of its own, with the server and username filled in, so the
            // demo never touches the admin's real settings.
            let config = dir.join("config");
            let profile_dir = config.join("dev.curfew.app");
            std::fs::create_dir_all(&profile_dir)?;
            std::fs::write(
                profile_dir.join("profile.json"),
                serde_json::to_string_pretty(&serde_json::json!({
                    "server": format!("{url}/"), "username": "admin", "remember": false
                }))?,
            )?;
            command.env("XDG_CONFIG_HOME", &config);
        }
        eprintln!("==> opening Curfew; closing its window stops the demo");
        run_step("curfew-app", &mut command)
    } else {
        eprintln!("==> no display, so no app window: curfewd keeps serving until Ctrl-C");
        server.wait()?;
        Ok(())
    };
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    result
}
