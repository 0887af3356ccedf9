//! `cargo xtask install-test` (a step of `cargo xtask test`): the packages of
//! `cargo xtask bundle` installed on this machine as an administrator would, and taken
//! away again. As root on Debian only; otherwise it says why and skips.
//!
//! Install both `.deb`s with `apt-get install ./…` (dependencies resolve from the
//! archive), check files, owners, modes and the `curfewd` system user, create the first
//! administrator with the very command the post-install note prints, run the installed
//! curfewd as the `curfewd` user with the env file's settings, sign in with the installed
//! app (the program its `.desktop` entry's `Exec` names) in a desktop session, upgrade
//! curfewd (a locally changed env file and the data stay), then `apt-get remove` (settings,
//! data and user stay) and `apt-get purge` (nothing of either package is left). Every
//! check that fails is listed; the packages are purged whatever happened.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

const PASSWORD: &str = "install-test passphrase";
const ENV_FILE: &str = "/etc/curfewd/env";
const DATA: &str = "/var/lib/curfewd";
/// The desktop app's Debian package (Tauri names it after the product).
const APP_PACKAGE: &str = "curfew";

/// What went wrong, all of it, so one run shows every broken thing.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        let what = what.into();
        if ok {
            eprintln!("    ok: {what}");
        } else {
            eprintln!("    WRONG: {what}");
            self.0.push(what);
        }
    }

    /// `path` exists with this kind, mode, owner and group.
    fn file(&mut self, path: &str, dir: bool, mode: u32, owner: &str, group: &str) {
        match std::fs::metadata(path) {
            Err(e) => self.check(false, format!("{path} exists ({e})")),
            Ok(meta) => {
                let (user, grp) = (name_of("passwd", meta.uid()), name_of("group", meta.gid()));
                let got = meta.permissions().mode() & 0o7777;
                self.check(
                    meta.is_dir() == dir && got == mode && user == owner && grp == group,
                    format!(
                        "{path}: {} {mode:o} {owner}:{group} (it is {} {got:o} {user}:{grp})",
                        if dir { "directory" } else { "file" },
                        if meta.is_dir() { "directory" } else { "file" },
                    ),
                );
            }
        }
    }

    fn gone(&mut self, path: &str) {
        self.check(!Path::new(path).exists(), format!("{path} is gone"));
    }
}

/// A user or group name from `getent`, or the number.
fn name_of(database: &str, id: u32) -> String {
    getent(database, &id.to_string())
        .and_then(|line| line.split(':').next().map(str::to_owned))
        .unwrap_or_else(|| id.to_string())
}

