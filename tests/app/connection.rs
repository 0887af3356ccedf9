//! The app's link to curfewd: losing it and getting it back, and a maintenance step that
//! failed, raise desktop notifications; a revoked token brings back sign-in with a
//! notification and a sentence.

use curfew::api::{ClientKind, MaintenanceRequest, UserQuery};

use crate::driver::App;
use crate::maintenance::NotifyMonitor;
use crate::support::{break_logout_steps, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_says_when_curfewd_is_lost_and_back_a_step_failed_and_it_is_signed_out() {
    let mut server = Server::start();
    server.add_user("root", "admin");
    server.add_user("deputy", "admin");
    let monitor = NotifyMonitor::start();
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("connection", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "root").await;
    app.shot("signed-in").await;

    // curfewd dies: the app says so once, and that maintenance still runs on the server.
    server.kill9();
    monitor
        .expect(&["Curfew lost its connection", "maintenance still runs"])
        .await;
    // Back on the same address: the event stream reconnects with its back-off.
    server.restart();
    monitor
        .expect(&[
            "Curfew reconnected",
            "Notifications about maintenance are back",
        ])
        .await;

    // A maintenance step the database keeps refusing: the app names the step.
    let (deputy, _) = server.login("deputy", ClientKind::App).await;
    break_logout_steps(&server.database_url);
    let starts_at = chrono::Utc::now() + chrono::Duration::milliseconds(1_500);
    deputy
        .schedule_maintenance(&MaintenanceRequest {
            starts_at,
            ends_at: Some(starts_at + chrono::Duration::seconds(2)),
            message: "Quick fix".into(),
            warn_before: vec![1],
            freeze_before: 1,
            keep_admins: true,
        })
        .await
        .unwrap();
    monitor
        .expect(&[
            "Maintenance step failed",
            "The logout step failed",
            "Check the curfewd log",
        ])
        .await;

    // Another administrator signs root out of every session: the app is told at once.
    let root = deputy
        .users(&UserQuery {
            q: Some("root".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .users
        .into_iter()
        .find(|u| u.username == "root")
        .expect("root listed");
    assert_eq!(
        deputy.logout_user(root.id).await.unwrap().sessions_revoked,
        1
    );
    monitor.expect(&["Curfew signed you out"]).await;
    app.visible("#signin-view").await;
    app.text_containing("#signin-notice", "An administrator signed you out")
        .await;
    app.shot("signed-out-by-another-admin").await;
    app.quit().await;
}
