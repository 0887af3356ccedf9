//! The real parts around curfewd's gate, started the same way by the end-to-end tests and
//! by `cargo xtask bench --only gate`: Debian's nginx and Caddy running the very files of
//! `deploy/` (copied byte for byte; only the site's addresses are generated beside them),
//! and the third-party web app behind them (`tests/gate/webapp/`, Django on waitress).
//! Each process is a child of the caller, stopped with SIGTERM when its guard goes.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives in the workspace")
        .to_path_buf()
}

/// The nginx site file the README shows.
pub fn nginx_site_file() -> PathBuf {
    repo_root().join("deploy/nginx/curfew-gate.conf")
}

/// The Caddyfile the README shows.
pub fn caddyfile() -> PathBuf {
    repo_root().join("deploy/caddy/Caddyfile")
}

/// The Python of the web app's virtualenv: `CURFEW_GATE_PYTHON` (set by `cargo xtask
/// test`), else `target/gate-venv/bin/python`.
pub fn webapp_python() -> PathBuf {
    if let Some(path) = std::env::var_os("CURFEW_GATE_PYTHON") {
        return PathBuf::from(path);
    }
    let path = repo_root().join("target/gate-venv/bin/python");
    assert!(
        path.exists(),
        "no {}: `cargo xtask test` installs Django there (or set CURFEW_GATE_PYTHON)",
        path.display()
    );
    path
}

/// A child process that is stopped (SIGTERM, then SIGKILL after 5 s) when dropped.
pub struct Process {
    child: Option<Child>,
    pub name: &'static str,
    /// Its standard error (and output).
    pub log: PathBuf,
}

impl Process {
    fn spawn(name: &'static str, command: &mut Command, log: PathBuf) -> Result<Process, String> {
        let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().map_err(|e| e.to_string())?)
            .stderr(file)
            .spawn()
            .map_err(|e| format!("cannot start {name} ({:?}): {e}", command.get_program()))?;
        Ok(Process {
            child: Some(child),
            name,
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the process accepts connections on `port` of loopback.
    fn wait_for_port(mut self, port: u16) -> Result<Process, String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(self);
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen on port {port} ({}); its log:\n{}",
                    self.name,
                    exited.map_or("30 s".to_owned(), |s| s.to_string()),
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// What an nginx run needs beside the deploy file.
pub struct NginxSetup<'a> {
    /// Its folder (nginx's prefix): the configuration, the logs, temporary files.
    pub dir: &'a Path,
    /// The port the gated site listens on (loopback, plain HTTP).
    pub port: u16,
    /// `host:port` of curfewd and of the app.
    pub curfewd: &'a str,
    pub app: &'a str,
    /// `worker_processes`.
    pub workers: &'a str,
    /// More of the http { } block (the bench's own servers).
    pub extra_http: &'a str,
    pub access_log: bool,
}

/// nginx with `deploy/nginx/curfew-gate.conf` inside a minimal nginx.conf (what
/// `/etc/nginx/nginx.conf` holds on a real system), in the foreground.
pub fn start_nginx(setup: &NginxSetup) -> Result<Process, String> {
    let dir = setup.dir;
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    // As root, nginx's workers run as nobody: they must read the folder.
    make_readable(dir)?;
    std::fs::create_dir_all(dir.join("curfew-gate.d")).map_err(|e| e.to_string())?;
    std::fs::copy(nginx_site_file(), dir.join("curfew-gate.conf")).map_err(|e| e.to_string())?;
    write(
        &dir.join("curfew-gate.d/curfewd.conf"),
        &format!("server {};\n", setup.curfewd),
    )?;
    write(
        &dir.join("curfew-gate.d/app.conf"),
        &format!("server {};\n", setup.app),
    )?;
    write(
        &dir.join("curfew-gate.d/listen.conf"),
        &format!("listen 127.0.0.1:{};\nserver_name 127.0.0.1;\n", setup.port),
    )?;
    let access_log = if setup.access_log {
        "access_log access.log;"
    } else {
        "access_log off;"
    };
    write(
        &dir.join("nginx.conf"),
        &format!(
            "daemon off;\nworker_processes {workers};\npid nginx.pid;\nerror_log stderr warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  {access_log}\n  client_body_temp_path tmp/body;\n  proxy_temp_path tmp/proxy;\n  \
             fastcgi_temp_path tmp/fastcgi;\n  uwsgi_temp_path tmp/uwsgi;\n  scgi_temp_path tmp/scgi;\n  \
             include curfew-gate.conf;\n{extra}\n}}\n",
            workers = setup.workers,
            extra = setup.extra_http,
        ),
    )?;
    std::fs::create_dir_all(dir.join("tmp")).map_err(|e| e.to_string())?;
    make_readable(&dir.join("tmp"))?;
    let mut command = Command::new(nginx_bin());
    command
        .arg("-p")
        .arg(dir)
        .args(["-c", "nginx.conf", "-e", "stderr"]);
    Process::spawn("nginx", &mut command, dir.join("nginx.log"))?.wait_for_port(setup.port)
}

fn nginx_bin() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}

#[cfg(not(unix))]
fn make_readable(_dir: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(unix)]
fn make_readable(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Caddy with `deploy/caddy/Caddyfile`, the site on `http://127.0.0.1:PORT`, its admin
/// endpoint off, its storage under `dir`.
pub fn start_caddy(dir: &Path, port: u16, curfewd: &str, app: &str) -> Result<Process, String> {
    let config = dir.join("Caddyfile");
    std::fs::copy(caddyfile(), &config).map_err(|e| e.to_string())?;
    let mut command = Command::new("caddy");
    command
        .arg("run")
        .arg("--config")
        .arg(&config)
        .args(["--adapter", "caddyfile"])
        .env("CURFEW_GATE_SITE", format!("http://127.0.0.1:{port}"))
        .env("CURFEW_UPSTREAM", curfewd)
        .env("CURFEW_APP_UPSTREAM", app)
        .env("CURFEW_CADDY_ADMIN", "off")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"));
    Process::spawn("caddy", &mut command, dir.join("caddy.log"))?.wait_for_port(port)
}

/// The office app (Django on waitress) on `127.0.0.1:PORT`, its user table migrated into
/// `dir`. With `banner_tag`, its pages load Curfew's banner themselves.
pub fn start_webapp(dir: &Path, port: u16, banner_tag: bool) -> Result<Process, String> {
    let python = webapp_python();
    let app = repo_root().join("tests/gate/webapp");
    let env = |command: &mut Command| {
        command
            .current_dir(&app)
            .env("OFFICEAPP_DB", dir.join("officeapp.sqlite3"))
            .env("OFFICEAPP_BANNER_TAG", if banner_tag { "1" } else { "0" })
            .env("PYTHONDONTWRITEBYTECODE", "1");
    };
    let mut migrate = Command::new(&python);
    migrate.args(["manage.py", "migrate", "-v", "0"]);
    env(&mut migrate);
    let out = migrate
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "manage.py migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut serve = Command::new(&python);
    serve.args([
        "-m",
        "waitress",
        &format!("--listen=127.0.0.1:{port}"),
        "--threads=8",
        "officeapp.wsgi:application",
    ]);
    env(&mut serve);
    Process::spawn("the office app", &mut serve, dir.join("webapp.log"))?.wait_for_port(port)
}
