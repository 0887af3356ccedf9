//! One launch of a desktop app through tauri-driver, for the app bench and the install
//! test: its WebDriver session, ended with the driver stopped by SIGTERM (SIGKILL would
//! orphan WebKitWebDriver on its port).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::{Client, ClientBuilder, Locator};

pub struct Session {
    pub client: Client,
    driver: Child,
}

impl Session {
    /// Starts tauri-driver and the app `app` in it, with `config_home` as its configuration
    /// folder; returns once the WebDriver session is open.
    pub async fn launch(
        driver_bin: &Path,
        app: &Path,
        config_home: &Path,
    ) -> anyhow::Result<Session> {
        let (port, native) = (curfew_testkit::free_port(), curfew_testkit::free_port());
        let driver = Command::new(driver_bin)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("XDG_CONFIG_HOME", config_home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start tauri-driver")?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let attempt = tokio::time::timeout(
                Duration::from_secs(30),
                ClientBuilder::rustls()?
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .await;
            match attempt {
                Ok(Ok(client)) => return Ok(Session { client, driver }),
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                other => bail!("no WebDriver session with the app: {other:?}"),
            }
        }
    }

    pub async fn wait_for(
        &self,
        css: &str,
        within: Duration,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(within)
            .every(Duration::from_millis(5))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("no {css} in the app within {within:?}"))
    }

    /// The element once it is displayed, looked up again at every try (a view shown late,
    /// or re-rendered, replaces what an earlier lookup found).
    pub async fn wait_displayed(
        &self,
        css: &str,
        within: Duration,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if element.is_displayed().await.unwrap_or(false) {
                    return Ok(element);
                }
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{css} not displayed within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Closes the app and stops tauri-driver.
    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = Command::new("kill")
            .args(["-TERM", &self.driver.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.driver.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