fn getent(database: &str, key: &str) -> Option<String> {
    let out = Command::new("getent").args([database, key]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs a command, echoing its output, and returns its standard output.
fn run(what: &str, cmd: &mut Command) -> anyhow::Result<String> {
    eprintln!("==> {what}");
    let out = cmd
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprint!("{stdout}");
    if !out.status.success() {
        bail!("{what} failed ({})", out.status);
    }
    Ok(stdout)
}

fn apt(args: &[&str]) -> Command {
    let mut cmd = Command::new("apt-get");
    // Waits for another apt or dpkg instead of failing at once.
    cmd.args(["-y", "-q", "-o", "DPkg::Lock::Timeout=600"])
        .args(args);
    cmd
}

fn package_installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Abbrev}", name])
        .output()
        .map(|o| o.status.success() && !String::from_utf8_lossy(&o.stdout).starts_with("un"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Why this machine cannot run the install test, if it cannot.
fn cannot_run() -> Option<&'static str> {
    if !cfg!(target_os = "linux") || !Path::new("/usr/bin/apt-get").exists() {
        Some("not a Debian system")
    } else if !is_root() {
        Some("not root (it installs and purges packages)")
    } else {
        None
    }
}

pub fn run_step() -> anyhow::Result<()> {
    crate::bundle::readme_shows_units()?;
    if let Some(why) = cannot_run() {
        eprintln!(
            "==> install test SKIPPED: {why}; run `cargo xtask install-test` as root on Debian"
        );
        return Ok(());
    }
    // One install test at a time on this machine (several `cargo xtask test` may run):
    // they install and purge the same packages and user. Released when the file closes.
    let lock = std::fs::File::create(std::env::temp_dir().join("curfew-install-test.lock"))?;
    eprintln!("==> install test: waiting for any other install test on this machine");
    lock.lock()?;
    let started = Instant::now();
    for package in [APP_PACKAGE, "curfewd"] {
        if package_installed(package) {
            run(
                &format!("purge {package}, left by an earlier run"),
                &mut apt(&["purge", package]),
            )?;
        }
    }
    if !Path::new("/usr/bin/sudo").exists() {
        // The post-install note says `sudo -u curfewd …`.
        run(
            "apt-get install sudo",
            &mut apt(&["install", "--no-install-recommends", "sudo"]),
        )?;
    }
    let packages = crate::bundle::bundle(false, None, &[])?;
    let server_deb = packages.server_deb.context("no curfewd .deb")?;
    let app_deb = packages
        .app
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .context("no desktop app .deb")?
        .clone();
    let dir = crate::target_dir().join("install-test");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut findings = Findings::default();
    let result = install_use_and_remove(&server_deb, &app_deb, &dir, &mut findings);
    if result.is_err() || !findings.0.is_empty() {
        let _ = purge_known("clean up: purge what is left");
    }
    if !findings.0.is_empty() {
        bail!(
            "the install test found {} problems{}:\n  - {}",
            findings.0.len(),
            result
                .err()
                .map(|e| format!(" ({e:#})"))
                .unwrap_or_default(),
            findings.0.join("\n  - ")
        );
    }
    result?;
    eprintln!(
        "==> install test passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `apt-get purge` of those of the two packages dpkg still knows (installed, or removed
/// with conffiles left).
fn purge_known(what: &str) -> anyhow::Result<()> {
    let known: Vec<&str> = [APP_PACKAGE, "curfewd"]
        .into_iter()
        .filter(|p| package_installed(p))
        .collect();
    if known.is_empty() {
        return Ok(());
    }
    run(
        &format!("{what} {}", known.join(" ")),
        apt(&["purge"]).args(&known),
    )
    .map(drop)
}

/// Every file (not folder) a package ships, from its `.deb`.
fn shipped_files(deb: &Path) -> anyhow::Result<Vec<String>> {
    let out = Command::new("dpkg-deb").arg("-c").arg(deb).output()?;
    anyhow::ensure!(out.status.success(), "dpkg-deb -c {}", deb.display());
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('d'))
        .filter_map(|l| l.split_whitespace().last())
        .map(|p| format!("/{}", p.trim_start_matches('.').trim_start_matches('/')))
        .collect())
}

fn install_use_and_remove(
    server_deb: &Path,
    app_deb: &Path,
    dir: &Path,
    findings: &mut Findings,
) -> anyhow::Result<()> {
    let installed = run(
        "apt-get install both packages (dependencies from the archive)",
        apt(&["install", "--no-install-recommends"])
            .arg(server_deb)
            .arg(app_deb),
    )?;

    eprintln!("==> what curfewd's package installed");
    findings.file("/usr/bin/curfewd", false, 0o755, "root", "root");
    findings.file(ENV_FILE, false, 0o640, "root", "curfewd");
    findings.file(DATA, true, 0o700, "curfewd", "curfewd");
    for unit in ["curfewd.service", "curfewd@.service"] {
        let path = format!("/usr/lib/systemd/system/{unit}");
        findings.file(&path, false, 0o644, "root", "root");
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        let source = std::fs::read_to_string(crate::root().join("deploy").join(unit))?;
        findings.check(shipped == source, format!("{path} is deploy/{unit}"));
        findings.check(
            shipped.contains("LimitNOFILE=") && shipped.contains("ProtectSystem=strict"),
            format!("{unit} sets LimitNOFILE and ProtectSystem=strict"),
        );
    }
    let conffiles = Command::new("dpkg-query")
        .args(["-W", "-f=${Conffiles}", "curfewd"])
        .output()?;
    findings.check(
        String::from_utf8_lossy(&conffiles.stdout).contains(ENV_FILE),
        format!("{ENV_FILE} is a conffile"),
    );
    let account = getent("passwd", "curfewd").unwrap_or_default();
    let fields: Vec<&str> = account.split(':').collect();
    let uid: u32 = fields
        .get(2)
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX);
    findings.check(
        uid < 1000
            && fields.get(5) == Some(&DATA)
            && fields.get(6).is_some_and(|s| s.ends_with("nologin")),
        format!("curfewd is a system user with home {DATA} and no login shell ({account:?})"),
    );
    let note = installed
        .lines()
        .find(|l| l.contains("curfewd user add"))
        .map(str::trim)
        .map(str::to_owned);
    findings.check(
        note.is_some(),
        "the post-install note says how to create the first admin",
    );

    eprintln!("==> what the desktop app's package installed");
    let desktop = "/usr/share/applications/Curfew.desktop";
    let entry = std::fs::read_to_string(desktop).unwrap_or_default();
    findings.check(!entry.is_empty(), format!("{desktop} exists"));
    let exec = entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .and_then(|e| e.split_whitespace().next())
        .unwrap_or("")
        .to_owned();
    let icon = entry
        .lines()
        .find_map(|l| l.strip_prefix("Icon="))
        .unwrap_or("");
    findings.check(
        Path::new(&format!("/usr/share/icons/hicolor/128x128/apps/{icon}.png")).exists(),
        format!("the entry's icon {icon:?} is installed"),
    );
    // Exec names a program on PATH (or a path): where a desktop would find it.
    let app = if exec.contains('/') {
        PathBuf::from(&exec)
    } else {
        ["/usr/local/bin", "/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(&exec))
            .find(|p| p.exists())
            .unwrap_or_default()
    };
    findings.check(
        app == Path::new("/usr/bin/curfew-app"),
        format!("the entry's Exec {exec:?} is the installed /usr/bin/curfew-app"),
    );
    let missing = Command::new("sh")
        .arg("-c")
        .arg("ldd /usr/bin/curfew-app | grep 'not found'")
        .output()?;
    findings.check(
        missing.stdout.is_empty(),
        format!(
            "every library of the app is installed {}",
            String::from_utf8_lossy(&missing.stdout).trim()
        ),
    );
    if !findings.0.is_empty() {
        bail!("the installed files are wrong, so nothing was run");
    }

    eprintln!("==> the first administrator, as the note says");
    let note = note.expect("checked");
    anyhow::ensure!(
        note.contains("'a long passphrase'"),
        "the note's command has no passphrase to replace: {note}"
    );
    run(
        &format!("sh -c {note:?}"),
        Command::new("sh")
            .arg("-c")
            .arg(note.replace("'a long passphrase'", &format!("'{PASSWORD}'"))),
    )?;
    findings.file(
        &format!("{DATA}/curfew.db"),
        false,
        0o600,
        "curfewd",
        "curfewd",
    );

    let server = Curfewd::start(dir)?;
    findings.check(
        server.uid()? == uid,
        "the installed curfewd runs as the curfewd user",
    );
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(sign_in_over_http(&server.url))?;
    crate::install_app::sign_in_with_the_app(&app, &server.url, PASSWORD, dir)?;
    drop(server);

    eprintln!("==> an upgrade keeps the data and a changed env file");
    let mut env = std::fs::read_to_string(ENV_FILE)?;
    env.push_str("# changed by the install test\n");
    std::fs::write(ENV_FILE, &env)?;
    let version = crate::bundle::package_version("curfew-server")?;
    let newer = crate::bundle::server_deb(
        Path::new("/usr/bin/curfewd"),
        &format!("{version}+upgrade"),
        dir,
    )?;
    run(
        "apt-get install the newer curfewd",
        apt(&["install"]).arg(&newer),
    )?;
    findings.check(
        std::fs::read_to_string(ENV_FILE)? == env,
        format!("{ENV_FILE} keeps the local change"),
    );
    findings.file(DATA, true, 0o700, "curfewd", "curfewd");
    let server = Curfewd::start(dir)?;
    runtime.block_on(sign_in_over_http(&server.url))?;
    drop(server);

    let files: Vec<String> = shipped_files(server_deb)?
        .into_iter()
        .chain(shipped_files(app_deb)?)
        .collect();
    run(
        "apt-get remove both packages",
        &mut apt(&["remove", APP_PACKAGE, "curfewd"]),
    )?;
    eprintln!("==> after remove: programs gone; settings, data and user stay");
    for file in files.iter().filter(|f| f.as_str() != ENV_FILE) {
        findings.gone(file);
    }
    findings.file(ENV_FILE, false, 0o640, "root", "curfewd");
    findings.file(
        &format!("{DATA}/curfew.db"),
        false,
        0o600,
        "curfewd",
        "curfewd",
    );
    findings.check(
        getent("passwd", "curfewd").is_some(),
        "the curfewd user stays",
    );

    // The app's package has no conffiles: remove already took all of it.
    findings.check(
        !package_installed(APP_PACKAGE),
        format!("after remove dpkg knows no {APP_PACKAGE} (it keeps nothing)"),
    );
    purge_known("apt-get purge")?;
    eprintln!("==> after purge: nothing is left");
    for file in &files {
        findings.gone(file);
    }
    findings.gone("/etc/curfewd");
    findings.gone(DATA);
    findings.check(
        getent("passwd", "curfewd").is_none(),
        "the curfewd user is gone",
    );
    findings.check(
        getent("group", "curfewd").is_none(),
        "the curfewd group is gone",
    );
    for package in [APP_PACKAGE, "curfewd"] {
        findings.check(
            !package_installed(package),
            format!("dpkg knows no {package} any more"),
        );
    }
    Ok(())
}

/// The installed curfewd, run as the curfewd user with the env file's settings (what
/// the unit does; this container has no systemd), on a free port. `setpriv` execs, so
/// the child is curfewd itself.
struct Curfewd {
    child: Child,
    url: String,
}

impl Curfewd {
    fn start(dir: &Path) -> anyhow::Result<Curfewd> {
        let port = curfew_testkit::free_port();
        let log = std::fs::File::create(dir.join("curfewd.log"))?;
        let child = Command::new("setpriv")
            .args(["--reuid=curfewd", "--regid=curfewd", "--init-groups", "--"])
            .args(["sh", "-c"])
            .arg(format!(
                "set -a; . {ENV_FILE}; exec /usr/bin/curfewd serve --bind 127.0.0.1:{port}"
            ))
            .current_dir("/")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("setpriv … curfewd serve")?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!(
                    "the installed curfewd did not listen within 30 s; its log:\n{}",
                    std::fs::read_to_string(dir.join("curfewd.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("==> the installed curfewd serves {url} as the curfewd user");
        Ok(Curfewd { child, url })
    }

    /// The uid curfewd runs as.
    fn uid(&self) -> anyhow::Result<u32> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|u| u.split_whitespace().next()?.parse().ok())
            .context("no Uid in /proc")
    }
}

impl Drop for Curfewd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn sign_in_over_http(url: &str) -> anyhow::Result<()> {
    use curfew::api::{ClientKind, LoginRequest};
    let (client, _) = curfew::Client::new(url)?
        .login(&LoginRequest {
            username: "root".into(),
            password: PASSWORD.into(),
            client: ClientKind::App,
            device_name: None,
        })
        .await
        .context("the first admin cannot sign in over HTTP")?;
    let me = client.admin_me().await?;
    eprintln!("    ok: root signs in over HTTP: {me:?}");
    Ok(())
}
