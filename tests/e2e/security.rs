//! Secrets stay out of logs, logins are throttled, bodies are bounded, shutdown is graceful.

use std::time::Duration;

use curfew::api::{ClientKind, LoginRequest};

use crate::support::{Server, ServerOptions, PASSWORD};

#[tokio::test]
async fn no_token_or_password_reaches_the_log() {
    let mut server = Server::start_with(ServerOptions {
        log_level: "trace",
        ..ServerOptions::default()
    });
    server.add_user("root", "admin");
    server.add_user("frank", "member");
    let (root, root_login) = server.login("root", ClientKind::App).await;
    let (frank, frank_login) = server.login("frank", ClientKind::Web).await;
    frank.session().await.unwrap();
    let mut stream = frank.notice_stream().await.unwrap();
    root.users(&Default::default()).await.unwrap();
    root.logout_all(false).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
    let _ = server
        .client()
        .login(&LoginRequest {
            username: "frank".into(),
            password: "a wrong password".into(),
            client: ClientKind::App,
            device_name: None,
        })
        .await;
    server.terminate(Duration::from_secs(15));
    let log = server.log_text();
    assert!(
        log.contains("signed in"),
        "the log is not being written:\n{log}"
    );
    for secret in [
        root_login.token.as_str(),
        frank_login.token.as_str(),
        PASSWORD,
        "a wrong password",
    ] {
        assert!(!log.contains(secret), "a secret reached the log: {secret}");
    }
}

#[tokio::test]
async fn logins_are_rate_limited_per_account_with_retry_after() {
    let server = Server::start_with(ServerOptions {
        login_per_minute_per_account: 3,
        ..ServerOptions::default()
    });
    server.add_user("gina", "member");
    server.add_user("hal", "member");
    // Signing in spends nothing: only wrong passwords count against an account.
    for _ in 0..4 {
        server.login("gina", ClientKind::App).await;
    }
    for _ in 0..3 {
        let wrong = server
            .client()
            .login(&LoginRequest {
                username: "gina".into(),
                password: "a wrong password".into(),
                client: ClientKind::App,
                device_name: None,
            })
            .await
            .unwrap_err();
        assert_eq!(wrong.code(), Some("invalid_credentials"), "{wrong:?}");
    }
    let limited = server
        .client()
        .login(&LoginRequest {
            username: "gina".into(),
            password: PASSWORD.into(),
            client: ClientKind::App,
            device_name: None,
        })
        .await
        .unwrap_err();
    match &limited {
        curfew::Error::Api {
            status: 429,
            code,
            retry_after: Some(seconds),
            ..
        } => {
            assert_eq!(code, "rate_limited");
            assert!((1..=60).contains(seconds), "Retry-After {seconds}");
        }
        other => panic!("expected 429 with Retry-After, got {other:?}"),
    }
    // Another account from the same address is not held back by gina's limit.
    server.login("hal", ClientKind::App).await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start();
    let address = server.url.trim_start_matches("http://").to_owned();
    let size = 10 * 1024 * 1024;
    // Raw TCP: the server answers 413 and closes while a client is still sending, which
    // an ordinary client reports as a broken pipe instead of the answer.
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {size}\r\nConnection: close\r\n\r\n"
    );
    // The writer is kept (not shut down) until the answer is read, as an ordinary client
    // keeps its connection.
    let sender = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&vec![b'a'; size]).await;
        writer
    });
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer))
        .await
        .expect("no answer within 10 s")
        .unwrap();
    sender.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{answer}; log:\n{}",
        server.log_text()
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body: curfew::api::ErrorBody = serde_json::from_str(body).unwrap();
    assert_eq!(body.error, "body_too_large");
    assert!(body.message.contains("KiB"), "{}", body.message);
}

/// As Python's urllib does: the whole 12 MB body is written before the answer is read.
/// The server reads and discards it, then answers 413; without that, closing with
/// unread data resets the connection and the client never sees the answer.
#[tokio::test]
async fn a_client_that_writes_its_whole_body_first_still_reads_the_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start();
    let address = server.url.trim_start_matches("http://").to_owned();
    let size = 12 * 1024 * 1024;
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {size}\r\n\r\n"
    );
    tokio::time::timeout(Duration::from_secs(20), async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&vec![b'a'; size]).await
    })
    .await
    .expect("the whole body is taken within 20 s")
    .expect("the server reads the body instead of resetting the connection");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 10 s")
        .expect("the answer, not a reset");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
}

