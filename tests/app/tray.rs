//! The tray: closing the window keeps Curfew running and notifying; the tray menu names
//! the next maintenance window, opens the window again, and quits. The window is closed as
//! a window manager closes it (a `WM_DELETE_WINDOW` message over X11), and the test stands
//! in for the desktop's tray host (a StatusNotifierWatcher on the session bus), reading
//! and clicking the menu the app exports over D-Bus (dbusmenu).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

use curfew::api::{ClientKind, MaintenanceRequest};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt, EventMask, MapState, Window,
};

use crate::driver::App;
use crate::maintenance::NotifyMonitor;
use crate::support::Server;

/// The app's window on the X display, found by the process that owns it.
struct AppWindow {
    conn: x11rb::rust_connection::RustConnection,
    window: Window,
}

impl AppWindow {
    fn of(pid: u32) -> AppWindow {
        let (conn, screen) = x11rb::connect(None).expect("the X display (Xvfb)");
        let root = conn.setup().roots[screen].root;
        let pid_atom = atom(&conn, "_NET_WM_PID");
        let children = conn.query_tree(root).unwrap().reply().unwrap().children;
        let window = children
            .into_iter()
            .find(|&w| {
                let owner = conn
                    .get_property(false, w, pid_atom, AtomEnum::CARDINAL, 0, 1)
                    .unwrap()
                    .reply()
                    .ok()
                    .and_then(|p| p.value32().and_then(|mut v| v.next()));
                owner == Some(pid) && map_state(&conn, w) == MapState::VIEWABLE
            })
            .expect("a visible window of the app");
        AppWindow { conn, window }
    }

    /// What a window manager sends when the user clicks the close button.
    fn close(&self) {
        let protocols = atom(&self.conn, "WM_PROTOCOLS");
        let delete = atom(&self.conn, "WM_DELETE_WINDOW");
        let message = ClientMessageEvent::new(32, self.window, protocols, [delete, 0, 0, 0, 0]);
        self.conn
            .send_event(false, self.window, EventMask::NO_EVENT, message)
            .unwrap();
        self.conn.flush().unwrap();
    }

    fn state(&self) -> MapState {
        map_state(&self.conn, self.window)
    }
}

fn atom(conn: &impl Connection, name: &str) -> u32 {
    conn.intern_atom(false, name.as_bytes())
        .unwrap()
        .reply()
        .unwrap()
        .atom
}

fn map_state(conn: &impl Connection, window: Window) -> MapState {
    conn.get_window_attributes(window)
        .unwrap()
        .reply()
        .map(|a| a.map_state)
        .unwrap_or(MapState::UNMAPPED)
}

/// A minimal tray host: it accepts the registrations of tray items and reports a host,
/// as a desktop panel would.
#[derive(Clone, Default)]
pub(crate) struct Watcher {
    items: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    async fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        if let Some(sender) = header.sender() {
            self.items
                .lock()
                .unwrap()
                .push((sender.to_string(), service));
        }
    }

    async fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    async fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items
            .lock()
            .unwrap()
            .iter()
            .map(|(_, service)| service.clone())
            .collect()
    }

    #[zbus(property)]
    async fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    async fn protocol_version(&self) -> i32 {
        0
    }
}

/// The app's tray menu, as exported over D-Bus.
pub(crate) struct TrayMenu {
    menu: zbus::Proxy<'static>,
}

type MenuNode = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

