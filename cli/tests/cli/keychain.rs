//! `curfew login` keeps the token in the real Secret Service under the desktop app's
//! service and account, later commands use it, `curfew signout` ends the session and
//! removes it. Inside `cargo xtask test` this is the run's own GNOME Keyring; elsewhere the
//! test starts a D-Bus session bus and a GNOME Keyring of its own, so it is the same real
//! store either way. Without any Secret Service, login says so and opens no session.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use curfew::api::ClientKind::{App, Web};
use curfew::api::{AuditCategory, AuditQuery};

use crate::support::*;

/// A Secret Service on a session bus: the desktop session's, or one of the test's own.
struct SecretService {
    address: String,
    _own: Option<(Child, Child, tempfile::TempDir)>,
}

fn has_secret_service(address: &str) -> bool {
    Command::new("dbus-send")
        .arg(format!("--bus={address}"))
        .args([
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
        .unwrap_or(false)
}

fn bus_config(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let socket = dir.join("bus");
    let config = dir.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .unwrap();
    (socket, config)
}

impl SecretService {
    fn get() -> SecretService {
        if let Ok(address) = std::env::var("DBUS_SESSION_BUS_ADDRESS") {
            if has_secret_service(&address) {
                return SecretService {
                    address,
                    _own: None,
                };
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let (socket, config) = bus_config(dir.path());
        let bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus)");
        until("dbus-daemon to listen", Duration::from_secs(10), || {
            socket.exists()
        });
        let address = format!("unix:path={}", socket.display());
        let runtime = dir.path().join("run");
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::create_dir_all(&runtime).unwrap();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "no Secret Service in this session and no gnome-keyring-daemon to start one \
                 (Debian package gnome-keyring; `cargo xtask test` installs it)",
            );
        {
            use std::io::Write;
            let mut stdin = keyring.stdin.take().unwrap();
            stdin.write_all(b"curfew-test").unwrap();
        }
        until(
            "GNOME Keyring on the test's bus",
            Duration::from_secs(15),
            || has_secret_service(&address),
        );
        SecretService {
            address,
            _own: Some((bus, keyring, dir)),
        }
    }

    /// What the keychain holds for the desktop app's service and `account`, read by
    /// another program (secret-tool), as the app's tests read it.
    fn lookup(&self, account: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", "dev.curfew.app", "username", account])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("secret-tool (Debian package libsecret-tools)");
        let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !token.is_empty()).then_some(token)
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        if let Some((bus, keyring, _)) = &mut self._own {
            for child in [keyring, bus] {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_keeps_the_token_in_the_secret_service_and_signout_removes_it() {
    let keychain = SecretService::get();
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let home = tempfile::tempdir().unwrap();
    let account = format!("root@{}", server.url.trim_end_matches('/'));
    let curfew = || {
        let mut c = Curfew::new(home.path());
        c.env("DBUS_SESSION_BUS_ADDRESS", &keychain.address);
        c
    };
    let profile = home.path().join("curfew/profile.json");

    // A wrong password: refused, nothing kept.
    let wrong = curfew()
        .stdin("not the password\n")
        .run(["login", "--server", &server.url, "--username", "root"])
        .expect(3);
    assert_eq!(wrong.stderr.lines().count(), 1, "{wrong:?}");
    assert_eq!(keychain.lookup(&account), None);
    assert!(!profile.exists());

    // The password from standard input (not a terminal here).
    let signed_in = curfew()
        .stdin(&format!("{PASSWORD}\n"))
        .run([
            "login",
            "--server",
            &server.url,
            "--username",
            "root",
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(signed_in["username"], "root");
    assert_eq!(signed_in["role"], "admin");
    assert!(
        signed_in["keychain"]
            .as_str()
            .unwrap()
            .contains("Secret Service"),
        "{signed_in}"
    );
    let token = keychain
        .lookup(&account)
        .expect("the token is in the Secret Service under the app's service and account");
    let session = server
        .client()
        .with_token(token.clone())
        .session()
        .await
        .unwrap();
    assert_eq!(session.username, "root");
    assert_eq!(session.client, App);
    assert_eq!(
        session.id.to_string(),
        signed_in["session_id"].as_str().unwrap()
    );
    let saved = std::fs::read_to_string(&profile).unwrap();
    assert!(
        saved.contains(&server.url) && saved.contains("root"),
        "{saved}"
    );
    assert!(
        !saved.contains(&token),
        "the token must not be in the profile"
    );

    // Later commands sign in from the profile and the keychain alone.
    let _alice = server.login("alice", Web).await;
    let users = curfew()
        .run(["users", "--online", "--json"])
        .expect(0)
        .json();
    assert_eq!(usernames(&users), ["alice", "root"]);
    let done = curfew()
        .run(["logout", "alice", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(done["sessions_revoked"], 1);

    // Signing in again with a live token (the app's or our own) keeps it: no password
    // asked, no second session.
    let again = curfew()
        .run(["login", "--server", &server.url, "--username", "root"])
        .expect(0);
    assert!(
        again.stdout.starts_with("Already signed in to "),
        "{again:?}"
    );
    assert_eq!(keychain.lookup(&account).as_deref(), Some(token.as_str()));
    let first = server.client().with_token(token.clone());
    assert_live(&first).await;
    // Once that session has ended elsewhere, login signs in anew and replaces the token.
    first.logout().await.unwrap();
    let renewed = curfew()
        .stdin(&format!("{PASSWORD}\n"))
        .run([
            "login",
            "--server",
            &server.url,
            "--username",
            "root",
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(renewed["new_session"], true);
    let second = keychain.lookup(&account).unwrap();
    assert_ne!(second, token);
    assert_live(&server.client().with_token(second.clone())).await;

    // A token for scripts: printed, not kept, and it works as CURFEW_TOKEN.
    let printed = curfew()
        .stdin(&format!("{PASSWORD}\n"))
        .run([
            "login",
            "--server",
            &server.url,
            "--username",
            "root",
            "--print-token",
        ])
        .expect(0)
        .stdout;
    let script_token = printed.trim().to_owned();
    assert_eq!(printed, format!("{script_token}\n"));
    assert_eq!(keychain.lookup(&account).as_deref(), Some(second.as_str()));
    let as_script = Curfew::new(home.path())
        .env("CURFEW_SERVER", &server.url)
        .env("CURFEW_TOKEN", &script_token)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .run(["users", "--json"])
        .expect(0)
        .json();
    assert_eq!(usernames(&as_script), ["alice", "root"]);

    let out = curfew().run(["signout"]).expect(0);
    assert!(out.stdout.starts_with("Signed out of "), "{out:?}");
    assert_revoked(&server.client().with_token(second)).await;
    assert_eq!(keychain.lookup(&account), None);
    curfew().run(["users"]).expect(3);
    // The printed token is the script's: signing out did not end it.
    assert_live(&server.client().with_token(script_token)).await;
    // Signing out twice is nothing to do, not an error.
    curfew().run(["signout"]).expect(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secret_service_login_says_so_and_opens_no_session() {
    let server = Server::start();
    server.add_user("root", "admin");
    let root = server.login("root", Web).await;
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A session bus with nothing on it: no Secret Service can be found or started there.
    let (socket, config) = bus_config(dir.path());
    let mut bus = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .arg("--nofork")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon");
    until("dbus-daemon to listen", Duration::from_secs(10), || {
        socket.exists()
    });
    let address = format!("unix:path={}", socket.display());
    for bus_address in [address.as_str(), "unix:path=/nonexistent/bus"] {
        let refused = Curfew::new(home.path())
            .env("DBUS_SESSION_BUS_ADDRESS", bus_address)
            .stdin(&format!("{PASSWORD}\n"))
            .run(["login", "--server", &server.url, "--username", "root"])
            .expect(1);
        assert!(
            refused.stderr.contains("system keyring")
                && refused.stderr.contains("CURFEW_TOKEN or --token-file"),
            "{bus_address}: {refused:?}"
        );
        assert_eq!(refused.stderr.lines().count(), 1, "{refused:?}");
    }
    assert!(!home.path().join("curfew/profile.json").exists());
    // No session was opened that nothing would hold.
    let users = root.users(&Default::default()).await.unwrap().users;
    assert_eq!(users[0].app_sessions, 0, "{users:?}");
    // Not even one opened and ended again: the only sign-in is the test's own.
    let sign_ins = root
        .audit(&AuditQuery {
            category: Some(AuditCategory::SignIn),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .entries;
    assert_eq!(sign_ins.len(), 1, "{sign_ins:?}");
    // Scripts need no keychain.
    Curfew::with_token(home.path(), &server, &root)
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .run(["users", "--json"])
        .expect(0);
    let _ = bus.kill();
    let _ = bus.wait();
}
