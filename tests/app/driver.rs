//! One app session: tauri-driver started for it, the app launched by WebKitWebDriver,
//! helpers that wait for conditions with deadlines, and screenshots.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

const WAIT: Duration = Duration::from_secs(20);

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(name).unwrap_or_else(|| {
        panic!("{name} is not set: run the desktop tests through `cargo xtask test`")
    }))
}

use curfew_testkit::free_port;

pub struct App {
    pub client: Client,
    driver: Option<Child>,
    test: String,
    step: usize,
}

impl App {
    /// Starts tauri-driver and the app with its settings under `config_home`.
    pub async fn launch(test: &str, config_home: &Path, step: usize) -> App {
        Self::launch_with(test, config_home, step, &[]).await
    }

    /// Launches with extra environment for the app (a GTK theme, say).
    pub async fn launch_with(
        test: &str,
        config_home: &Path,
        step: usize,
        env: &[(&str, &str)],
    ) -> App {
        let (port, native_port) = (free_port(), free_port());
        let driver = Command::new(env_path("TAURI_DRIVER_BIN"))
            .envs(env.iter().copied())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("XDG_CONFIG_HOME", config_home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tauri-driver");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": env_path("CURFEW_APP_BIN") }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            let attempt = tokio::time::timeout(
                Duration::from_secs(30),
                ClientBuilder::rustls()
                    .expect("rustls")
                    .capabilities(capabilities.clone())
                    .connect(&url),
            )
            .await;
            match attempt {
                Ok(Ok(client)) => break client,
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                other => panic!("no WebDriver session with the app within 60 s: {other:?}"),
            }
        };
        let app = App {
            client,
            driver: Some(driver),
            test: test.to_owned(),
            step,
        };
        // The page must be there before any script runs: a script sent at once after the
        // new session was seen to break the connection to WebKitWebDriver.
        app.find("body").await;
        app
    }

    /// Fills in the sign-in form and submits it.
    pub async fn sign_in(&self, server: &str, username: &str, password: &str, remember: bool) {
        self.visible("#signin-view").await;
        self.fill("#server", server).await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        let checkbox = self.find("#remember").await;
        if checkbox.is_selected().await.unwrap() != remember {
            checkbox.click().await.unwrap();
        }
        self.click("#signin-submit").await;
    }

    /// Signs in with the tests' password, without remembering, and waits for the shell.
    pub async fn sign_in_as(&self, server: &str, username: &str) {
        self.sign_in(server, username, crate::support::PASSWORD, false)
            .await;
        self.visible("#shell").await;
    }

    /// The app's process (tauri-driver starts WebKitWebDriver, which starts the app).
    pub fn app_pid(&self) -> u32 {
        self.find_app_pid()
            .expect("the app runs under this test's tauri-driver")
    }

    fn find_app_pid(&self) -> Option<u32> {
        let driver = self.driver.as_ref()?.id();
        let parent_of = |pid: u32| -> Option<u32> {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command name in parentheses: state, then the parent's pid.
            stat.rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        };
        std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .find(|&pid| {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                if comm.trim() != "curfew-app" {
                    return false;
                }
                let mut ancestor = parent_of(pid);
                while let Some(p) = ancestor.filter(|&p| p > 1) {
                    if p == driver {
                        return true;
                    }
                    ancestor = parent_of(p);
                }
                false
            })
    }

    pub fn step(&self) -> usize {
        self.step
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css} within {WAIT:?}: {e}"))
    }

    /// Waits until `css` is displayed. The element is looked up again at every try: a
    /// list that re-renders its rows (after an admin event) replaces the element, and a
    /// replaced one is never displayed again.
    pub async fn visible(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if element.is_displayed().await.unwrap_or(false) {
                    return element;
                }
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {css} to be displayed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn until<F, Fut>(&self, what: &str, mut condition: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + WAIT;
        while !condition().await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_default()
    }

    /// Waits until the text of `css` contains `needle`, and returns it.
    pub async fn text_containing(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last = element.text().await.unwrap_or_default();
                if last.contains(needle) {
                    return last;
                }
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {css} to contain {needle:?}; it says {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    pub async fn count_is(&self, css: &str, n: usize) {
        let deadline = Instant::now() + WAIT;
        loop {
            let seen = self.count(css).await;
            if seen == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} × {css}, saw {seen}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `css`, finding it afresh if the list it is in was re-rendered meanwhile.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let result = self.visible(css).await.click().await;
            match result {
                Ok(()) => return,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("retrying a click on {css}: {e}");
                    let _ = self
                        .client
                        .execute(
                            &format!("document.querySelector({css:?})?.scrollIntoView({{block: 'center'}})"),
                            vec![],
                        )
                        .await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let input = self.visible(css).await;
        input.clear().await.unwrap();
        if value.is_empty() {
            // Clearing fires no input event; delete the way a person does (Ctrl+A, Backspace).
            input.send_keys("x\u{E009}a\u{E009}\u{E003}").await.unwrap();
        } else {
            input.send_keys(value).await.unwrap();
        }
    }

    /// Sends `keys` (WebDriver key codes, "\u{E004}" for Tab) to the focused element, as
    /// a person types them: all at once, with no pause for a frame.
    pub async fn type_into_focused(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .expect("a focused element")
            .send_keys(keys)
            .await
            .expect("the keys");
    }

    pub async fn script(&self, js: &str) -> serde_json::Value {
        self.client.execute(js, vec![]).await.expect("script")
    }

    /// A screenshot of what the admin sees now, after the next two frames are painted.
    pub async fn shot(&mut self, name: &str) {
        // A page with nothing to repaint may not run animation frames at all: then the
        // screenshot shows it as it is.
        let painted = tokio::time::timeout(
            Duration::from_secs(3),
            self.client.execute_async(
                "const done = arguments[arguments.length - 1]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            ),
        )
        .await;
        if painted.is_err() {
            eprintln!(
                "{}: no animation frame within 3 s before the screenshot {name}",
                self.test
            );
        }
        self.step += 1;
        // WebKit answers a screenshot at its next presentation of the page, and a page
        // drawn without the GPU compositor (rendering.rs) presents only when something in
        // it changed: a dot of one pixel, all but transparent, changes every frame for a
        // few seconds so that the presentation comes.
        let _ = self
            .client
            .execute(
                "const dot = document.createElement('div'); \
                 dot.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647;background:rgb(0 0 0 / 0.004)'; \
                 document.documentElement.append(dot); \
                 const until = performance.now() + 3000; let n = 0; \
                 const tick = () => { dot.style.opacity = n++ % 2 ? '1' : '0.99'; \
                   if (performance.now() < until) requestAnimationFrame(tick); else dot.remove(); }; \
                 tick(); return true;",
                vec![],
            )
            .await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("{}-{:02}-{name}.png", self.test, self.step)),
            png,
        )
        .unwrap();
    }

    /// Ends the session (the app quits) and stops tauri-driver with SIGTERM.
    pub async fn quit(mut self) {
        // Found first: once WebKitWebDriver is gone the app is no longer its descendant.
        let app = self.find_app_pid();
        let _ = self.client.clone().close().await;
        self.stop_driver(app);
    }

    /// Stops tauri-driver and waits until the app's process is gone: a launch with the
    /// same settings folder while it still runs would find the first Curfew, ask it for
    /// its window and quit (one instance per folder), leaving the test no session.
    fn stop_driver(&mut self, app: Option<u32>) {
        if let Some(mut driver) = self.driver.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &driver.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while driver.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = driver.kill();
            let _ = driver.wait();
        }
        if let Some(pid) = app {
            let proc = format!("/proc/{pid}");
            let gone = |p: &str| {
                // A zombie has been reaped by nobody yet but holds no bus name.
                std::fs::read_to_string(format!("{p}/stat"))
                    .map(|s| {
                        s.rsplit_once(')')
                            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
                    })
                    .unwrap_or(true)
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while !gone(&proc) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if !gone(&proc) {
                eprintln!("the app (pid {pid}) outlived its session by 10 s: killed");
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                let deadline = Instant::now() + Duration::from_secs(5);
                while !gone(&proc) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let app = self.find_app_pid();
        self.stop_driver(app);
    }
}

/// The token the app keeps in the Secret Service, read by another process (secret-tool).
pub fn keychain_token(username: &str, server: &str) -> Option<String> {
    let account = format!("{username}@{}", server.trim_end_matches('/'));
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "dev.curfew.app", "username", &account])
        .output()
        .expect("secret-tool");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !token.is_empty()).then_some(token)
}
