//! Scheduling maintenance in the app: the window runs on the server, end users are warned
//! and signed out, and the app raises a desktop notification (a D-Bus `Notify` call, seen
//! by dbus-monitor) for each step.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use curfew::api::{ClientKind, LoginRequest, Notice};

use crate::driver::App;
use crate::support::{assert_rejected, Server, PASSWORD};

/// Records every `org.freedesktop.Notifications.Notify` call on the session bus.
pub(crate) struct NotifyMonitor {
    child: Child,
    seen: Arc<Mutex<String>>,
}

impl NotifyMonitor {
    pub(crate) fn start() -> NotifyMonitor {
        let mut child = Command::new("dbus-monitor")
            .arg("interface='org.freedesktop.Notifications',member='Notify'")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (run the desktop tests through `cargo xtask test`)");
        let seen = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().unwrap();
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let mut seen = sink.lock().unwrap();
                seen.push_str(&line);
                seen.push('\n');
            }
        });
        NotifyMonitor { child, seen }
    }

    /// Whether a Notify call whose text contains every needle comes within `within`.
    pub(crate) async fn seen_within(&self, needles: &[&str], within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if self
                .seen
                .lock()
                .unwrap()
                .split("method call")
                .any(|call| needles.iter().all(|n| call.contains(n)))
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for a Notify call whose text contains every needle.
    pub(crate) async fn expect(&self, needles: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            {
                let seen = self.seen.lock().unwrap();
                // Each call starts with "method call"; look inside one call at a time.
                if seen
                    .split("method call")
                    .any(|call| needles.iter().all(|n| call.contains(n)))
                {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no Notify with {needles:?}; saw:\n{}",
                self.seen.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for NotifyMonitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `datetime-local` value for `seconds` from now, in the app's (the machine's) time zone.
pub(crate) fn local_in(seconds: i64) -> String {
    (chrono::Local::now() + chrono::Duration::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

pub(crate) async fn set_input(app: &App, css: &str, value: &str) {
    app.find(css).await;
    app.script(&format!(
        "const input = document.querySelector({css:?}); input.value = {value:?}; \
         input.dispatchEvent(new Event('input', {{ bubbles: true }})); return true;"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_schedules_maintenance_and_gets_a_notification_for_each_step() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("erin", "member");
    let (erin_app, _) = server.login("erin", ClientKind::App).await;
    let (erin_web, _) = server.login("erin", ClientKind::Web).await;
    let mut erin_stream = erin_web.notice_stream().await.unwrap();
    let monitor = NotifyMonitor::start();
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("maintenance", config_home.path(), 0).await;

    app.sign_in_as(&server.url, "root").await;
    app.click("#nav-maintenance").await;
    app.visible("#mw-form").await;
    assert!(app.text("#mw-zone").await.contains("your time zone"));
    // The form's limits are the contract's, from the Rust side, not copies in the page.
    let limits = app
        .script(
            "return [document.getElementById('mw-message').maxLength, \
             Number(document.getElementById('mw-freeze').max)];",
        )
        .await;
    assert_eq!(
        limits,
        serde_json::json!([
            curfew::limits::MESSAGE_MAX,
            curfew::limits::FREEZE_BEFORE_MAX / 60
        ])
    );

    // A window 12 s ahead: the 1 min warning is due at once; sign-ins freeze at the start.
    set_input(&app, "#mw-start", &local_in(12)).await;
    app.fill("#mw-message", "Database upgrade: please save your work.")
        .await;
    for offset in ["3600", "900", "300"] {
        app.click(&format!(".mw-warn[value='{offset}']")).await;
    }
    app.fill("#mw-freeze", "0").await;
    app.text_containing("#mw-preview-message", "Database upgrade")
        .await;
    app.shot("maintenance-form").await;
    app.click("#mw-submit").await;
    let body = app
        .text_containing("#confirm-body", "everyone except you is signed out")
        .await;
    // 12 s ahead, the 1 min warning is already due: it goes out at once.
    assert!(body.contains("warned at once"), "{body}");
    app.click("#confirm-ok").await;
    app.text_containing("#messages", "Maintenance scheduled")
        .await;
    app.text_containing("#windows-body tr[data-state=scheduled] .countdown", "in ")
        .await;
    app.text_containing("#next-window", "Next window").await;
    app.shot("maintenance-scheduled").await;

    // The end user is warned at once, and the app says so.
    match tokio::time::timeout(Duration::from_secs(10), erin_stream.next()).await {
        Ok(Some(Ok(Notice::MaintenanceWarning(w)))) => {
            assert_eq!(w.message, "Database upgrade: please save your work.")
        }
        other => panic!("expected a warning, got {other:?}"),
    }
    monitor
        .expect(&[
            "Maintenance warning sent",
            // It went out at once, seconds before the start, and says so.
            " s before the start",
            "1 open session reached",
        ])
        .await;

    // At the start: erin is signed out everywhere and cannot sign in; the admin works on.
    monitor
        .expect(&[
            "Maintenance started: users logged out",
            "2 sessions of 1 user ended",
        ])
        .await;
    monitor.expect(&["Sign-ins frozen"]).await;
    assert_rejected(&erin_app, "session_revoked").await;
    let refused = server
        .client()
        .login(&LoginRequest {
            username: "erin".into(),
            password: PASSWORD.into(),
            client: ClientKind::Web,
            device_name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(503), Some("maintenance"))
    );
    app.text_containing(
        "#windows-body tr[data-state=running] .steps",
        "2 sessions ended",
    )
    .await;
    app.shot("maintenance-running").await;

    // End now: confirmed, notified, sign-ins reopen.
    app.click("#windows-body tr[data-state=running] button.end")
        .await;
    app.text_containing("#confirm-body", "sign in again").await;
    app.click("#confirm-ok").await;
    monitor
        .expect(&["Maintenance ended", "Users can sign in again"])
        .await;
    app.find("#windows-body tr[data-state=ended]").await;
    server.login("erin", ClientKind::Web).await;

    // Cancel a later window: confirmed, notified. (The form was cleared after scheduling.)
    set_input(&app, "#mw-start", &local_in(3 * 3600)).await;
    app.fill("#mw-message", "Database upgrade: please save your work.")
        .await;
    app.click("#mw-submit").await;
    app.click("#confirm-ok").await;
    app.find("#windows-body tr[data-state=scheduled] button.cancel")
        .await;
    app.click("#windows-body tr[data-state=scheduled] button.cancel")
        .await;
    app.text_containing("#confirm-body", "will not happen")
        .await;
    app.click("#confirm-ok").await;
    monitor.expect(&["Maintenance cancelled"]).await;
    app.find("#windows-body tr[data-state=cancelled]").await;
    app.shot("maintenance-cancelled").await;

    // Activity names every maintenance action in words (from the app's contract), never
    // by its code.
    app.click("#nav-activity").await;
    for (action, words) in [
        ("schedule_maintenance", "scheduled maintenance"),
        ("maintenance_logout", "signed everyone out for maintenance"),
        ("end_maintenance", "ended maintenance"),
        ("cancel_maintenance", "cancelled maintenance"),
    ] {
        app.text_containing(
            &format!("#audit-body tr[data-action={action}] td.action"),
            words,
        )
        .await;
    }
    let shown = app
        .script(
            "return [...document.querySelectorAll('#audit-body td.action')] \
             .map((cell) => cell.textContent);",
        )
        .await;
    let shown: Vec<String> = serde_json::from_value(shown).unwrap();
    assert!(shown.len() >= 4, "{shown:?}");
    assert!(
        shown.iter().all(|text| !text.contains('_')),
        "a raw action code in the Activity view: {shown:?}"
    );
    // Defect 2: the maintenance logout says which window, and how many users.
    let logout_row = app
        .text_containing(
            "#audit-body tr[data-action=maintenance_logout]",
            "(the window of ",
        )
        .await;
    assert!(
        logout_row.contains("user"),
        "the users it signed out: {logout_row}"
    );
    app.shot("activity-maintenance").await;

    // Losing the token: another administrator signs everyone out. The app notices on its
    // event stream, notifies, and returns to sign-in with the reason.
    server.add_user("root2", "admin");
    let (root2, _) = server.login("root2", ClientKind::App).await;
    root2.logout_all(false).await.unwrap();
    monitor.expect(&["Curfew signed you out"]).await;
    app.text_containing("#signin-notice", "An administrator signed everyone out")
        .await;
    app.shot("signed-out-by-server").await;
    app.quit().await;
}

/// The windows as the server lists them, read by another administrator session.
async fn root_windows(server: &Server) -> Vec<curfew::api::MaintenanceWindow> {
    let (root, _) = server.login("root", ClientKind::Web).await;
    root.maintenance().await.unwrap().windows
}

/// Sets a `<select>` as a person choosing an option would.
async fn choose(app: &App, css: &str, value: &str) {
    app.find(css).await;
    app.script(&format!(
        "const select = document.querySelector({css:?}); select.value = {value:?}; \
         select.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;"
    ))
    .await;
}

async fn confirm_is_open(app: &App) -> bool {
    app.script("return document.getElementById('confirm').open;")
        .await
        .as_bool()
        .unwrap_or(false)
}

/// Repeating maintenance from the form: the rule in words and its next occurrences in the
/// confirmation and in the list; cancelling one occurrence brings the next; cancelling
/// the series stops it. A rule curfewd does not run is refused in the form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_schedules_a_repeating_window_and_cancels_one_then_the_series() {
    let server = Server::start();
    server.add_user("root", "admin");
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("repeating", config_home.path(), 0).await;
    app.sign_in_as(&server.url, "root").await;
    app.click("#nav-maintenance").await;
    app.visible("#mw-form").await;

    // Defect 9: a freeze out of range is refused in the form with the contract's limit in
    // words, never reaching the confirmation; a freeze of 0 says sign-ins are not frozen.
    set_input(&app, "#mw-start", &local_in(2 * 3600)).await;
    app.fill("#mw-message", "Quick fix").await;
    for bad in ["-5", "5000", "2.5"] {
        app.fill("#mw-freeze", bad).await;
        app.click("#mw-submit").await;
        let error = app
            .text_containing("#mw-error", "Freeze sign-ins 0 to")
            .await;
        assert!(error.contains("(24 hours)"), "{bad}: {error}");
        assert!(
            !confirm_is_open(&app).await,
            "{bad} reached the confirmation"
        );
    }
    app.shot("freeze-refused").await;
    app.fill("#mw-freeze", "0").await;
    app.click("#mw-submit").await;
    let body = app
        .text_containing("#confirm-body", "Maintenance starts")
        .await;
    assert!(
        body.contains("sign-ins are not frozen before the start"),
        "{body}"
    );
    assert!(!body.contains("0 min before"), "{body}");
    app.click("#confirm-cancel").await;
    // An empty Ends says so instead of a grey date.
    assert_eq!(app.text("#mw-end-empty").await, "No end set");
    app.fill("#mw-freeze", "5").await;

    // Weekly on the start's weekday, 3 times, a day ahead, an hour long.
    set_input(&app, "#mw-start", &local_in(24 * 3600)).await;
    set_input(&app, "#mw-end", &local_in(25 * 3600)).await;
    app.fill("#mw-message", "Weekly patching: please save your work.")
        .await;
    let weekday = (chrono::Local::now() + chrono::Duration::days(1))
        .format("%A")
        .to_string();
    app.text_containing("#mw-repeat option[value=weekly]", &weekday)
        .await;
    // A rule outside what curfewd runs is refused in the form, with the reason.
    choose(&app, "#mw-repeat", "custom").await;
    app.fill("#mw-repeat-rule", "FREQ=DAILY;COUNT=3").await;
    app.click("#mw-submit").await;
    app.text_containing("#mw-error", "weekly or monthly").await;
    assert!(
        !confirm_is_open(&app).await,
        "no confirmation for a bad rule"
    );

    choose(&app, "#mw-repeat", "weekly").await;
    app.fill("#mw-repeat-count", "3").await;
    app.shot("repeating-form").await;
    app.click("#mw-submit").await;
    let body = app
        .text_containing("#confirm-body", "It repeats every week on")
        .await;
    assert!(body.contains(&format!("on {weekday} at")), "{body}");
    assert!(body.contains("3 times"), "{body}");
    let starts = body.split("3 times: ").nth(1).unwrap_or_default();
    assert_eq!(starts.split("; ").count(), 3, "three starts listed: {body}");
    app.shot("repeating-confirmation").await;
    app.click("#confirm-ok").await;
    app.text_containing("#messages", "Repeating maintenance scheduled")
        .await;
    let line = app
        .text_containing(
            "#windows-body tr[data-state=scheduled] .series-line",
            "Next:",
        )
        .await;
    assert!(line.starts_with("Repeats every week on"), "{line}");
    assert_eq!(
        app.text("#mw-repeat option:checked").await,
        "Does not repeat",
        "the form was cleared"
    );
    assert_eq!(app.text("#mw-message").await, "", "the form was cleared");
    assert_eq!(app.text("#mw-end-empty").await, "No end set");
    app.shot("repeating-listed").await;

    // Cancel this occurrence: the series goes on with the next, a week later.
    app.click("#windows-body tr[data-state=scheduled] button.cancel")
        .await;
    app.text_containing("#confirm-body", "The series goes on: the next one is on")
        .await;
    app.click("#confirm-ok").await;
    app.find("#windows-body tr[data-state=cancelled]").await;
    app.text_containing(
        "#windows-body tr[data-state=scheduled] .series-line",
        "Repeats every week",
    )
    .await;

    // Cancel the series: no occurrence is left scheduled.
    app.click("#windows-body tr[data-state=scheduled] button.cancel-series")
        .await;
    app.text_containing("#confirm-body", "No more occurrences")
        .await;
    app.click("#confirm-ok").await;
    app.text_containing("#messages", "no more occurrences will follow")
        .await;
    app.count_is("#windows-body tr[data-state=scheduled]", 0)
        .await;
    app.text_containing("#windows-body .series-line", "series cancelled")
        .await;
    app.shot("repeating-series-cancelled").await;

    // Move a scheduled window an hour later: the form takes its values, the confirmation
    // says from when to when, and the list shows the new time.
    set_input(&app, "#mw-start", &local_in(3 * 3600)).await;
    app.fill("#mw-message", "Move me: please save your work.")
        .await;
    app.click("#mw-submit").await;
    app.click("#confirm-ok").await;
    app.click("#windows-body tr[data-state=scheduled] button.edit")
        .await;
    app.text_containing("#mw-form-title", "Move or edit the maintenance of")
        .await;
    let message = app
        .script("return document.getElementById('mw-message').value;")
        .await;
    assert_eq!(message, "Move me: please save your work.");
    assert_eq!(app.text("#mw-submit").await, "Save changes");
    set_input(&app, "#mw-start", &local_in(4 * 3600)).await;
    app.shot("move-form").await;
    app.click("#mw-submit").await;
    app.text_containing("#confirm-body", "The maintenance moves from")
        .await;
    app.click("#confirm-ok").await;
    app.text_containing("#messages", "Maintenance moved to")
        .await;
    app.text_containing(
        "#windows-body tr[data-state=scheduled] .series-line",
        "Moved from ",
    )
    .await;
    assert_eq!(
        app.text("#mw-submit").await,
        "Schedule maintenance",
        "the form is new again"
    );
    let windows = root_windows(&server).await;
    let moved = windows
        .iter()
        .find(|w| w.message.starts_with("Move me"))
        .expect("listed");
    let hours = (moved.starts_at - chrono::Utc::now()).num_minutes();
    assert!(
        (235..=240).contains(&hours),
        "moved to 4 h from now: {hours} min"
    );
    assert!(moved.moved_from.is_some());
    app.shot("moved").await;

    // Activity says the move in words, as an action of its own the filter offers.
    app.click("#nav-activity").await;
    let moved_row = app
        .text_containing(
            "#audit-body tr[data-action=move_maintenance] td.action",
            "moved or edited maintenance",
        )
        .await;
    assert!(!moved_row.contains("move_maintenance"), "{moved_row}");
    app.text_containing(
        "#audit-body tr[data-action=move_maintenance] td.from",
        "moved from ",
    )
    .await;
    let offered = app
        .script(
            "return document.querySelector('#audit-action option[value=move_maintenance]')\
             ?.textContent ?? null;",
        )
        .await;
    assert_eq!(
        offered, "Moved or edited maintenance",
        "the action filter offers it"
    );
    app.shot("moved-in-activity").await;
    app.quit().await;
}
