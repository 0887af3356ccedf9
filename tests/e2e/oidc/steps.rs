//! The steps the sign-in tests take in the browser: the provider's button on the gate's
//! sign-in page, the provider's login page, waiting for a page (failing at once on a CSP
//! violation), the status of the page shown, and screenshots as `oidc-*.png`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::browser::Browser;
use super::stack::{DISPLAY_NAME, PROVIDER};

/// Screenshots named `oidc-NN-name.png`, after two animation frames.
pub struct Shots {
    test: &'static str,
    step: usize,
}

impl Shots {
    /// Drops this test's screenshots of an earlier run.
    pub fn new(test: &'static str) -> Shots {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        let prefix = format!("oidc-{test}-");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Shots { test, step: 0 }
    }

    pub async fn take(&mut self, b: &Browser, name: &str) {
        let _ = b
            .client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await;
        self.step += 1;
        let png = b.client.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let file = format!("oidc-{}-{:02}-{name}.png", self.test, self.step);
        std::fs::write(dir.join(file), png).unwrap();
    }
}

/// The HTTP status of the page the browser shows (Navigation Timing's `responseStatus`).
pub async fn page_status(b: &Browser) -> u64 {
    b.js("return performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0;")
        .await
        .as_u64()
        .unwrap_or(0)
}

/// On the gate's sign-in page: the provider's button, clicked; returns its text.
pub async fn click_provider(b: &Browser) -> String {
    let css = format!("a.provider[data-provider=\"{PROVIDER}\"]");
    let text = b.text(&css, &format!("Sign in with {DISPLAY_NAME}")).await;
    b.click(&css).await;
    text
}

/// At the provider's login page: types the account and signs in.
pub async fn provider_login(b: &Browser, account: &str) {
    b.until_path("/interaction/").await;
    b.fill("#op-login", account).await;
    b.click("#op-login-submit").await;
}

/// The gate's callback path for the provider.
pub fn callback_path() -> String {
    format!("/.curfew/oidc/{PROVIDER}/callback")
}

/// The browser holds no gate session cookie but the one it had before (an ended
/// session's, which the gate may leave in place).
pub async fn assert_no_new_session(b: &Browser, before: Option<String>) {
    let now = b.session_cookie().await;
    assert!(
        now.is_none() || now == before,
        "a refused sign-in set a session cookie: {now:?}"
    );
}

/// Waits until the page's path starts with `path`, failing at once if the app's CSP blocked
/// the way there (its script records every violation).
pub async fn until_path_unblocked(b: &Browser, path: &str) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = b.url().await;
        if url.path().starts_with(path) {
            return url;
        }
        let blocked = b
            .js("return window.officeCspViolations?.join('; ') ?? '';")
            .await;
        let blocked = blocked.as_str().unwrap_or_default();
        assert!(
            blocked.is_empty(),
            "the app's CSP blocked the way to {path} (at {url}): {blocked}"
        );
        assert!(Instant::now() < deadline, "never reached {path}; at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the browser is back on the gate (any page of `gate.url`).
pub async fn until_on(b: &Browser, base: &str) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = b.url().await;
        if url.as_str().starts_with(base) {
            return url;
        }
        assert!(Instant::now() < deadline, "never back on {base}; at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