#[tokio::test]
async fn sigterm_closes_streams_and_exits_cleanly() {
    let mut server = Server::start();
    server.add_user("ivy", "member");
    let (ivy, _) = server.login("ivy", ClientKind::Web).await;
    let mut stream = ivy.notice_stream().await.unwrap();
    let status = server.terminate(Duration::from_secs(15));
    assert!(status.success(), "curfewd exited with {status}");
    // The stream ends without session_revoked: the client may reconnect elsewhere.
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("stream still open after shutdown");
    assert!(
        !matches!(end, Some(Ok(curfew::api::Notice::SessionRevoked(_)))),
        "shutdown must not look like a revocation"
    );
}

/// Runs `curfewd serve` on `database_url` and expects it to refuse at once: its exit
/// status and what it printed.
fn second_curfewd(database_url: &str) -> (std::process::ExitStatus, String) {
    use std::process::{Command, Stdio};
    let mut child = Command::new(crate::support::curfewd_bin())
        .args([
            "serve",
            "--database-url",
            database_url,
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a second curfewd");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            let text = String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout);
            return (status, text);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("a second curfewd on the same SQLite file kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_file_is_private_and_serves_one_curfewd_at_a_time() {
    use std::os::unix::fs::PermissionsExt;
    let mut server = Server::start();
    let Some(file) = server
        .database_url
        .strip_prefix("sqlite://")
        .map(str::to_owned)
    else {
        return; // PostgreSQL: several instances are the point (see instances.rs).
    };
    server.add_user("root", "admin");
    // A sign-in writes, so the WAL and its index exist.
    let (root, _) = server.login("root", ClientKind::App).await;
    root.session().await.unwrap();
    for path in [file.clone(), format!("{file}-wal"), format!("{file}-shm")] {
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{path} holds password and token hashes");
    }

    let (status, text) = second_curfewd(&server.database_url);
    assert!(!status.success(), "{text}");
    assert!(
        text.contains("is already serving the database") && text.contains("PostgreSQL"),
        "the refusal says why and what to do instead: {text}"
    );
    assert!(!text.contains("listening"), "{text}");
    // The first one is untouched, and once it stops the file is free again.
    root.session()
        .await
        .expect("the first curfewd still serves");
    server.terminate(Duration::from_secs(15));
    server.restart();
    let (again, _) = server.login("root", ClientKind::Web).await;
    again.session().await.unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn an_existing_database_readable_by_others_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let mut server = Server::start();
    let Some(file) = server
        .database_url
        .strip_prefix("sqlite://")
        .map(str::to_owned)
    else {
        return;
    };
    server.terminate(Duration::from_secs(15));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    server.restart();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        server.log_text().contains("making it private"),
        "{}",
        server.log_text()
    );
}

/// The line a fail2ban filter matches, documented in the README: one line per refused or
/// throttled sign-in, with the address after `address=`.
fn sign_in_refusals(log: &str) -> Vec<(String, String)> {
    log.lines()
        .filter(|l| l.contains(" sign-in failed ") || l.contains(" sign-in throttled "))
        .map(|l| {
            let field = |name: &str| {
                l.split_once(&format!(" {name}="))
                    .map(|(_, rest)| rest.split(' ').next().unwrap_or("").trim_matches('"'))
                    .unwrap_or("")
                    .to_owned()
            };
            (field("username"), field("address"))
        })
        .collect()
}

#[tokio::test]
async fn refused_and_throttled_sign_ins_are_logged_with_username_and_address() {
    let server = Server::start_with(ServerOptions {
        login_per_minute_per_account: 2,
        ..ServerOptions::default()
    });
    server.add_user("alice", "member");
    let client = server.client();
    for password in ["guess one", "guess two", "guess three"] {
        let _ = client
            .login(&LoginRequest {
                username: "alice".into(),
                password: password.into(),
                client: ClientKind::Web,
                device_name: None,
            })
            .await;
    }
    let log = server.log_text();
    assert_eq!(
        sign_in_refusals(&log),
        vec![
            ("alice".to_owned(), "127.0.0.1".to_owned()),
            ("alice".to_owned(), "127.0.0.1".to_owned()),
            ("alice".to_owned(), "127.0.0.1".to_owned()),
        ],
        "{log}"
    );
    assert!(log.contains("sign-in throttled"), "{log}");
    assert!(!log.contains("guess"), "no password in the log");
    assert!(
        !log.contains('\u{1b}'),
        "plain lines, no colour codes: {log}"
    );
}
