//! The tray icon: Curfew keeps running there when its window is closed, so notifications
//! keep coming. Its menu shows the next maintenance window, opens the window, or quits.

use chrono::{Local, Utc};
use curfew::api::{MaintenanceList, MaintenanceWindow, WindowState};
use curfew::Client;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{App, AppHandle, Manager, Runtime};

/// Whether the desktop shows tray icons. On Linux a tray icon is a StatusNotifierItem, shown
/// only while a StatusNotifierWatcher with a registered host is on the session bus; other
/// systems always have a tray.
pub fn host_present() -> bool {
    #[cfg(target_os = "linux")]
    {
        let present = (|| -> zbus::Result<bool> {
            let bus = zbus::blocking::Connection::session()?;
            let watcher = "org.kde.StatusNotifierWatcher";
            let dbus = zbus::blocking::fdo::DBusProxy::new(&bus)?;
            if !dbus.name_has_owner(watcher.try_into()?)? {
                return Ok(false);
            }
            let proxy =
                zbus::blocking::Proxy::new(&bus, watcher, "/StatusNotifierWatcher", watcher)?;
            // A watcher that cannot say whether a host is registered is taken at its word.
            Ok(proxy
                .get_property::<bool>("IsStatusNotifierHostRegistered")
                .unwrap_or(true))
        })();
        match present {
            Ok(present) => present,
            Err(e) => {
                tracing::warn!(error = %e, "could not ask the session bus for a tray host");
                false
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    true
}

/// The menu line that names the next window, led by the name of the server signed in to.
pub struct TrayStatus<R: Runtime> {
    pub line: MenuItem<R>,
    server: std::sync::Mutex<Option<String>>,
}

pub fn create<R: Runtime>(app: &App<R>) -> tauri::Result<()> {
    let status = MenuItem::with_id(app, "status", "Not signed in", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Curfew", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Curfew", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&status, &separator, &open, &quit])?;
    let mut tray = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .tooltip("Curfew");
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.on_menu_event(|app, event| match event.id().as_ref() {
        "open" => {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.show();
                let _ = window.set_focus();
            }
        }
        "quit" => app.exit(0),
        _ => {}
    })
    .build(app)?;
    app.manage(TrayStatus {
        line: status,
        server: std::sync::Mutex::new(None),
    });
    Ok(())
}

/// Which server the line is about from now on ("staging: Next maintenance: …"); `None`
/// when signed in to none.
pub fn set_server<R: Runtime>(app: &AppHandle<R>, server: Option<String>) {
    if let Some(status) = app.try_state::<TrayStatus<R>>() {
        *status.server.lock().expect("tray lock") = server;
    }
}

pub fn set_status<R: Runtime>(app: &AppHandle<R>, text: &str) {
    if let Some(status) = app.try_state::<TrayStatus<R>>() {
        let line = match status.server.lock().expect("tray lock").as_deref() {
            Some(server) => format!("{server}: {text}"),
            None => text.to_owned(),
        };
        let _ = status.line.set_text(line);
    }
}

/// The next window: of those still to come or running now, the one that starts first.
/// The one place this rule lives: the tray's line and the UI's sidebar (through the
/// `list_maintenance` command) both show this window.
pub fn next_window(list: &MaintenanceList) -> Option<&MaintenanceWindow> {
    list.windows
        .iter()
        .filter(|w| matches!(w.state, WindowState::Scheduled | WindowState::Running))
        .min_by_key(|w| w.starts_at)
}

/// "Next maintenance: Sat 22:00 (in 3 h 12 min)", or that none is planned.
pub fn next_window_line(list: &MaintenanceList) -> String {
    match next_window(list) {
        None => "No maintenance planned".into(),
        Some(w) if w.state == WindowState::Running => "Maintenance running now".into(),
        Some(w) => {
            let minutes = (w.starts_at - Utc::now()).num_minutes().max(0);
            let left = if minutes >= 60 {
                format!("{} h {} min", minutes / 60, minutes % 60)
            } else {
                format!("{minutes} min")
            };
            format!(
                "Next maintenance: {} (in {left})",
                w.starts_at.with_timezone(&Local).format("%a %H:%M")
            )
        }
    }
}

pub fn show_next<R: Runtime>(app: &AppHandle<R>, list: &MaintenanceList) {
    set_status(app, &next_window_line(list));
}

pub async fn refresh<R: Runtime>(app: &AppHandle<R>, client: &Client) {
    if let Ok(list) = client.maintenance().await {
        show_next(app, &list);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(starts_in_minutes: i64, state: WindowState) -> MaintenanceWindow {
        let now = Utc::now();
        MaintenanceWindow {
            id: uuid::Uuid::new_v4(),
            // Half a minute of slack so that the whole minutes left do not tick over.
            starts_at: now + chrono::Duration::seconds(starts_in_minutes * 60 + 30),
            ends_at: None,
            message: "m".into(),
            warn_before: vec![],
            freeze_before: 0,
            keep_admins: true,
            created_by_username: "root".into(),
            created_at: now,
            state,
            finished_at: None,
            steps: vec![],
            series: None,
            moved_from: None,
        }
    }

    #[test]
    fn the_tray_names_the_next_window_that_is_still_to_come() {
        let none = MaintenanceList { windows: vec![] };
        assert_eq!(next_window_line(&none), "No maintenance planned");
        let over = MaintenanceList {
            windows: vec![
                window(-90, WindowState::Ended),
                window(5, WindowState::Cancelled),
            ],
        };
        assert_eq!(next_window_line(&over), "No maintenance planned");
        let planned = MaintenanceList {
            windows: vec![
                window(24 * 60, WindowState::Scheduled),
                window(125, WindowState::Scheduled),
                window(10, WindowState::Cancelled),
            ],
        };
        assert_eq!(
            next_window(&planned).map(|w| w.id),
            Some(planned.windows[1].id)
        );
        let line = next_window_line(&planned);
        assert!(line.starts_with("Next maintenance: "), "{line}");
        assert!(line.ends_with("(in 2 h 5 min)"), "{line}");
        let soon = MaintenanceList {
            windows: vec![window(7, WindowState::Scheduled)],
        };
        assert!(next_window_line(&soon).ends_with("(in 7 min)"));
        let running = MaintenanceList {
            windows: vec![
                window(-1, WindowState::Running),
                window(60, WindowState::Scheduled),
            ],
        };
        assert_eq!(next_window_line(&running), "Maintenance running now");
    }
}
