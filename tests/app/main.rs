//! The real desktop app in its real WebKit webview, driven through tauri-driver and
//! WebKitWebDriver under Xvfb, against real curfewd processes, with the real Secret
//! Service (GNOME Keyring) in a private D-Bus session. `cargo xtask test` provides that
//! session; every step saves a screenshot under `target/e2e-screenshots/`.

#[path = "../e2e/support.rs"]
#[allow(dead_code, unused_imports)]
mod support;

mod accounts;
mod activity;
mod bulk;
mod connection;
mod console;
mod driver;
mod journeys;
mod maintenance;
mod many_users;
mod servers;
mod tokens_import;
mod tray;
mod trust;
