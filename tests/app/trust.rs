//! What the admin is told when trust breaks: a server whose certificate this computer
//! does not trust, and a desktop with no keychain running (a D-Bus session without a
//! Secret Service), where signing in still works without "Remember me".

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::driver::App;
use crate::support::{free_port, Server, PASSWORD};

/// `openssl s_server` with a self-signed certificate: TLS that no one trusts.
struct UntrustedTls {
    child: Child,
    port: u16,
}

impl UntrustedTls {
    fn start(dir: &Path) -> UntrustedTls {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let port = free_port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(port.to_string())
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "openssl s_server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        UntrustedTls { child, port }
    }
}

impl Drop for UntrustedTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A D-Bus session bus of its own with nothing on it: no Secret Service can be found or
/// started there.
struct EmptyBus {
    child: Child,
    address: String,
}

impl EmptyBus {
    fn start(dir: &Path) -> EmptyBus {
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
        let child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "dbus-daemon did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        EmptyBus {
            child,
            address: format!("unix:path={}", socket.display()),
        }
    }
}

impl Drop for EmptyBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_this_computer_does_not_trust_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let tls = UntrustedTls::start(dir.path());
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("untrusted-tls", config_home.path(), 0).await;
    app.sign_in(
        &format!("https://127.0.0.1:{}", tls.port),
        "root",
        PASSWORD,
        false,
    )
    .await;
    let text = app
        .text_containing("#signin-error", "The secure connection to")
        .await;
    assert!(
        text.contains("certificate is valid") && text.contains("TLS:"),
        "{text}"
    );
    app.visible("#signin-view").await;
    app.shot("untrusted-certificate").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_the_admin_is_told_and_signs_in_without_remembering() {
    let server = Server::start();
    server.add_user("root", "admin");
    let dir = tempfile::tempdir().unwrap();
    let bus = EmptyBus::start(dir.path());
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch_with(
        "no-keychain",
        config_home.path(),
        0,
        &[("DBUS_SESSION_BUS_ADDRESS", bus.address.as_str())],
    )
    .await;
    app.sign_in(&server.url, "root", PASSWORD, true).await;
    let text = app.text_containing("#signin-error", "system keyring").await;
    assert!(
        text.contains("sign in without \"Remember me\""),
        "the sentence says what to do: {text}"
    );
    app.shot("no-keychain").await;
    app.click("#signin-without-remember").await;
    app.visible("#shell").await;
    app.text_containing("#users-body", "root").await;
    app.shot("signed-in-without-remembering").await;
    app.quit().await;
}
