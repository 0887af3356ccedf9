//! What `cargo xtask test` needs from the machine: Debian packages (WebKitGTK, Xvfb, a
//! D-Bus session, GNOME Keyring, WebKitWebDriver), tauri-driver, and the services the
//! tests run inside (a private D-Bus session with an unlocked keyring, and a display), a
//! PostgreSQL server the tests create their databases on, and the gate tests' web app
//! (Django in a virtualenv; nginx, Caddy and wrk are Debian packages).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// Debian 12 packages the build and the tests use.
pub const PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "ca-certificates",
    "procps",
    "libwebkit2gtk-4.1-dev",
    "libxdo-dev",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "imagemagick",
    "dbus",
    "dbus-x11",
    "gnome-keyring",
    "libsecret-tools",
    "chromium",
    "chromium-driver",
    "dunst",
    "libnotify-bin",
    "postgresql",
    "sqlite3",
    // actionlint checks the workflows' run: scripts with it.
    "shellcheck",
    // The gate's tests and bench: the reverse proxies in front of the web app, and wrk.
    "nginx",
    "caddy",
    "wrk",
    // The sign-in tests' OpenID Provider (oidc-provider, installed with npm).
    "nodejs",
];

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs missing Debian packages (as root), or says exactly what to install.
pub fn ensure_packages() -> anyhow::Result<()> {
    if !Path::new("/usr/bin/dpkg-query").exists() {
        eprintln!("==> not a Debian system: make sure WebKitGTK 4.1, Xvfb, dbus, gnome-keyring and WebKitWebDriver are installed");
        return Ok(());
    }
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing system packages; install them with:\n  sudo apt-get install -y --no-install-recommends {}",
            missing.join(" ")
        );
    }
    crate::run_step(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    crate::run_step(
        &format!("apt-get install {}", missing.join(" ")),
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// tauri-driver from crates.io (major version 2: the registry also serves 3.0 alphas).
pub fn ensure_tauri_driver() -> anyhow::Result<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let bin = cargo_home.join("bin/tauri-driver");
    if !bin.exists() {
        crate::run_step(
            "cargo install tauri-driver",
            crate::cargo().args(["install", "tauri-driver", "--locked", "--version", "^2"]),
        )?;
    }
    Ok(bin)
}

/// Runs a command on a virtual display inside a private D-Bus session with an unlocked
/// GNOME Keyring (the real Secret Service). The display comes first, so that services the
/// bus starts (the notification daemon) can use it. Keyrings and app settings go under
/// `home`, never into the developer's own.
pub fn desktop_session(home: &Path, command: &mut Command) -> Command {
    let script = r#"set -e
mkdir -p "$CURFEW_TEST_HOME/data" "$CURFEW_TEST_HOME/config"
export XDG_DATA_HOME="$CURFEW_TEST_HOME/data" XDG_CONFIG_HOME="$CURFEW_TEST_HOME/config"
eval "$(printf 'curfew-test' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
exec "$@""#;
    let mut wrapped = Command::new("xvfb-run");
    wrapped
        .args([
            "-a",
            "-s",
            "-screen 0 1280x800x24",
            "dbus-run-session",
            "--",
        ])
        .args(["bash", "-c", script, "bash"])
        .arg(command.get_program())
        .args(command.get_args())
        .env("CURFEW_TEST_HOME", home)
        .current_dir(crate::root());
    for (key, value) in command.get_envs() {
        match value {
            Some(v) => wrapped.env(key, v),
            None => wrapped.env_remove(key),
        };
    }
    wrapped
}

/// The administrative URL of a PostgreSQL server the tests may create and drop
/// `curfew_test_*` databases on: `CURFEW_TEST_POSTGRES` if set, else Debian's own cluster,
/// started if needed, with a `curfew` role (as root; otherwise says what to run).
pub fn ensure_postgres() -> anyhow::Result<String> {
    if let Ok(url) = std::env::var("CURFEW_TEST_POSTGRES") {
        return Ok(url);
    }
    let url = "postgres://curfew:curfew@127.0.0.1:5432/postgres".to_owned();
    if psql(&url, "SELECT 1").is_ok() {
        return Ok(url);
    }
    if !is_root() {
        bail!(
            "the tests need PostgreSQL: set CURFEW_TEST_POSTGRES=postgres://USER:PASSWORD@HOST/postgres \
             (a role that may create databases), or run as root to let xtask start Debian's cluster"
        );
    }
    let clusters = Command::new("pg_lsclusters")
        .arg("--no-header")
        .output()
        .context("pg_lsclusters (Debian package postgresql-common)")?;
    let listing = String::from_utf8_lossy(&clusters.stdout);
    let (version, name) = listing
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
        })
        .next()
        .context("no PostgreSQL cluster: reinstall the postgresql package")?;
    if !listing.contains("online") {
        crate::run_step(
            &format!("start PostgreSQL {version}/{name}"),
            Command::new("pg_ctlcluster").args([&version, &name, "start"]),
        )?;
    }
    crate::run_step(
        "create the PostgreSQL role curfew",
        Command::new("runuser").args([
            "-u",
            "postgres",
            "--",
            "psql",
            "-qc",
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'curfew') THEN \
             CREATE ROLE curfew LOGIN CREATEDB PASSWORD 'curfew'; END IF; END $$",
        ]),
    )?;
    psql(&url, "SELECT 1").context("PostgreSQL started but refuses the curfew role")?;
    Ok(url)
}

/// Drops the databases earlier test runs left behind.
pub fn drop_test_databases(admin_url: &str) -> anyhow::Result<()> {
    let names = psql(
        admin_url,
        "SELECT datname FROM pg_database WHERE datname LIKE 'curfew\\_test\\_%'",
    )?;
    for name in names.lines().map(str::trim).filter(|n| !n.is_empty()) {
        psql(
            admin_url,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )?;
    }
    Ok(())
}

/// Runs one SQL statement with psql and returns its unaligned output.
pub fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = Command::new("psql")
        .args([url, "-XAtqc", sql])
        .output()
        .context("psql (Debian package postgresql-client)")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The Python of the gate tests' web app (`tests/gate/webapp/`: Django and waitress, as
/// pinned in its `requirements.txt`), in a virtualenv under `target/`; installed with pip
/// when missing or when the pins changed.
pub fn ensure_gate_venv() -> anyhow::Result<PathBuf> {
    let venv = crate::target_dir().join("gate-venv");
    let python = venv.join("bin").join("python");
    let requirements = crate::root().join("tests/gate/webapp/requirements.txt");
    let installed = venv.join("installed-requirements.txt");
    let wanted = std::fs::read(&requirements).context("tests/gate/webapp/requirements.txt")?;
    if python.exists() && std::fs::read(&installed).ok().as_ref() == Some(&wanted) {
        return Ok(python);
    }
    if !python.exists() {
        crate::run_step(
            "create the gate tests' virtualenv",
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
        )?;
    }
    crate::run_step(
        "install the gate tests' web app (Django, waitress)",
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
    )?;
    std::fs::write(&installed, wanted)?;
    Ok(python)
}
