//! A window moved after its users were warned, run by a real curfewd: every warning the
//! scheduler sends afterwards says it moved, in the words `GET /notices` gives it.

use std::time::Duration;

use chrono::SubsecRound;
use curfew::api::{ClientKind, MaintenanceChange, MaintenanceWarning, Notice};

use crate::maintenance::{next_notice, request};
use crate::support::Server;

fn warning(notice: Notice) -> MaintenanceWarning {
    match notice {
        Notice::MaintenanceWarning(w) => w,
        other => panic!("expected a warning, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedulers_warnings_after_a_move_say_the_window_moved() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("wendy", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let (wendy, _) = server.login("wendy", ClientKind::Web).await;
    let mut stream = wendy.notice_stream().await.unwrap();

    // 60 s away with a 90 s warning: it goes out at once, in the plain words.
    let first = request(60_000, None, &[90, 8], 0);
    let window = root.schedule_maintenance(&first).await.unwrap();
    let plain = warning(next_notice(&mut stream, Duration::from_secs(10)).await);
    assert_eq!(plain.moved, None, "{plain:?}");

    // Moved to 14 s from now: the move tells wendy at once, then the scheduler sends the
    // 8 s warning (its 90 s one is past and is not sent again).
    let later = (chrono::Utc::now() + chrono::Duration::seconds(14)).trunc_subsecs(3);
    root.change_maintenance(
        window.id,
        &MaintenanceChange {
            starts_at: later,
            ends_at: None,
            message: first.message.clone(),
            warn_before: vec![90, 8],
            freeze_before: 0,
        },
    )
    .await
    .unwrap();
    let told = warning(next_notice(&mut stream, Duration::from_secs(5)).await);
    assert_eq!(told.moved_from, Some(window.starts_at), "{told:?}");
    let scheduled = warning(next_notice(&mut stream, Duration::from_secs(15)).await);
    assert!(
        scheduled.seconds_left <= 9,
        "the scheduler's 8 s warning, not the move's: {scheduled:?}"
    );
    assert_eq!(scheduled.starts_at, later);
    assert_eq!(
        scheduled.moved_from,
        Some(window.starts_at),
        "{scheduled:?}"
    );
    assert_eq!(scheduled.moved, told.moved, "one sentence for the move");
    assert!(
        scheduled
            .moved
            .as_deref()
            .is_some_and(|m| m.starts_with("Maintenance moved to ")),
        "{scheduled:?}"
    );
    // A client that polls is told the same.
    match wendy.notices().await.unwrap().notices.as_slice() {
        [Notice::MaintenanceWarning(w)] => assert_eq!(w.moved, scheduled.moved),
        other => panic!("expected the moved window, got {other:?}"),
    }
}
