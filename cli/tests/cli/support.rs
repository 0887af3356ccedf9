//! A real curfewd per test (on a curfew-testkit database) and the `curfew` binary run as a
//! script would run it: no terminal, its own config dir, no inherited token.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use curfew::api::{ClientKind, LoginRequest};
use curfew::Client;
use curfew_testkit::{test_database, PgDatabase};

pub const PASSWORD: &str = "correct horse battery";

pub use curfew_testkit::curfewd_bin;

pub struct Server {
    child: Child,
    pub url: String,
    database_url: String,
    log: PathBuf,
    _database: Option<PgDatabase>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, database) = test_database(dir.path());
        let log = dir.path().join("curfewd.log");
        let mut child = Command::new(curfewd_bin())
            .args([
                "serve",
                "--database-url",
                &database_url,
                "--bind",
                "127.0.0.1:0",
            ])
            .args(["--login-per-minute-per-account", "100000"])
            .args(["--login-per-minute-per-address", "100000"])
            .env("CURFEW_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
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
            .unwrap_or_else(|_| {
                panic!(
                    "curfewd did not start in 30 s; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        let url = line
            .trim()
            .strip_prefix("curfewd listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Server {
            child,
            url,
            database_url,
            log,
            _database: database,
            _dir: dir,
        }
    }

    /// `curfewd user add`, through curfewd's own command line.
    pub fn add_user(&self, username: &str, role: &str) {
        curfew_testkit::add_user(&self.database_url, username, role, PASSWORD);
    }

    /// `curfewd ARGS --database-url <this server's database>`: curfewd's own command line
    /// on the same database, as an operator on the server runs it.
    pub fn curfewd(&self, args: &[&str]) -> Run {
        let out = Command::new(curfewd_bin())
            .args(args)
            .args(["--database-url", &self.database_url])
            .env("CURFEW_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("run curfewd");
        Run {
            code: out.status.code().expect("exited"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url).expect("client")
    }

    /// A new session of `username`, through the library.
    pub async fn login(&self, username: &str, kind: ClientKind) -> Client {
        self.client()
            .login(&LoginRequest {
                username: username.into(),
                password: PASSWORD.into(),
                client: kind,
                device_name: None,
            })
            .await
            .unwrap_or_else(|e| panic!("login {username}: {e}; log:\n{}", self.log_text()))
            .0
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one run of `curfew` did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// Panics unless the exit code is `code`.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, code, "{self:#?}");
        self
    }
}

/// One invocation of the `curfew` binary, with standard input not a terminal.
pub struct Curfew {
    command: Command,
    stdin: Option<String>,
}

impl Curfew {
    /// `curfew` with `config` as its config dir and nothing inherited that signs it in.
    pub fn new(config: &Path) -> Curfew {
        let mut command = Command::new(env!("CARGO_BIN_EXE_curfew"));
        command
            .env("XDG_CONFIG_HOME", config)
            .env_remove("CURFEW_TOKEN")
            .env_remove("CURFEW_SERVER");
        Curfew {
            command,
            stdin: None,
        }
    }

    /// Signed in the way scripts are: `CURFEW_SERVER` and `CURFEW_TOKEN`.
    pub fn with_token(config: &Path, server: &Server, client: &Client) -> Curfew {
        let mut curfew = Curfew::new(config);
        curfew
            .env("CURFEW_SERVER", &server.url)
            .env("CURFEW_TOKEN", client.token().expect("signed in"));
        curfew
    }

    pub fn env(&mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> &mut Curfew {
        self.command.env(key, value);
        self
    }

    pub fn stdin(&mut self, text: &str) -> &mut Curfew {
        self.stdin = Some(text.to_owned());
        self
    }

    /// `run` with two lists of arguments, one after the other.
    pub fn args_then<const N: usize, const M: usize>(
        &mut self,
        first: [&str; N],
        then: [&str; M],
    ) -> Run {
        self.run(first.into_iter().chain(then))
    }

    pub fn run<I, S>(&mut self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut child = self
            .command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run curfew");
        let mut stdin = child.stdin.take().unwrap();
        if let Some(text) = self.stdin.take() {
            stdin.write_all(text.as_bytes()).unwrap();
        }
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().expect("exited"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `curfew ARGS` on a pseudo-terminal (util-linux `script`), with `input` typed into it.
/// Standard output and error both come back in `stdout`, as a terminal shows them.
pub fn on_terminal(config: &Path, env: &[(&str, &str)], args: &[&str], input: &str) -> Run {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_curfew"));
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    let mut command = Command::new("script");
    command
        .args(["-qec", &line, "/dev/null"])
        .env("XDG_CONFIG_HOME", config)
        .env_remove("CURFEW_TOKEN")
        .env_remove("CURFEW_SERVER");
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (Debian package util-linux)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Waits until `condition` holds, or panics after `within` naming `what`.
pub fn until(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Panics unless `client`'s token is refused now.
pub async fn assert_revoked(client: &Client) {
    match client.session().await {
        Err(e) if e.status() == Some(401) => {}
        other => panic!("expected the session to be ended, got {other:?}"),
    }
}

pub async fn assert_live(client: &Client) {
    client
        .session()
        .await
        .unwrap_or_else(|e| panic!("expected the session to be live: {e}"));
}

/// The usernames in a `--json` list of users.
pub fn usernames(value: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = value["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}
