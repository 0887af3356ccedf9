//! The tests' OpenID Provider as a child process: `tests/oidc/provider.mjs`, the certified
//! `oidc-provider` on the machine's Node, from the folder `cargo xtask test` installs it
//! in (`CURFEW_OIDC_PROVIDER_DIR`, else `target/oidc-provider`). Its events (one JSON
//! object a line on its standard output) are kept for the tests to wait on.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use curfew_testkit::gate::repo_root;
use serde_json::Value;

/// What the provider knows of its one client, `curfew`.
#[derive(Clone)]
pub struct Registration {
    pub secret: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: String,
}

pub struct IdentityProvider {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, the issuer.
    pub issuer: String,
    events: Arc<Mutex<Vec<Value>>>,
    log: Arc<Mutex<String>>,
}

/// The folder whose `node_modules` holds oidc-provider.
fn package_dir() -> PathBuf {
    let dir = std::env::var_os("CURFEW_OIDC_PROVIDER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/oidc-provider"));
    assert!(
        dir.join("node_modules/oidc-provider/package.json").exists(),
        "no oidc-provider in {}: `cargo xtask oidc-provider` installs it (as `cargo xtask test` \
         does), or set CURFEW_OIDC_PROVIDER_DIR",
        dir.display()
    );
    dir
}

impl IdentityProvider {
    /// No provider running (what a restart swaps in while the old one stops).
    pub fn placeholder() -> IdentityProvider {
        IdentityProvider {
            child: None,
            issuer: String::new(),
            events: Arc::default(),
            log: Arc::default(),
        }
    }

    /// Starts the provider on `127.0.0.1:port` and waits for it to listen.
    pub fn start(port: u16, client: &Registration) -> IdentityProvider {
        let mut child = Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".into()))
            .arg(repo_root().join("tests/oidc/provider.mjs"))
            .env("OIDC_PROVIDER_DIR", package_dir())
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENT_SECRET", &client.secret)
            .env("OIDC_REDIRECT_URIS", client.redirect_uris.join(","))
            .env(
                "OIDC_POST_LOGOUT_REDIRECT_URIS",
                client.post_logout_redirect_uris.join(","),
            )
            .env(
                "OIDC_BACKCHANNEL_LOGOUT_URI",
                &client.backchannel_logout_uri,
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start node tests/oidc/provider.mjs (Debian package nodejs)");
        let events = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::new(Mutex::new(String::new()));
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let (kept, kept_log) = (events.clone(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                kept_log.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(issuer) = line.strip_prefix("oidc-provider listening on ") {
                    let _ = first_tx.send(issuer.to_owned());
                } else if let Ok(event) = serde_json::from_str::<Value>(&line) {
                    kept.lock().unwrap().push(event);
                }
            }
        });
        let stderr = child.stderr.take().expect("stderr");
        let err_log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                err_log
                    .lock()
                    .unwrap()
                    .push_str(&format!("stderr: {line}\n"));
            }
        });
        let issuer = first_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!(
                    "the OpenID Provider did not start in 30 s; its output:\n{}",
                    log.lock().unwrap()
                )
            });
        assert_eq!(issuer, format!("http://127.0.0.1:{port}"));
        IdentityProvider {
            child: Some(child),
            issuer,
            events,
            log,
        }
    }

    /// Everything it printed so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The events named `name` so far, oldest first.
    pub fn events(&self, name: &str) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == name)
            .cloned()
            .collect()
    }

    /// Waits until there are more than `seen` events named `name`; returns the newest.
    pub async fn until_event(&self, name: &str, seen: usize, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let events = self.events(name);
            if events.len() > seen {
                return events.last().cloned().expect("one");
            }
            assert!(
                Instant::now() < deadline,
                "no new {name} event at the provider within {within:?}; its output:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Makes the token endpoint's next answer carry a bad ID token (`tampered`,
    /// `unsigned`, `audience`, `expired`, `nonce`, `issuer`: see provider.mjs).
    pub async fn spoil_next_id_token(&self, how: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/testing/spoil-next-id-token", self.issuer))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("how={how}"))
            .send()
            .await
            .expect("the provider's /testing/spoil-next-id-token");
        assert_eq!(response.status(), 204, "spoil {how}");
    }

    /// Ends `account`'s sessions at the provider from its side (its own back-channel
    /// logout to each client): the status and `{ended, failed}`.
    pub async fn end_sessions_of(&self, account: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/testing/end-session", self.issuer))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("account", account)
                    .finish(),
            )
            .send()
            .await
            .expect("the provider's /testing/end-session");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
