//! Clients that hold resources: slow headers, idle keep-alive connections, more
//! connections than allowed, more notice streams than allowed. curfewd bounds each and
//! keeps serving everyone else.

use std::time::{Duration, Instant};

use curfew::api::ClientKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Server, ServerOptions};

fn with_args(args: &[&str]) -> ServerOptions {
    ServerOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..ServerOptions::default()
    }
}

fn address(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

/// Waits until the server closes `stream` (a read gives end of file or an error), at most
/// `within`; returns how long it took.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(
            within.saturating_sub(started.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

async fn healthy(server: &Server) -> bool {
    reqwest::get(format!("{}/healthz", server.url))
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[tokio::test]
async fn slow_headers_and_idle_keep_alive_connections_are_closed() {
    let server = Server::start_with(with_args(&["--header-timeout-secs", "2"]));
    let address = address(&server);
    // One header line every half second: never a whole request.
    let mut slow = TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let dripping = async {
        for n in 0..20 {
            if slow
                .write_all(format!("X-Drip-{n}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(4), dripping).await;
    let closed = closed_within(&mut slow, Duration::from_secs(2)).await;
    assert!(
        closed.is_some(),
        "a connection dripping headers stayed open past the timeout"
    );

    // A keep-alive connection that answered one request and then waits.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let took = closed_within(&mut idle, Duration::from_secs(6)).await;
    let took = took.expect("an idle keep-alive connection stayed open past the timeout");
    assert!(
        took >= Duration::from_millis(1500),
        "closed too early: {took:?}"
    );
    assert!(healthy(&server).await);
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once_and_the_rest_keep_working() {
    let server = Server::start_with(with_args(&[
        "--max-connections",
        "4",
        "--header-timeout-secs",
        "60",
    ]));
    let address = address(&server);
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    // Give the server time to accept all four: a fifth must then be closed at once.
    let deadline = Instant::now() + Duration::from_secs(5);
    let refused = loop {
        let mut extra = TcpStream::connect(&address).await.unwrap();
        if closed_within(&mut extra, Duration::from_millis(300))
            .await
            .is_some()
        {
            break true;
        }
        drop(extra);
        if Instant::now() > deadline {
            break false;
        }
    };
    assert!(
        refused,
        "a fifth connection was kept open with a cap of four"
    );
    // Free one: the server serves again.
    held.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !healthy(&server).await {
        assert!(
            Instant::now() < deadline,
            "no connection served after one closed"
        );
    }
    assert!(server.log_text().contains("connection limit reached"));
}

#[cfg(target_os = "linux")]
#[test]
fn the_soft_open_file_limit_is_raised_to_the_hard_one() {
    let server = Server::start_with(ServerOptions {
        soft_open_files: Some(256),
        ..ServerOptions::default()
    });
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("the open-file limit");
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers[0], numbers[1], "soft and hard limits: {line}");
    assert_ne!(numbers[0], "256", "started at 256: {line}");
}

#[tokio::test]
async fn notice_streams_are_bounded_per_sign_in_and_per_user() {
    let server = Server::start_with(with_args(&[
        "--streams-per-session",
        "3",
        "--streams-per-user",
        "4",
    ]));
    server.add_user("ivy", "member");
    server.add_user("root", "admin");
    let (ivy, _) = server.login("ivy", ClientKind::Web).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(ivy.notice_stream().await.expect("within the limit"));
    }
    let refused = ivy
        .notice_stream()
        .await
        .err()
        .expect("a fourth stream of one sign-in");
    assert_eq!(refused.code(), Some("too_many_streams"), "{refused}");
    assert_eq!(refused.status(), Some(429));
    // Another sign-in of the same user: one more, then the user's limit.
    let (ivy_phone, _) = server.login("ivy", ClientKind::App).await;
    open.push(ivy_phone.notice_stream().await.expect("the user's fourth"));
    let refused = ivy_phone
        .notice_stream()
        .await
        .err()
        .expect("past the user's limit");
    assert_eq!(refused.code(), Some("too_many_streams"));
    // Others are unaffected, and closing one frees its place.
    let (root, _) = server.login("root", ClientKind::App).await;
    let _events = root
        .admin_events()
        .await
        .expect("an administrator's stream");
    open.remove(0);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match ivy.notice_stream().await {
            Ok(stream) => break open.push(stream),
            Err(e) if Instant::now() < deadline && e.code() == Some("too_many_streams") => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("a closed stream's place was not freed: {e}"),
        }
    }
}
