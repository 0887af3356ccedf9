//! Maintenance windows run by a real curfewd: the warning cadence, the immediate warning,
//! the login freeze, one mass logout, the end, cancelling, and restarts with SIGKILL.

use std::time::Duration;

use chrono::Utc;
use curfew::api::{
    AdminEvent, AuditAction, AuditQuery, ClientKind, LoginRequest, MaintenanceRequest,
    MaintenanceWindow, Notice, RevocationReason, StepKind, StepState, WindowState,
};
use curfew::{Client, NoticeStream};

use crate::support::{assert_rejected, Server, PASSWORD};

pub fn request(
    start_in_ms: i64,
    length_ms: Option<i64>,
    warn: &[i64],
    freeze: i64,
) -> MaintenanceRequest {
    let starts_at = Utc::now() + chrono::Duration::milliseconds(start_in_ms);
    MaintenanceRequest {
        starts_at,
        ends_at: length_ms.map(|l| starts_at + chrono::Duration::milliseconds(l)),
        message: "System update: please save your work.".into(),
        warn_before: warn.to_vec(),
        freeze_before: freeze,
        keep_admins: true,
    }
}

pub async fn next_notice(stream: &mut NoticeStream, within: Duration) -> Notice {
    tokio::time::timeout(within, stream.next())
        .await
        .expect("no notice in time")
        .expect("stream ended")
        .expect("notice")
}

pub async fn try_login(server: &Server, username: &str) -> Result<Client, curfew::Error> {
    server
        .client()
        .login(&LoginRequest {
            username: username.into(),
            password: PASSWORD.into(),
            client: ClientKind::Web,
            device_name: None,
        })
        .await
        .map(|(client, _)| client)
}

pub async fn window(admin: &Client, id: uuid::Uuid) -> MaintenanceWindow {
    admin
        .maintenance()
        .await
        .unwrap_or_else(|e| panic!("GET /admin/maintenance at {}: {e:?}", admin.server_url()))
        .windows
        .into_iter()
        .find(|w| w.id == id)
        .expect("window listed")
}

