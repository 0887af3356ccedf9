//! Several curfewd instances on one PostgreSQL database, as behind a load balancer: what
//! is done through one instance reaches streams connected to the other within a second,
//! each maintenance step runs once even when an instance is killed, and a PostgreSQL
//! restart is survived. These always run on PostgreSQL (`CURFEW_TEST_POSTGRES`).

use std::time::{Duration, Instant};

use chrono::Utc;
use curfew::api::{
    AdminEvent, AuditAction, ClientKind, Notice, RevocationReason, StepKind, StepState, WindowState,
};
use curfew::{Client, ClientOptions, EventStream, NoticeStream};

use crate::maintenance::{
    next_notice, request, step, the_one_maintenance_logout, try_login, wait_for_window,
};
use crate::sessions::user_id;
use crate::support::{assert_rejected, postgres_database, PrivatePostgres, Server};

/// The same session, talking to another instance.
fn on(server: &Server, client: &Client) -> Client {
    server
        .client()
        .with_token(client.token().expect("signed in"))
}

/// A client that does not retry, to see each answer while the database is down.
fn impatient(server: &Server, client: &Client) -> Client {
    Client::with_options(
        &server.url,
        ClientOptions {
            retries: 0,
            ..ClientOptions::default()
        },
    )
    .expect("client")
    .with_token(client.token().expect("signed in"))
}

async fn expect_revoked(stream: &mut NoticeStream, reason: RevocationReason, within: Duration) {
    match next_notice(stream, within).await {
        Notice::SessionRevoked(revoked) => assert_eq!(revoked.reason, reason),
        other => panic!("expected session_revoked, got {other:?}"),
    }
}

