//! What every Curfew test shares, so that there is one way to make a test database and one
//! way to pick a port: the server's router tests, the end-to-end tests and the benches all
//! come here.
//!
//! Invariant: every PostgreSQL database a test creates is named `curfew_test_*` and is
//! dropped when its [`PgDatabase`] guard goes; `cargo xtask test` drops any that a crashed
//! run left behind.

use std::path::PathBuf;
use std::process::Command;

pub mod gate;

/// The curfewd binary: `CURFEWD_BIN` (set by `cargo xtask test`), else the workspace's
/// debug build.
pub fn curfewd_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("CURFEWD_BIN") {
        return PathBuf::from(path);
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/debug")
        .join(format!("curfewd{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "no curfewd at {}: run `cargo xtask test`, or `cargo build -p curfew-server --bin curfewd` first",
        path.display()
    );
    path
}

/// A new, empty database on the backend `CURFEW_TEST_BACKEND` names: `sqlite` (the
/// default) puts a file in `dir`; `postgres` creates a database on the server at
/// `CURFEW_TEST_POSTGRES` (which `cargo xtask test` starts). Keep the guard alive as long
/// as the database is used.
pub fn test_database(dir: &std::path::Path) -> (String, Option<PgDatabase>) {
    match std::env::var("CURFEW_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let database = postgres_database();
            (database.url.clone(), Some(database))
        }
        Ok("sqlite") | Err(_) => (
            format!("sqlite://{}", dir.join("curfew.db").display()),
            None,
        ),
        Ok(other) => panic!("CURFEW_TEST_BACKEND={other:?}: use sqlite or postgres"),
    }
}

/// The administrative URL of the test PostgreSQL server.
pub fn postgres_admin_url() -> String {
    std::env::var("CURFEW_TEST_POSTGRES").expect(
        "set CURFEW_TEST_POSTGRES=postgres://USER:PASSWORD@HOST/postgres, or run `cargo xtask test`, which starts PostgreSQL",
    )
}

/// A test's own PostgreSQL database, dropped when the test is done with it (and by
/// `cargo xtask test` if the test died first).
pub struct PgDatabase {
    pub url: String,
    name: String,
    admin: String,
}

/// Creates a database named `curfew_test_*` on the server at `CURFEW_TEST_POSTGRES`.
pub fn postgres_database() -> PgDatabase {
    let admin = postgres_admin_url();
    let name = format!("curfew_test_{}", uuid::Uuid::new_v4().simple());
    let out = Command::new("psql")
        .args([&admin, "-v", "ON_ERROR_STOP=1", "-qc"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("psql (Debian package postgresql-client)");
    assert!(
        out.status.success(),
        "cannot create a test database: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (base, _) = admin.rsplit_once('/').expect("URL with a database");
    PgDatabase {
        url: format!("{base}/{name}"),
        name,
        admin,
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // psql, not sqlx: `Drop` cannot wait for a future.
        let _ = Command::new("psql")
            .args([&self.admin, "-qc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

/// Creates a user with `curfewd user add`, the password given on standard input.
pub fn add_user(database_url: &str, username: &str, role: &str, password: &str) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(curfewd_bin())
        .args([
            "user",
            "add",
            "--database-url",
            database_url,
            "--username",
            username,
            "--role",
            role,
            "--password-stdin",
        ])
        .env("CURFEW_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curfewd user add");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "user add {username} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A TCP port on loopback that nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port()
}