pub async fn wait_for_window<F: Fn(&MaintenanceWindow) -> bool>(
    admin: &Client,
    id: uuid::Uuid,
    what: &str,
    condition: F,
) -> MaintenanceWindow {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let w = window(admin, id).await;
        if condition(&w) {
            return w;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}: {w:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The audit entry of the window's mass logout; there must be exactly one.
pub async fn the_one_maintenance_logout(admin: &Client) -> curfew::api::AuditEntry {
    let audit = admin.audit(&AuditQuery::default()).await.unwrap();
    let logouts: Vec<_> = audit
        .entries
        .into_iter()
        .filter(|e| e.action == AuditAction::MaintenanceLogout)
        .collect();
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    logouts.into_iter().next().expect("one")
}

pub fn step(w: &MaintenanceWindow, kind: StepKind, offset: i64) -> &curfew::api::MaintenanceStep {
    w.steps
        .iter()
        .find(|s| s.kind == kind && s.offset_seconds == offset)
        .unwrap_or_else(|| panic!("no {kind:?} step at {offset}: {:#?}", w.steps))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_warns_freezes_logs_out_once_and_ends() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("helpdesk", "support");
    for name in ["m1", "m2"] {
        server.add_user(name, "member");
    }
    let (root, _) = server.login("root", ClientKind::App).await;
    let (helpdesk, _) = server.login("helpdesk", ClientKind::Web).await;
    let (m1_app, _) = server.login("m1", ClientKind::App).await;
    let (m1_web, _) = server.login("m1", ClientKind::Web).await;
    let (m2, _) = server.login("m2", ClientKind::Web).await;
    let mut m1_stream = m1_web.notice_stream().await.unwrap();
    let mut events = root.admin_events().await.unwrap();

    // Starts in 4 s: the 10 s warning is already due (sent at once), the 2 s one follows.
    let created = root
        .schedule_maintenance(&request(4_000, Some(2_000), &[10, 2], 1))
        .await
        .unwrap();
    assert_eq!(created.state, WindowState::Scheduled);

    let first = next_notice(&mut m1_stream, Duration::from_secs(3)).await;
    let Notice::MaintenanceWarning(first) = first else {
        panic!("{first:?}")
    };
    assert_eq!(first.window_id, created.id);
    assert!((2..=4).contains(&first.seconds_left), "{first:?}");
    assert_eq!(first.message, "System update: please save your work.");
    // A client that polls sees the warning in force.
    let polled = m2.notices().await.unwrap();
    assert!(
        matches!(polled.notices.as_slice(), [Notice::MaintenanceWarning(w)] if w.window_id == created.id)
    );

    let second = next_notice(&mut m1_stream, Duration::from_secs(5)).await;
    let Notice::MaintenanceWarning(second) = second else {
        panic!("{second:?}")
    };
    assert!(second.seconds_left <= 2, "{second:?}");

    // Frozen: members are refused with 503 and Retry-After; administrators get in.
    wait_for_window(&root, created.id, "the freeze", |w| {
        step(w, StepKind::Freeze, 0).state == StepState::Done
    })
    .await;
    match try_login(&server, "m2").await {
        Err(curfew::Error::Api {
            status: 503,
            code,
            retry_after: Some(seconds),
            message,
        }) => {
            assert_eq!(code, "maintenance");
            assert!((1..=4).contains(&seconds), "{seconds}");
            assert!(message.contains("please save your work"), "{message}");
        }
        other => panic!("expected 503 maintenance, got {:?}", other.map(|_| ())),
    }
    try_login(&server, "helpdesk")
        .await
        .expect("support signs in during the freeze");

    // The start: one mass logout; the stream is told and ends.
    match next_notice(&mut m1_stream, Duration::from_secs(5)).await {
        Notice::SessionRevoked(r) => assert_eq!(r.reason, RevocationReason::Maintenance),
        other => panic!("{other:?}"),
    }
    assert!(m1_stream.next().await.is_none());
    for member in [&m1_app, &m1_web, &m2] {
        assert_rejected(member, "session_revoked").await;
    }
    root.session().await.unwrap();
    helpdesk.session().await.unwrap();

    // The end: sign-ins reopen.
    let ended = wait_for_window(&root, created.id, "the end", |w| {
        w.state == WindowState::Ended
    })
    .await;
    try_login(&server, "m2")
        .await
        .expect("sign-in reopened after the end");

    assert_eq!(step(&ended, StepKind::Warning, 10).state, StepState::Done);
    assert_eq!(step(&ended, StepKind::Warning, 2).state, StepState::Done);
    let logout = step(&ended, StepKind::Logout, 0);
    assert_eq!(logout.state, StepState::Done);
    assert_eq!(logout.detail.as_ref().unwrap()["sessions_revoked"], 3);
    for s in &ended.steps {
        let late = s.ran_at.unwrap() - s.due_at;
        assert!(
            late.num_milliseconds() < 1000,
            "{:?} ran {late} late",
            s.kind
        );
    }

    let audit = root.audit(&AuditQuery::default()).await.unwrap();
    let count = |action| audit.entries.iter().filter(|e| e.action == action).count();
    assert_eq!(count(AuditAction::ScheduleMaintenance), 1);
    assert_eq!(count(AuditAction::MaintenanceLogout), 1);

    let mut seen = Vec::new();
    while seen.len() < 5 {
        let event = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("admin event in time")
            .expect("admin stream open")
            .expect("event");
        // (The audit's announcements of new entries are not the window's steps.)
        if !matches!(event, AdminEvent::AuditRecorded { .. }) {
            seen.push(event);
        }
    }
    // m1's web stream is the one notice stream open (the admin's event stream is not one).
    assert!(
        matches!(
            seen[0],
            AdminEvent::WarningSent {
                offset_seconds: 10,
                sessions_reached: 1,
                ..
            }
        ),
        "{seen:?}"
    );
    assert!(
        matches!(
            seen[1],
            AdminEvent::WarningSent {
                offset_seconds: 2,
                sessions_reached: 1,
                ..
            }
        ),
        "{seen:?}"
    );
    assert!(
        matches!(seen[2], AdminEvent::FreezeStarted { .. }),
        "{seen:?}"
    );
    assert!(
        matches!(
            seen[3],
            AdminEvent::MassLogoutDone {
                sessions_revoked: 3,
                users_affected: 2,
                ..
            }
        ),
        "{seen:?}"
    );
    assert!(
        matches!(seen[4], AdminEvent::WindowEnded { .. }),
        "{seen:?}"
    );
}

#[tokio::test]
async fn cancelling_tells_users_and_lifts_the_freeze() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("m1", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let (m1, _) = server.login("m1", ClientKind::Web).await;
    let mut stream = m1.notice_stream().await.unwrap();
    // Frozen from the moment it is created (freeze 60 s before a start 30 s away).
    let created = root
        .schedule_maintenance(&request(30_000, None, &[60], 60))
        .await
        .unwrap();
    assert!(matches!(
        next_notice(&mut stream, Duration::from_secs(3)).await,
        Notice::MaintenanceWarning(_)
    ));
    let refused = try_login(&server, "m1").await.unwrap_err();
    assert_eq!(refused.code(), Some("maintenance"));

    // Overlapping windows are refused and change nothing.
    let overlap = root
        .schedule_maintenance(&request(40_000, None, &[60], 60))
        .await
        .unwrap_err();
    assert_eq!(
        (overlap.status(), overlap.code()),
        (Some(409), Some("window_overlaps"))
    );
    assert_eq!(root.maintenance().await.unwrap().windows.len(), 1);

    let cancelled = root.cancel_maintenance(created.id).await.unwrap();
    assert_eq!(cancelled.state, WindowState::Cancelled);
    assert_eq!(
        step(&cancelled, StepKind::Logout, 0).state,
        StepState::Cancelled
    );
    assert!(
        cancelled
            .steps
            .iter()
            .all(|s| s.state != StepState::Pending),
        "{:#?}",
        cancelled.steps
    );
    match next_notice(&mut stream, Duration::from_secs(3)).await {
        Notice::MaintenanceCancelled(c) => assert_eq!(c.window_id, created.id),
        other => panic!("{other:?}"),
    }
    try_login(&server, "m1")
        .await
        .expect("the freeze is lifted");
    assert!(m1.notices().await.unwrap().notices.is_empty());
    let again = root.cancel_maintenance(created.id).await.unwrap_err();
    assert_eq!(again.status(), Some(409));
    let ended = root.end_maintenance(created.id).await.unwrap_err();
    assert_eq!(ended.status(), Some(409));
}

#[tokio::test]
async fn bad_windows_are_refused_and_nothing_is_scheduled() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("m1", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let (member, _) = server.login("m1", ClientKind::App).await;
    let cases: Vec<(MaintenanceRequest, &str)> = vec![
        (request(-1_000, None, &[60], 300), "starts_in_past"),
        (
            request(60_000, Some(-1_000), &[60], 300),
            "ends_before_start",
        ),
        (
            MaintenanceRequest {
                message: "   ".into(),
                ..request(60_000, None, &[60], 300)
            },
            "empty_message",
        ),
        (
            MaintenanceRequest {
                message: "x".repeat(10_000),
                ..request(60_000, None, &[60], 300)
            },
            "message_too_long",
        ),
        (request(60_000, None, &[0], 300), "invalid_warning"),
        (request(60_000, None, &[-5], 300), "invalid_warning"),
        (request(60_000, None, &[99_999_999], 300), "invalid_warning"),
        (request(60_000, None, &[60], -1), "invalid_freeze"),
        (request(60_000, None, &[60; 11], 300), "too_many_warnings"),
    ];
    for (bad, code) in cases {
        let error = root.schedule_maintenance(&bad).await.unwrap_err();
        assert_eq!(
            (error.status(), error.code()),
            (Some(400), Some(code)),
            "{error}"
        );
    }
    let forbidden = member
        .schedule_maintenance(&request(60_000, None, &[60], 300))
        .await
        .unwrap_err();
    assert_eq!(forbidden.status(), Some(403));
    assert!(root.maintenance().await.unwrap().windows.is_empty());
    try_login(&server, "m1")
        .await
        .expect("nothing froze sign-ins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_steps_resumes_skips_stale_warnings_and_logs_out_once() {
    let mut server = Server::start();
    server.add_user("root", "admin");
    server.add_user("m1", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let (m1, _) = server.login("m1", ClientKind::Web).await;
    let created = root
        .schedule_maintenance(&request(2_500, Some(60_000), &[10, 1], 1))
        .await
        .unwrap();
    wait_for_window(&root, created.id, "the first warning", |w| {
        step(w, StepKind::Warning, 10).state == StepState::Done
    })
    .await;
    server.kill9();
    // Down past the 1 s warning and the start.
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    server.restart();
    let w = wait_for_window(&root, created.id, "the logout after restart", |w| {
        w.state == WindowState::Running
    })
    .await;
    assert_eq!(step(&w, StepKind::Warning, 10).state, StepState::Done);
    assert_eq!(
        step(&w, StepKind::Warning, 1).state,
        StepState::Skipped,
        "a stale warning was sent"
    );
    assert_eq!(step(&w, StepKind::Freeze, 0).state, StepState::Done);
    assert_eq!(step(&w, StepKind::Logout, 0).state, StepState::Done);
    assert_rejected(&m1, "session_revoked").await;
    the_one_maintenance_logout(&root).await;
    // End now reopens sign-ins.
    root.end_maintenance(created.id).await.unwrap();
    try_login(&server, "m1").await.expect("ended by hand");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_the_mass_logout_still_logs_out_exactly_once() {
    let mut server = Server::start();
    server.add_user("root", "admin");
    for i in 0..20 {
        server.add_user(&format!("u{i}"), "member");
    }
    let (root, _) = server.login("root", ClientKind::App).await;
    let mut members = Vec::new();
    for i in 0..20 {
        members.push(server.login(&format!("u{i}"), ClientKind::App).await.0);
    }
    let created = root
        .schedule_maintenance(&request(1_500, None, &[1], 1))
        .await
        .unwrap();
    // Kill at the moment the logout is due: before, during or after its transaction.
    let until_start = created.starts_at - Utc::now();
    tokio::time::sleep(until_start.to_std().unwrap_or_default()).await;
    server.kill9();
    server.restart();
    let w = wait_for_window(&root, created.id, "the logout", |w| {
        w.state == WindowState::Running
    })
    .await;
    assert_eq!(step(&w, StepKind::Logout, 0).state, StepState::Done);
    assert_eq!(
        step(&w, StepKind::Logout, 0).detail.as_ref().unwrap()["sessions_revoked"],
        20
    );
    for member in &members {
        assert_rejected(member, "session_revoked").await;
    }
    assert_eq!(the_one_maintenance_logout(&root).await.sessions_revoked, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_keeps_failing_is_marked_failed_reported_and_the_schedule_moves_on() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("m1", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let (m1, _) = server.login("m1", ClientKind::Web).await;
    let mut events = root.admin_events().await.unwrap();
    crate::support::break_logout_steps(&server.database_url);
    let created = root
        .schedule_maintenance(&request(1_500, Some(1_500), &[1], 1))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let failure = loop {
        let event = tokio::time::timeout_at(deadline.into(), events.next())
            .await
            .expect("no step_failed event in time")
            .expect("event stream ended")
            .expect("event");
        if let AdminEvent::StepFailed { .. } = event {
            break event;
        }
    };
    let AdminEvent::StepFailed {
        window_id,
        step: failed,
        message,
    } = failure
    else {
        unreachable!()
    };
    assert_eq!((window_id, failed), (created.id, StepKind::Logout));
    assert!(
        message.contains("logout step failed") && message.contains("curfewd log"),
        "{message}"
    );
    // The failed step changed nothing: the member is still signed in.
    m1.session().await.expect("a failed logout revokes nothing");
    let w = wait_for_window(&root, created.id, "the end after the failure", |w| {
        w.state == WindowState::Ended
    })
    .await;
    let logout = step(&w, StepKind::Logout, 0);
    assert_eq!(logout.state, StepState::Failed);
    assert!(
        logout.detail.as_ref().unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("the disk is on fire"),
        "{logout:#?}"
    );
    assert_eq!(step(&w, StepKind::Warning, 1).state, StepState::Done);
    assert_eq!(step(&w, StepKind::End, 0).state, StepState::Done);
    try_login(&server, "m1")
        .await
        .expect("sign-ins reopen at the end");
}