/// The next event that is not the audit's announcement of a new entry (sign-ins and
/// schedulings have one of their own).
async fn next_event(events: &mut EventStream<AdminEvent>, within: Duration) -> AdminEvent {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("no event in time")
            .expect("event stream ended")
            .expect("event");
        if !matches!(event, AdminEvent::AuditRecorded { .. }) {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_instance_does_reaches_streams_on_the_other_within_a_second() {
    let database = postgres_database();
    let a = Server::start_on(&database.url);
    let b = Server::start_on(&database.url);
    a.add_user("root", "admin");
    for name in ["m1", "m2", "m3"] {
        a.add_user(name, "member");
    }
    let (root_a, _) = a.login("root", ClientKind::App).await;
    let root_b = on(&b, &root_a);
    let mut events_b = root_b.admin_events().await.unwrap();
    let (m1, _) = a.login("m1", ClientKind::App).await;
    let mut m1_stream_b = on(&b, &m1).notice_stream().await.unwrap();
    let (m2_b, _) = b.login("m2", ClientKind::Web).await;
    let mut m2_stream_b = m2_b.notice_stream().await.unwrap();
    let (m3, _) = a.login("m3", ClientKind::Web).await;
    let mut m3_stream_a = m3.notice_stream().await.unwrap();

    // One user's logout through A: their stream on B ends, their token fails on B.
    let m1_id = user_id(&root_a, "m1").await;
    root_a.logout_user(m1_id).await.unwrap();
    expect_revoked(
        &mut m1_stream_b,
        RevocationReason::AdminLogout,
        Duration::from_secs(1),
    )
    .await;
    assert_rejected(&on(&b, &m1), "session_revoked").await;
    // B's administrator hears of it too, so its lists follow.
    match next_event(&mut events_b, Duration::from_secs(1)).await {
        AdminEvent::UsersChanged {
            action, user_id, ..
        } => assert_eq!((action, user_id), (AuditAction::LogoutUser, Some(m1_id))),
        other => panic!("expected users_changed on B, got {other:?}"),
    }

    // A warning, run by whichever instance claims it, reaches streams on both.
    let created = root_a
        .schedule_maintenance(&request(30_000, None, &[60], 10))
        .await
        .unwrap();
    for stream in [&mut m2_stream_b, &mut m3_stream_a] {
        match next_notice(stream, Duration::from_secs(2)).await {
            Notice::MaintenanceWarning(w) => assert_eq!(w.window_id, created.id),
            other => panic!("expected the warning, got {other:?}"),
        }
    }
    let sent = wait_for_window(&root_a, created.id, "the warning", |w| {
        step(w, StepKind::Warning, 60).state == StepState::Done
    })
    .await;
    let ran_at = step(&sent, StepKind::Warning, 60).ran_at.expect("ran");
    let delay = Utc::now() - ran_at;
    assert!(
        delay < chrono::Duration::seconds(1),
        "both streams had the warning only {delay} after it was sent"
    );
    match next_event(&mut events_b, Duration::from_secs(1)).await {
        AdminEvent::WarningSent { window_id, .. } => assert_eq!(window_id, created.id),
        other => panic!("expected warning_sent on B, got {other:?}"),
    }

    // Cancelling through A: B's streams are told, and the event reaches B's administrator.
    let started = Instant::now();
    root_a.cancel_maintenance(created.id).await.unwrap();
    match next_notice(&mut m2_stream_b, Duration::from_secs(1)).await {
        Notice::MaintenanceCancelled(c) => assert_eq!(c.window_id, created.id),
        other => panic!("expected the cancellation, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    loop {
        match next_event(&mut events_b, Duration::from_secs(1)).await {
            AdminEvent::WindowCancelled { window_id } => break assert_eq!(window_id, created.id),
            AdminEvent::FreezeStarted { .. } => continue,
            other => panic!("expected window_cancelled on B, got {other:?}"),
        }
    }
    // The cancellation also reached A's stream, which comes first below.
    assert!(matches!(
        next_notice(&mut m3_stream_a, Duration::from_secs(1)).await,
        Notice::MaintenanceCancelled(_)
    ));

    // Logout-all through A: B refuses the tokens at their next request and ends B's streams.
    let result = root_a.logout_all(false).await.unwrap();
    assert_eq!(result.sessions_revoked, 2, "m2 and m3 (m1 is already out)");
    assert_rejected(&m2_b, "session_revoked").await;
    expect_revoked(
        &mut m2_stream_b,
        RevocationReason::LogoutAll,
        Duration::from_secs(1),
    )
    .await;
    expect_revoked(
        &mut m3_stream_a,
        RevocationReason::LogoutAll,
        Duration::from_secs(1),
    )
    .await;
    root_b
        .admin_me()
        .await
        .expect("the caller keeps working on B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_runs_once_on_two_instances_also_when_one_is_killed() {
    let database = postgres_database();
    let mut a = Server::start_on(&database.url);
    let b = Server::start_on(&database.url);
    a.add_user("root", "admin");
    a.add_user("watcher", "member");
    for i in 0..10 {
        a.add_user(&format!("u{i}"), "member");
    }
    let (root_b, _) = b.login("root", ClientKind::App).await;
    let mut members = Vec::new();
    for i in 0..10 {
        let server = if i % 2 == 0 { &a } else { &b };
        members.push(server.login(&format!("u{i}"), ClientKind::App).await.0);
    }
    let (watcher, _) = b.login("watcher", ClientKind::Web).await;
    let mut stream = watcher.notice_stream().await.unwrap();

    // Warnings 5, 4, 3, 2 and 1 s before a start 5.5 s away; both schedulers race for each.
    let created = root_b
        .schedule_maintenance(&request(5_500, Some(2_000), &[5, 4, 3, 2, 1], 1))
        .await
        .unwrap();
    wait_for_window(&root_b, created.id, "the third warning", |w| {
        step(w, StepKind::Warning, 3).state == StepState::Done
    })
    .await;
    // Between steps (the next is a second away): A dies, B carries on alone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.kill9();

    let mut warnings = 0;
    loop {
        match next_notice(&mut stream, Duration::from_secs(10)).await {
            Notice::MaintenanceWarning(w) => {
                assert_eq!(w.window_id, created.id);
                warnings += 1;
            }
            Notice::SessionRevoked(r) => break assert_eq!(r.reason, RevocationReason::Maintenance),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(warnings, 5, "each warning exactly once");
    let ended = wait_for_window(&root_b, created.id, "the end", |w| {
        w.state == WindowState::Ended
    })
    .await;
    for s in &ended.steps {
        assert_eq!(s.state, StepState::Done, "{s:#?}");
    }
    assert_eq!(
        step(&ended, StepKind::Logout, 0).detail.as_ref().unwrap()["sessions_revoked"],
        11
    );
    for member in &members {
        assert_rejected(&on(&b, member), "session_revoked").await;
    }
    assert_eq!(
        the_one_maintenance_logout(&root_b).await.sessions_revoked,
        11
    );
    try_login(&b, "u0")
        .await
        .expect("sign-ins reopen at the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_fails_requests_cleanly_then_recovers() {
    let postgres = PrivatePostgres::start();
    let database = postgres.create_database("curfew");
    let a = Server::start_on(&database);
    let b = Server::start_on(&database);
    a.add_user("root", "admin");
    a.add_user("m1", "member");
    let (root, _) = a.login("root", ClientKind::App).await;
    let (m1, _) = a.login("m1", ClientKind::Web).await;

    postgres.stop_server();
    let started = Instant::now();
    let refused = impatient(&a, &m1).session().await.unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(503), Some("unavailable")),
        "{refused}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "a request waited {:?} for the database",
        started.elapsed()
    );
    let refused = try_login(&b, "m1").await.unwrap_err();
    assert_eq!(refused.status(), Some(503), "{refused}");

    postgres.start_server();
    let deadline = Instant::now() + Duration::from_secs(20);
    while impatient(&a, &m1).session().await.is_err() || try_login(&b, "m1").await.is_err() {
        assert!(Instant::now() < deadline, "curfewd did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The instances hear each other again: a logout through A ends a stream on B within a
    // second, once B's listener has reconnected (it retries with a back-off of up to 5 s).
    let deadline = Instant::now() + Duration::from_secs(20);
    let m1_id = user_id(&root, "m1").await;
    loop {
        let (m1, _) = a.login("m1", ClientKind::Web).await;
        let mut stream_b = on(&b, &m1).notice_stream().await.unwrap();
        root.logout_user(m1_id).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(1), stream_b.next()).await {
            Ok(Some(Ok(Notice::SessionRevoked(r)))) => {
                break assert_eq!(r.reason, RevocationReason::AdminLogout);
            }
            Err(_) => assert!(
                Instant::now() < deadline,
                "B's streams never heard of A's logouts again"
            ),
            other => panic!("unexpected on B's stream: {other:?}"),
        }
    }
}
