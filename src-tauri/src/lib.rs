//! curfew-app: the desktop shell. Tauri commands, the OS keychain and the window; the
//! contract and the HTTP client come from the `curfew` library.

mod commands;
pub mod error;
pub mod keychain;
pub mod profile;
pub mod session;

use std::path::PathBuf;

use tauri::{Builder, Manager, Runtime};

use crate::keychain::Keychain;
use crate::session::AppState;

/// The app's commands on any runtime builder (tests use the mock runtime).
pub fn with_commands<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::startup,
        commands::sign_in,
        commands::sign_out,
        commands::list_users,
        commands::session_summary,
        commands::logout_user,
        commands::logout_all,
        commands::set_user_active,
        commands::audit,
    ])
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CURFEW_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    with_commands(tauri::Builder::default())
        .setup(|app| {
            let dir: PathBuf = app.path().app_config_dir()?;
            app.manage(AppState::new(Keychain::platform(), dir));
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running Curfew");
}

#[cfg(test)]
mod tests;
