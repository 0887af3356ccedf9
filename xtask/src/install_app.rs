//! The install test's desktop part: the installed app (the program the `.desktop` entry
//! names) signs in to the installed curfewd through tauri-driver, in a desktop session of
//! its own (Xvfb, D-Bus, GNOME Keyring), as `xtask install-test-app` run inside it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::webdriver::Session;

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
                if who == "Signed in as root (admin)" {
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