impl TrayMenu {
    /// Waits for the app's tray item to register with `watcher`, then finds its menu.
    pub(crate) async fn of(conn: &zbus::Connection, watcher: &Watcher, pid: u32) -> TrayMenu {
        let dbus = zbus::fdo::DBusProxy::new(conn).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let (sender, service) = loop {
            let items = watcher.items.lock().unwrap().clone();
            let mut ours = None;
            for (sender, service) in items {
                let name = zbus::names::BusName::try_from(sender.as_str()).unwrap();
                if dbus.get_connection_unix_process_id(name).await.ok() == Some(pid) {
                    ours = Some((sender, service));
                }
            }
            if let Some(found) = ours {
                break found;
            }
            assert!(
                Instant::now() < deadline,
                "the app's tray icon never registered with the tray host"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // An item registers with its object path, or with a bus name at the usual path.
        let (destination, path) = if service.starts_with('/') {
            (sender, service)
        } else {
            (service, "/StatusNotifierItem".to_owned())
        };
        let item = zbus::Proxy::new_owned(
            conn.clone(),
            destination.clone(),
            path,
            "org.kde.StatusNotifierItem",
        )
        .await
        .unwrap();
        let menu_path: OwnedObjectPath = item.get_property("Menu").await.unwrap();
        let menu = zbus::Proxy::new_owned(
            conn.clone(),
            destination,
            menu_path,
            "com.canonical.dbusmenu",
        )
        .await
        .unwrap();
        TrayMenu { menu }
    }

    /// The top-level entries: (id, label without mnemonic marks, enabled).
    async fn entries(&self) -> Vec<(i32, String, bool)> {
        let (_revision, (_, _, children)): (u32, MenuNode) = self
            .menu
            .call("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
            .await
            .unwrap();
        children
            .into_iter()
            .filter_map(|child| {
                let value = match Value::from(child) {
                    Value::Value(inner) => *inner,
                    other => other,
                };
                let (id, properties, _): MenuNode = value.try_into().ok()?;
                let text = |key: &str| {
                    properties
                        .get(key)
                        .and_then(|v| String::try_from(v.clone()).ok())
                };
                let label = text("label")?.replace('_', "");
                let enabled = properties
                    .get("enabled")
                    .and_then(|v| bool::try_from(v.clone()).ok())
                    .unwrap_or(true);
                Some((id, label, enabled))
            })
            .collect()
    }

    pub(crate) async fn wait_for_entry(&self, starting_with: &str) -> (i32, String, bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let entries = self.entries().await;
            if let Some(entry) = entries
                .iter()
                .find(|(_, l, _)| l.starts_with(starting_with))
            {
                return entry.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no tray entry starting with {starting_with:?}: {entries:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, label: &str) {
        let (id, _, enabled) = self.wait_for_entry(label).await;
        assert!(enabled, "{label} is disabled");
        let _: () = self
            .menu
            .call("Event", &(id, "clicked", Value::from(0i32), 0u32))
            .await
            .unwrap();
    }
}

/// Whether a tray host is on the session bus is the same for every test in this run: the
/// tests that put one there, or need none, take turns.
pub(crate) static TRAY_HOST: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_keeps_curfew_running_names_the_next_window_reopens_and_quits() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("erin", "member");
    let _turn = TRAY_HOST.lock().await;
    // The tray host is there before the app, as on a desktop.
    let watcher = Watcher::default();
    let bus = zbus::connection::Builder::session()
        .unwrap()
        .name("org.kde.StatusNotifierWatcher")
        .unwrap()
        .serve_at("/StatusNotifierWatcher", watcher.clone())
        .unwrap()
        .build()
        .await
        .expect("the session bus (run the desktop tests through `cargo xtask test`)");
    let monitor = NotifyMonitor::start();
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("tray", config_home.path(), 0).await;
    let pid = app.app_pid();
    let tray = TrayMenu::of(&bus, &watcher, pid).await;
    let (_, status, enabled) = tray.wait_for_entry("Not signed in").await;
    assert!(!enabled, "the status line is not a button: {status}");

    app.sign_in_as(&server.url, "root").await;
    // The line names the server (by its host, as no name was given).
    let host = server.url.trim_start_matches("http://").to_owned();
    tray.wait_for_entry(&format!("{host}: No maintenance planned"))
        .await;
    app.shot("before-closing").await;

    let window = AppWindow::of(pid);
    window.close();
    let deadline = Instant::now() + Duration::from_secs(10);
    while window.state() != MapState::UNMAPPED {
        assert!(Instant::now() < deadline, "the window did not go away");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(alive(pid), "closing the window quit Curfew");

    // With the window closed, maintenance notifications still come, and the tray names
    // the window another administrator just scheduled.
    let (root, _) = server.login("root", ClientKind::App).await;
    let starts_at = chrono::Utc::now() + chrono::Duration::minutes(30);
    root.schedule_maintenance(&MaintenanceRequest {
        starts_at,
        ends_at: None,
        message: "Closed-window check".into(),
        warn_before: vec![3600],
        freeze_before: 0,
        keep_admins: true,
    })
    .await
    .unwrap();
    // The 1 h warning is already due: it goes out at once, 30 min before, and says so.
    monitor
        .expect(&[
            &format!("{host}: Maintenance warning sent"),
            "30 min before the start",
        ])
        .await;
    let (_, next, _) = tray
        .wait_for_entry(&format!("{host}: Next maintenance:"))
        .await;
    assert!(
        next.contains("(in 29 min)") || next.contains("(in 30 min)"),
        "{next}"
    );

    // "Open Curfew" brings the window back; "Quit Curfew" ends the app.
    tray.click("Open Curfew").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while window.state() != MapState::VIEWABLE {
        assert!(
            Instant::now() < deadline,
            "Open Curfew did not show the window"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.visible("#shell").await;
    app.shot("reopened-from-the-tray").await;

    // Closed again, then started again (from the desktop's menu, say): the second launch
    // shows the first Curfew's window and quits.
    window.close();
    let deadline = Instant::now() + Duration::from_secs(10);
    while window.state() != MapState::UNMAPPED {
        assert!(Instant::now() < deadline, "the window did not go away");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::process::Command::new(std::env::var_os("CURFEW_APP_BIN").unwrap())
            .env("XDG_CONFIG_HOME", config_home.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .status(),
    )
    .await;
    assert!(
        matches!(status, Ok(Ok(s)) if s.success()),
        "defect 7: a second launch did not quit: {status:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while window.state() != MapState::VIEWABLE {
        assert!(
            Instant::now() < deadline,
            "defect 7: a second launch did not show the first Curfew's window"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.shot("shown-by-a-second-launch").await;
    tray.click("Quit Curfew").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && !zombie(pid) {
        assert!(Instant::now() < deadline, "Quit Curfew did not end the app");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.quit().await;
}

/// Ended, waiting for its parent to collect it.
fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat.rsplit_once(')')?.1.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tray_host_closing_the_window_quits_curfew() {
    // Stock GNOME: no StatusNotifierWatcher on the session bus, so a tray icon is nowhere
    // to be seen, and a hidden window would leave no way back.
    let _turn = TRAY_HOST.lock().await;
    let bus = zbus::Connection::session().await.unwrap();
    let owner = zbus::fdo::DBusProxy::new(&bus)
        .await
        .unwrap()
        .name_has_owner("org.kde.StatusNotifierWatcher".try_into().unwrap())
        .await
        .unwrap();
    assert!(!owner, "a tray host is on this test's bus");
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("no-tray-host", config_home.path(), 0).await;
    app.visible("#signin-view").await;
    app.shot("before-closing").await;
    let pid = app.app_pid();
    AppWindow::of(pid).close();
    // Defect 7: Curfew quits (it must not hide with no way back).
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && !zombie(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !alive(pid) || zombie(pid),
        "defect 7: with no tray host, closing the window left Curfew running, hidden"
    );
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_focuses_the_first_and_quits() {
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("second-launch", config_home.path(), 0).await;
    app.visible("#signin-view").await;
    let first = app.app_pid();
    // Defect 7: the admin starts Curfew again (from the menu, say).
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::process::Command::new(std::env::var_os("CURFEW_APP_BIN").unwrap())
            .env("XDG_CONFIG_HOME", config_home.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .status(),
    )
    .await;
    assert!(
        matches!(status, Ok(Ok(s)) if s.success()),
        "defect 7: a second launch started a second Curfew: {status:?}"
    );
    assert!(alive(first), "the first Curfew quit");
    assert_eq!(AppWindow::of(first).state(), MapState::VIEWABLE);
    app.shot("after-second-launch").await;
    app.quit().await;
}
