//! Starting and stopping real curfewd processes for the tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use curfew::api::{ClientKind, LoginRequest, LoginResponse};
use curfew::Client;

pub use curfew_testkit::curfewd_bin;

pub struct Server {
    child: Option<Child>,
    options: ServerOptions,
    pub url: String,
    pub database_url: String,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
    /// Dropped after the process is stopped (fields drop after `Drop::drop`).
    _database: Option<PgDatabase>,
}

#[derive(Clone)]
pub struct ServerOptions {
    pub login_per_minute_per_account: u32,
    pub log_level: &'static str,
    pub bind: String,
    /// More `curfewd serve` flags.
    pub args: Vec<String>,
    /// Start with this soft open-file limit (as a service manager might).
    pub soft_open_files: Option<u64>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            login_per_minute_per_account: 100_000,
            log_level: "info",
            bind: "127.0.0.1:0".into(),
            args: Vec::new(),
            soft_open_files: None,
        }
    }
}

pub const PASSWORD: &str = "correct horse battery";

impl Server {
    pub fn start() -> Server {
        Self::start_with(ServerOptions::default())
    }

    pub fn start_with(options: ServerOptions) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, database) = test_database(dir.path());
        let mut server = Self::start_in(dir, database_url, options);
        server._database = database;
        server
    }

    /// Another curfewd on an existing database (several instances on one PostgreSQL).
    pub fn start_on(database_url: &str) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, database_url.to_owned(), ServerOptions::default())
    }

    fn start_in(dir: tempfile::TempDir, database_url: String, options: ServerOptions) -> Server {
        let log = dir.path().join("curfewd.log");
        let mut server = Server {
            child: None,
            options: options.clone(),
            url: String::new(),
            database_url,
            log,
            _dir: dir,
            _database: None,
        };
        server.spawn(&options);
        server
    }

    /// Kills curfewd with SIGKILL: no shutdown, no cleanup, as a crash or power loss.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts curfewd again on the same database and address.
    pub fn restart(&mut self) {
        let mut options = self.options.clone();
        options.bind = self.url.trim_start_matches("http://").to_owned();
        self.spawn(&options);
    }

    fn spawn(&mut self, options: &ServerOptions) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut command = match options.soft_open_files {
            // The shell lowers its soft limit, then becomes curfewd.
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("ulimit -Sn {n} && exec \"$0\" \"$@\"")])
                    .arg(curfewd_bin());
                sh
            }
            None => Command::new(curfewd_bin()),
        };
        let mut child = command
            .args([
                "serve",
                "--database-url",
                &self.database_url,
                "--bind",
                &options.bind,
                "--login-per-minute-per-account",
                &options.login_per_minute_per_account.to_string(),
                "--login-per-minute-per-address",
                "100000",
            ])
            .args(&options.args)
            .env("CURFEW_LOG", options.log_level)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start curfewd");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("curfewd did not start in 30 s; log:\n{}", self.log_text()));
        self.url = line
            .trim()
            .strip_prefix("curfewd listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}; log:\n{}", self.log_text()))
            .to_owned();
        self.child = Some(child);
    }

    /// The process id of the running curfewd.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `curfewd user add`, through the real command line.
    pub fn add_user(&self, username: &str, role: &str) {
        add_user(&self.database_url, username, role, PASSWORD);
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url).expect("client")
    }

    pub async fn login(&self, username: &str, client: ClientKind) -> (Client, LoginResponse) {
        self.client()
            .login(&LoginRequest {
                username: username.into(),
                password: PASSWORD.into(),
                client,
                device_name: None,
            })
            .await
            .unwrap_or_else(|e| panic!("login {username}: {e}"))
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("curfewd did not stop within {within:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub use curfew_testkit::{free_port, postgres_database, test_database, PgDatabase};

pub use curfew_testkit::add_user;

/// Panics unless `client`'s token now gets 401 with `code`.
pub async fn assert_rejected(client: &Client, code: &str) {
    match client.session().await {
        Err(e) if e.status() == Some(401) => {
            assert_eq!(e.code(), Some(code), "wrong 401 code: {e}");
        }
        other => panic!("expected 401 {code}, got {other:?}"),
    }
}

/// Runs SQL on a test database behind curfewd's back (to break it on purpose), with the
/// database's own command-line client.
pub fn run_sql(database_url: &str, sql: &str) {
    let out = if let Some(path) = database_url.strip_prefix("sqlite://") {
        Command::new("sqlite3")
            .arg(path.split('?').next().unwrap_or(path))
            .arg(sql)
            .output()
            .expect("sqlite3 (Debian package sqlite3)")
    } else {
        Command::new("psql")
            .args([database_url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
            .output()
            .expect("psql")
    };
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes every attempt to mark a maintenance window's logout step done fail, as a broken
/// database would, on either backend.
pub fn break_logout_steps(database_url: &str) {
    if database_url.starts_with("sqlite:") {
        run_sql(
            database_url,
            "CREATE TRIGGER refuse_logout BEFORE UPDATE ON maintenance_steps \
             WHEN NEW.state = 'done' AND NEW.kind = 'logout' \
             BEGIN SELECT RAISE(ABORT, 'the disk is on fire'); END;",
        );
    } else {
        run_sql(
            database_url,
            "CREATE FUNCTION refuse_logout() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'the disk is on fire'; END $$; \
             CREATE TRIGGER refuse_logout BEFORE UPDATE ON maintenance_steps FOR EACH ROW \
             WHEN (NEW.state = 'done' AND NEW.kind = 'logout') EXECUTE FUNCTION refuse_logout();",
        );
    }
}

/// A PostgreSQL server of the test's own (initdb in a temporary directory), for tests
/// that stop and start the database under a running curfewd.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// PostgreSQL refuses to run as root: as root, its tools run as `postgres`.
    as_root: bool,
    pub port: u16,
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL under /usr/lib/postgresql (Debian package postgresql)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("an initdb under /usr/lib/postgresql/*/bin");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let db = PrivatePostgres {
            dir,
            bin,
            as_root: running_as_root(),
            port,
        };
        if db.as_root {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(db.dir.path())
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let data = db.data_dir();
        db.pg("initdb", &["-A", "trust", "-U", "curfew", "-D", &data]);
        db.start_server();
        db
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://curfew@127.0.0.1:{}/{database}", self.port)
    }

    pub fn create_database(&self, name: &str) -> String {
        let out = Command::new("psql")
            .args([&self.url("postgres"), "-v", "ON_ERROR_STOP=1", "-qc"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(name)
    }

    pub fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log");
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-o",
                &options,
                "-l",
                &log.display().to_string(),
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server at once, as a crash or a restart by its operator would.
    pub fn stop_server(&self) {
        self.pg(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"],
        );
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// One of PostgreSQL's tools, run as `postgres` when the tests run as root.
    fn pg_command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn pg(&self, tool: &str, args: &[&str]) {
        let out = self
            .pg_command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .pg_command("pg_ctl")
            .args(["-D", &self.data_dir(), "-m", "immediate", "stop"])
            .output();
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
