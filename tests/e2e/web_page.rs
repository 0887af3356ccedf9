//! The end users' page that curfewd serves at `/`, in real headless Chromium: a signed-in
//! user sees the maintenance warning with a countdown, is signed out at the start, and is
//! told why a new sign-in is refused during the freeze.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use curfew::api::{ClientKind, MaintenanceRequest};
use fantoccini::{Client, ClientBuilder, Locator};

use crate::support::{Server, PASSWORD};

struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    step: usize,
}

impl Browser {
    async fn open() -> Browser {
        let port = curfew_testkit::free_port();
        let driver = Command::new(
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()),
        )
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "start chromedriver (Debian package chromium-driver; `cargo xtask test` installs it)",
        );
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--disable-quic", "--window-size=1100,700",
                         format!("--user-data-dir={}", profile.path().display())]
            }),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()
                .unwrap()
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("no Chromium session: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
            step: 0,
        }
    }

    async fn text_containing(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if element.is_displayed().await.unwrap_or(false) {
                    last = element.text().await.unwrap_or_default();
                    if last.contains(needle) {
                        return last;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed {needle:?}; last {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn fill(&self, css: &str, value: &str) {
        let input = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    async fn sign_in(&self, username: &str) {
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.client
            .find(Locator::Css("#signin-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    async fn shot(&mut self, name: &str) {
        self.step += 1;
        let png = self.client.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("web-{:02}-{name}.png", self.step)), png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_page_warns_then_shows_the_sign_out_and_the_freeze() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("wendy", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let mut browser = Browser::open().await;
    browser
        .client
        .goto(&format!("{}/", server.url))
        .await
        .unwrap();
    browser.sign_in("wendy").await;
    browser
        .text_containing("#greeting", "Signed in as wendy")
        .await;
    browser.shot("signed-in").await;

    let starts_at = Utc::now() + chrono::Duration::milliseconds(5_000);
    root.schedule_maintenance(&MaintenanceRequest {
        starts_at,
        ends_at: None,
        message: "Payroll update tonight: please save your work.".into(),
        warn_before: vec![60, 2],
        freeze_before: 1,
        keep_admins: true,
    })
    .await
    .unwrap();
    browser
        .text_containing("#banner-message", "Payroll update tonight")
        .await;
    let countdown = browser
        .text_containing("#banner-countdown", "Maintenance in ")
        .await;
    assert!(
        countdown.contains(" s (at "),
        "seconds, then the local time: {countdown}"
    );
    assert!(countdown.contains("save your work"), "{countdown}");
    browser.shot("maintenance-warning").await;

    let notice = browser
        .text_containing("#signin-notice", "signed out for scheduled maintenance")
        .await;
    assert!(
        !notice.contains("An administrator signed you out"),
        "a maintenance logout is not reported as an administrator's: {notice}"
    );
    assert_eq!(
        notice.matches("signed out").count(),
        1,
        "one sentence: {notice}"
    );
    browser.shot("signed-out-at-start").await;

    browser.sign_in("wendy").await;
    let refused = browser
        .text_containing("#signin-error", "paused for maintenance")
        .await;
    assert!(refused.contains("Payroll update tonight"), "{refused}");
    browser.shot("sign-in-frozen").await;
    let _ = browser.client.clone().close().await;
}

/// A window moved after users were warned: the page says the new time in words, and an
/// API client's stream gets the warning with where it moved from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_window_tells_warned_users_the_new_time() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("wendy", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let (wendy, _) = server.login("wendy", ClientKind::Web).await;
    let mut stream = wendy.notice_stream().await.unwrap();
    let mut browser = Browser::open().await;
    browser
        .client
        .goto(&format!("{}/", server.url))
        .await
        .unwrap();
    browser.sign_in("wendy").await;
    browser
        .text_containing("#greeting", "Signed in as wendy")
        .await;

    // 30 s away with a 60 s warning: the warning goes out at once.
    let starts_at = Utc::now() + chrono::Duration::seconds(30);
    let window = root
        .schedule_maintenance(&MaintenanceRequest {
            starts_at,
            ends_at: None,
            message: "Payroll update: please save your work.".into(),
            warn_before: vec![60],
            freeze_before: 0,
            keep_admins: true,
        })
        .await
        .unwrap();
    browser
        .text_containing("#banner-title", "Scheduled maintenance")
        .await;
    match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
        Ok(Some(Ok(curfew::api::Notice::MaintenanceWarning(w)))) => assert!(w.moved_from.is_none()),
        other => panic!("expected the warning, got {other:?}"),
    }

    // Another administrator's list follows the move (the app reloads on this event).
    let (other, _) = server.login("root", ClientKind::App).await;
    let mut events = other.admin_events().await.unwrap();
    // Moved an hour later: told at once, in words, on the page and on the stream.
    // Milliseconds: the server keeps no finer times.
    let later = (starts_at + chrono::Duration::hours(1)).trunc_subsecs(3);
    let moved = root
        .change_maintenance(
            window.id,
            &curfew::api::MaintenanceChange {
                starts_at: later,
                ends_at: None,
                message: "Payroll update: please save your work.".into(),
                warn_before: vec![60],
                freeze_before: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.moved_from, Some(window.starts_at));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let event = tokio::time::timeout(deadline - Instant::now(), events.next())
            .await
            .expect("an admin event for the move")
            .expect("stream open")
            .expect("event");
        if event
            == (curfew::api::AdminEvent::AuditRecorded {
                action: curfew::api::AuditAction::MoveMaintenance,
            })
        {
            break;
        }
    }
    // The moved window, at its new time, in the moved words.
    let moved = |w: &curfew::api::MaintenanceWarning| {
        assert_eq!((w.starts_at, w.moved_from), (later, Some(window.starts_at)));
        assert!(
            w.moved
                .as_deref()
                .unwrap_or_default()
                .starts_with("Maintenance moved to "),
            "{w:?}"
        );
    };
    match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
        Ok(Some(Ok(curfew::api::Notice::MaintenanceWarning(w)))) => moved(&w),
        other => panic!("expected the move, got {other:?}"),
    }
    // A client that polls sees it too, at once: at the new time, in the same words.
    let polled = wendy.notices().await.unwrap().notices;
    match polled.as_slice() {
        [curfew::api::Notice::MaintenanceWarning(w)] => moved(w),
        other => panic!("expected the moved window in GET /notices, got {other:?}"),
    }
    let title = browser
        .text_containing("#banner-title", "Maintenance moved to ")
        .await;
    let countdown = browser
        .text_containing("#banner-countdown", "Maintenance in ")
        .await;
    assert!(
        countdown.contains(" h ") || countdown.contains(" min "),
        "an hour away now: {countdown}"
    );
    browser.shot("maintenance-moved").await;
    assert!(
        !title.contains("UTC"),
        "the page says it in local time: {title}"
    );
    // No second warning for the same moment: the move was it.
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), stream.next())
            .await
            .is_err(),
        "one notice for the move"
    );
    let _ = browser.client.clone().close().await;
}
