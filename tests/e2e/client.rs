//! The `curfew` client library against a real curfewd: typed errors with sentences,
//! retries only where a request is idempotent.

use std::time::{Duration, Instant};

use curfew::api::{ClientKind, LoginRequest};
use curfew::{Client, ClientOptions, Error};

use crate::support::{free_port, Server, ServerOptions, PASSWORD};

#[tokio::test]
async fn errors_are_typed_and_say_what_to_do() {
    let server = Server::start();
    server.add_user("erin", "member");
    let wrong = server
        .client()
        .login(&LoginRequest {
            username: "erin".into(),
            password: "not her password".into(),
            client: ClientKind::App,
            device_name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.status(), wrong.code()),
        (Some(401), Some("invalid_credentials"))
    );
    assert!(
        wrong.to_string().contains("Wrong username or password"),
        "{wrong}"
    );

    let (erin, _) = server.login("erin", ClientKind::App).await;
    let forbidden = erin.admin_me().await.unwrap_err();
    assert_eq!(
        (forbidden.status(), forbidden.code()),
        (Some(403), Some("not_an_administrator"))
    );
    assert!(
        forbidden.to_string().contains("administrator"),
        "{forbidden}"
    );

    let anonymous = server.client().session().await.unwrap_err();
    assert!(anonymous.is_unauthorized());

    // A plain-HTTP client speaking TLS to curfewd's plain port is a TLS failure.
    let tls_url = server.url.replace("http://", "https://");
    let tls = Client::new(&tls_url).unwrap().session().await.unwrap_err();
    assert!(
        matches!(tls, Error::Tls { .. }),
        "expected a TLS error, got {tls:?}"
    );
    assert!(tls.to_string().contains("secure connection"), "{tls}");

    assert!(matches!(
        Client::new("http://curfew.example.com"),
        Err(Error::InsecureUrl(_))
    ));
}

#[tokio::test]
async fn unreachable_servers_are_named_and_posts_are_not_retried() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let options = ClientOptions {
        retries: 2,
        retry_delay: Duration::from_secs(2),
        ..ClientOptions::default()
    };
    let client = Client::with_options(&url, options).unwrap().with_token("x");
    let started = Instant::now();
    let error = client.logout_all(false).await.unwrap_err();
    assert!(matches!(error, Error::Unreachable { .. }), "{error:?}");
    assert!(error.to_string().contains("Could not reach"), "{error}");
    // A retry would have waited at least the 2 s back-off first.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a POST was retried ({:?})",
        started.elapsed()
    );
}

#[tokio::test]
async fn idempotent_requests_retry_until_the_server_is_up() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let options = ClientOptions {
        retries: 8,
        retry_delay: Duration::from_millis(100),
        ..ClientOptions::default()
    };
    let client = Client::with_options(&url, options).unwrap();
    // The GET starts while nothing listens; the server comes up during its back-off.
    let request = tokio::spawn(async move { client.notices().await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let _server = Server::start_with(ServerOptions {
        bind: format!("127.0.0.1:{port}"),
        ..ServerOptions::default()
    });
    let answer = tokio::time::timeout(Duration::from_secs(60), request)
        .await
        .expect("retrying GET did not finish")
        .unwrap();
    // It reached the server: the answer is the server's 401, not a connection error.
    let error = answer.unwrap_err();
    assert_eq!(error.code(), Some("missing_token"), "{error:?}");
    let _ = PASSWORD;
}
