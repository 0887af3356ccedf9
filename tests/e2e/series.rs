//! Repeating maintenance on two curfewd instances sharing one PostgreSQL database: the
//! first occurrence runs once, the next is created once as it starts, a cancellation
//! raced through both instances creates the one after exactly once, and an instance
//! killed and restarted in between changes nothing of that.

use chrono::{Datelike, Duration, SubsecRound};
use curfew::api::{ClientKind, MaintenanceWindow, Repeat, SeriesRequest, SeriesState, WindowState};
use curfew::Client;

use crate::maintenance::{request, the_one_maintenance_logout, wait_for_window};
use crate::support::{assert_rejected, postgres_database, Server};

/// The windows of one series, soonest first.
async fn occurrences(admin: &Client, series: uuid::Uuid) -> Vec<MaintenanceWindow> {
    let mut windows: Vec<MaintenanceWindow> = admin
        .maintenance()
        .await
        .unwrap()
        .windows
        .into_iter()
        .filter(|w| w.series.as_ref().is_some_and(|s| s.id == series))
        .collect();
    windows.sort_by_key(|w| w.starts_at);
    windows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_occurrence_is_created_and_run_once_on_two_instances() {
    let database = postgres_database();
    let mut a = Server::start_on(&database.url);
    let mut b = Server::start_on(&database.url);
    a.add_user("root", "admin");
    a.add_user("m1", "member");
    let (root_a, _) = a.login("root", ClientKind::App).await;
    let root_b = b.client().with_token(root_a.token().unwrap());
    let (member, _) = b.login("m1", ClientKind::Web).await;

    // Weekly on today's weekday, 3 times; the first one 4 s from now, 2 s long.
    let mut window = request(4_000, Some(2_000), &[2], 1);
    window.starts_at = window.starts_at.trunc_subsecs(0);
    window.ends_at = Some(window.starts_at + Duration::seconds(2));
    let first_start = window.starts_at;
    let day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        [first_start.weekday().num_days_from_monday() as usize];
    let first = root_a
        .schedule_series(&SeriesRequest {
            window,
            repeat: Repeat {
                rule: format!("FREQ=WEEKLY;BYDAY={day};COUNT=3"),
                time_zone: "UTC".into(),
            },
        })
        .await
        .unwrap();
    let series = first.series.clone().expect("an occurrence of a series");
    assert_eq!(
        series.next,
        [0, 1, 2].map(|w| first_start + Duration::weeks(w)),
        "the next occurrences are listed"
    );

    // Both schedulers race for the first occurrence's steps.
    wait_for_window(&root_b, first.id, "the first occurrence's end", |w| {
        w.state == WindowState::Ended
    })
    .await;
    assert_rejected(&member, "session_revoked").await;
    assert_eq!(
        the_one_maintenance_logout(&root_b).await.sessions_revoked,
        1
    );
    let listed = occurrences(&root_b, series.id).await;
    assert_eq!(listed.len(), 2, "the second was created once: {listed:#?}");
    let second = &listed[1];
    assert_eq!(second.state, WindowState::Scheduled);
    assert_eq!(second.starts_at, first_start + Duration::weeks(1));

    // A crash and a restart in between: nothing is created or run again.
    a.kill9();
    a.restart();
    let root_a = a.client().with_token(root_a.token().unwrap());
    assert_eq!(occurrences(&root_a, series.id).await.len(), 2);

    // The second is cancelled through both instances at once: one wins, the third is
    // created once.
    let (from_a, from_b) = tokio::join!(
        root_a.cancel_maintenance(second.id),
        root_b.cancel_maintenance(second.id)
    );
    assert!(
        from_a.is_ok() != from_b.is_ok(),
        "exactly one cancellation wins: {from_a:?} {from_b:?}"
    );
    let lost = from_a.err().or(from_b.err()).unwrap();
    assert_eq!(lost.code(), Some("window_finished"), "{lost:?}");
    b.kill9();
    b.restart();
    let listed = occurrences(&root_b, series.id).await;
    assert_eq!(listed.len(), 3, "{listed:#?}");
    assert_eq!(listed[2].starts_at, first_start + Duration::weeks(2));
    assert_eq!(listed[2].state, WindowState::Scheduled);
    assert_eq!(
        listed[2].series.as_ref().unwrap().next,
        [first_start + Duration::weeks(2)],
        "the last occurrence"
    );

    // Cancelling the series cancels the third; none follows.
    let cancelled = root_a.cancel_series(listed[2].id).await.unwrap();
    assert_eq!(cancelled.state, SeriesState::Cancelled);
    let listed = occurrences(&root_b, series.id).await;
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[2].state, WindowState::Cancelled);
}
