//! Headless Chromium through chromedriver (as `web_page.rs` drives it), with what the gate
//! tests ask of a page: wait for a URL or a text, fill and send forms, read Curfew's
//! banner inside its (open) shadow root, keep screenshots as `gate-*.png`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::support::PASSWORD;

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    prefix: String,
    step: usize,
}

impl Browser {
    pub async fn open(prefix: &str) -> Browser {
        // This run's screenshots only.
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        let mine = format!("gate-{prefix}-");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(&mine) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let port = curfew_testkit::free_port();
        let driver =
            Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver (Debian package chromium-driver)");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--disable-quic", "--window-size=1100,700", "--lang=en-GB",
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
            prefix: prefix.to_owned(),
            step: 0,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn url(&self) -> url::Url {
        self.client.current_url().await.unwrap()
    }

    /// Waits until the page's path starts with `path`; returns the whole URL.
    pub async fn until_path(&self, path: &str) -> url::Url {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = self.url().await;
            if url.path().starts_with(path) {
                return url;
            }
            assert!(Instant::now() < deadline, "never reached {path}; at {url}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element `css` shows `needle`; returns its text.
    pub async fn text(&self, css: &str, needle: &str) -> String {
        self.try_text(css, needle)
            .await
            .unwrap_or_else(|refused| panic!("{refused}"))
    }

    /// [`Browser::text`] for a caller that adds to the failure (a log, say): the text, or
    /// what the page showed last when the deadline passed.
    pub async fn try_text(&self, css: &str, needle: &str) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last = element.text().await.unwrap_or_default();
                if last.contains(needle) {
                    return Ok(last);
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{css} never showed {needle:?}; last {last:?}; page at {}",
                    self.url().await
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let input = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Fills and sends Curfew's sign-in form.
    pub async fn sign_in(&self, username: &str) {
        self.fill("input[name=username]", username).await;
        self.fill("input[name=password]", PASSWORD).await;
        self.click("form [type=submit]").await;
    }

    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// The text of the banner's part `css` inside `<curfew-banner>`'s shadow root, if any.
    pub async fn banner(&self, css: &str) -> Option<String> {
        let script = format!(
            "const root = document.querySelector('curfew-banner')?.shadowRoot; \
             const node = root?.querySelector({css:?}); return node ? node.textContent : null;"
        );
        self.js(&script).await.as_str().map(str::to_owned)
    }

    /// Waits until the banner's part `css` shows `needle`; returns its text.
    pub async fn until_banner(&self, css: &str, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let text = self.banner(css).await;
            if let Some(text) = &text {
                if text.contains(needle) {
                    return text.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "the banner's {css} never showed {needle:?} within {within:?}; last {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the app's CSP refused on this page (its own script records the events).
    pub async fn csp_violations(&self) -> Vec<String> {
        serde_json::from_value(
            self.js("return window.officeCspViolations ?? ['no app.js'];")
                .await,
        )
        .unwrap()
    }

    /// The browser's gate cookie, as a `name=value` pair for reqwest.
    pub async fn session_cookie(&self) -> Option<String> {
        let cookies = self.client.get_all_cookies().await.unwrap();
        cookies
            .iter()
            .find(|c| c.name() == "curfew_session")
            .map(|c| format!("curfew_session={}", c.value()))
    }

    /// A screenshot after two animation frames (so it shows what was just asserted).
    pub async fn shot(&mut self, name: &str) {
        let _ = self
            .client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await;
        self.step += 1;
        let png = self.client.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let file = format!("gate-{}-{:02}-{name}.png", self.prefix, self.step);
        std::fs::write(dir.join(file), png).unwrap();
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
