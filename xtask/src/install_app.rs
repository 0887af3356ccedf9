//! The install test's desktop part: the installed app (the program the `.desktop` entry
//! names) signs in to the installed curfewd through tauri-driver, in a desktop session of
//! its own (Xvfb, D-Bus, GNOME Keyring), as `xtask install-test-app` run inside it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The installed app signs in, in a desktop session of its own: this program again,
/// as `install-test-app`, inside Xvfb, D-Bus and GNOME Keyring.
pub fn sign_in_with_the_app(
    app: &Path,
    url: &str,
    password: &str,
    dir: &Path,
) -> anyhow::Result<()> {
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;
    let mut inner = Command::new(std::env::current_exe()?);
    inner
        .args(["install-test-app", url])
        .arg(app)
        .env("CURFEW_INSTALL_TEST_PASSWORD", password)
        .env("TAURI_DRIVER_BIN", crate::setup::ensure_tauri_driver()?);
    crate::run_step(
        "the installed app signs in to the installed curfewd",
        &mut crate::setup::desktop_session(&home, &mut inner),
    )
}

/// `install-test-app URL APP`: inside the desktop session, the app at APP signs in as
/// root and shows who is signed in.
pub fn app_signs_in(args: &[String]) -> anyhow::Result<()> {
    let [url, app] = args else {
        bail!("usage: xtask install-test-app URL APP");
    };
    let driver = std::env::var_os("TAURI_DRIVER_BIN").context("TAURI_DRIVER_BIN")?;
    let password =
        std::env::var("CURFEW_INSTALL_TEST_PASSWORD").context("CURFEW_INSTALL_TEST_PASSWORD")?;
    let config = PathBuf::from(std::env::var_os("XDG_CONFIG_HOME").context("XDG_CONFIG_HOME")?);
    tokio::runtime::Runtime::new()?.block_on(async {
        let session = Session::launch(Path::new(&driver), Path::new(app), &config).await?;
        let result = async {
            let wait = Duration::from_secs(30);
            // The form shows once the app has looked for a remembered sign-in; until then
            // its fields cannot take keys.
            for (field, value) in [
                ("#server", url.as_str()),
                ("#username", "root"),
                ("#password", password.as_str()),
            ] {
                let deadline = Instant::now() + wait;
                let element = session.wait_for(field, wait).await?;
                while let Err(e) = element.send_keys(value).await {
                    if Instant::now() > deadline {
                        bail!("the app's {field} takes no keys: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            session
                .wait_for("#signin-submit", wait)
                .await?
                .click()
                .await?;
            session.wait_for("#shell", wait).await?;
            let deadline = Instant::now() + wait;
            loop {
                let who = session.wait_for("#whoami", wait).await?.text().await?;
                if who.contains("signed in as root (admin)") {
                    eprintln!("    ok: the app says {who:?}");
                    return Ok(());
                }
                if Instant::now() > deadline {
                    bail!("the app did not sign in: #whoami says {who:?}");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        .await;
        session.quit().await;
        result
    })
}

/// One WebDriver session with the app through tauri-driver.
struct Session {
    client: fantoccini::Client,
    driver: Child,
}

impl Session {
    async fn launch(driver: &Path, app: &Path, config_home: &Path) -> anyhow::Result<Session> {
        let (port, native) = (curfew_testkit::free_port(), curfew_testkit::free_port());
        let driver = Command::new(driver)
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
                fantoccini::ClientBuilder::rustls()?
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .await;
            match attempt {
                Ok(Ok(client)) => return Ok(Session { client, driver }),
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                other => bail!("no WebDriver session with the installed app: {other:?}"),
            }
        }
    }

    async fn wait_for(
        &self,
        css: &str,
        within: Duration,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(within)
            .for_element(fantoccini::Locator::Css(css))
            .await
            .with_context(|| format!("no {css} in the app within {within:?}"))
    }

    /// Closes the app; tauri-driver gets SIGTERM (SIGKILL would orphan WebKitWebDriver).
    async fn quit(mut self) {
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
