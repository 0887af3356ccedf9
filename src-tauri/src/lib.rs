//! curfew-app: the desktop shell. Tauri commands, the OS keychain and the window; the
//! contract and the HTTP client come from the `curfew` library.

mod audit;
mod bulk;
mod commands;
pub mod contract;
pub mod error;
pub mod events;
mod instance;
pub mod keychain;
mod others;
pub mod profile;
mod rendering;
pub mod servers;
pub mod session;
mod switching;
mod tray;

use std::path::PathBuf;

use tauri::{Builder, Manager, Runtime};

use crate::keychain::Keychain;
use crate::session::AppState;

/// The app's commands on any runtime builder (tests use the mock runtime).
pub fn with_commands<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::contract,
        commands::startup,
        commands::sign_in,
        commands::sign_out,
        switching::switch_server,
        switching::add_server,
        switching::remove_server,
        switching::list_servers,
        commands::list_users,
        commands::session_summary,
        bulk::user_counts,
        bulk::logout_selected,
        bulk::deactivate_selected,
        bulk::logout_idle,
        commands::logout_user,
        commands::logout_all,
        commands::set_user_active,
        audit::audit,
        audit::export_audit,
        commands::list_maintenance,
        commands::schedule_maintenance,
        commands::cancel_maintenance,
        commands::end_maintenance,
        commands::preview_repeat,
        commands::schedule_series,
        commands::cancel_series,
        commands::change_maintenance,
        commands::create_user,
        commands::update_user,
        commands::reset_password,
        commands::delete_user,
        commands::user_sessions,
        commands::end_session,
        commands::sign_in_throttles,
        commands::clear_sign_in_throttle,
        commands::list_service_tokens,
        commands::create_service_token,
        commands::revoke_service_token,
        commands::import_users,
    ])
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CURFEW_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let instance = match instance::claim() {
        instance::Claim::Second => {
            tracing::info!("Curfew already runs: its window was shown");
            return;
        }
        instance::Claim::First(instance) => Some(instance),
        instance::Claim::Unknown => None,
    };
    with_commands(tauri::Builder::default())
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            if let Some(instance) = instance {
                instance.attach(app.handle().clone());
                app.manage(instance);
            }
            let dir: PathBuf = app.path().app_config_dir()?;
            app.manage(AppState::new(Keychain::platform(), dir));
            app.manage(others::OtherServers::default());
            AppState::begin_startup(app.handle());
            if let Some(window) = app.get_webview_window("main") {
                rendering::configure(&window);
            }
            // Without a tray (some desktops have none) closing the window quits instead.
            if let Err(e) = tray::create(app) {
                tracing::warn!(error = %e, "no tray icon");
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Curfew in the tray, so notifications keep coming; with
            // no tray host to show the icon (stock GNOME) there would be no way back, so
            // closing quits.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                if window.app_handle().tray_by_id("main").is_some() && tray::host_present() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running Curfew");
}

#[cfg(test)]
mod tests;
