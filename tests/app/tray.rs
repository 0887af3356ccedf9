//! Closing the window keeps Curfew running (in the tray) and notifying. The window is
//! closed as a window manager closes it: a `WM_DELETE_WINDOW` message over X11.

use std::time::{Duration, Instant};

use curfew::api::{ClientKind, MaintenanceRequest};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt, EventMask, MapState, Window,
};

use crate::driver::App;
use crate::maintenance::NotifyMonitor;
use crate::support::{Server, PASSWORD};

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

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_window_keeps_curfew_running_and_notifying() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("erin", "member");
    let monitor = NotifyMonitor::start();
    let config_home = tempfile::tempdir().unwrap();
    let mut app = App::launch("tray", config_home.path(), 0).await;
    app.visible("#signin-view").await;
    app.fill("#server", &server.url).await;
    app.fill("#username", "root").await;
    app.fill("#password", PASSWORD).await;
    app.click("#signin-submit").await;
    app.visible("#shell").await;
    app.shot("before-closing").await;

    let pid = app.app_pid();
    let window = AppWindow::of(pid);
    window.close();
    let deadline = Instant::now() + Duration::from_secs(10);
    while window.state() != MapState::UNMAPPED {
        assert!(Instant::now() < deadline, "the window did not go away");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(alive(pid), "closing the window quit Curfew");

    // With the window closed, maintenance notifications still come.
    let (root, _) = server.login("root", ClientKind::App).await;
    let starts_at = chrono::Utc::now() + chrono::Duration::seconds(30);
    root.schedule_maintenance(&MaintenanceRequest {
        starts_at,
        ends_at: None,
        message: "Closed-window check".into(),
        warn_before: vec![60],
        freeze_before: 0,
        keep_admins: true,
    })
    .await
    .unwrap();
    monitor
        .expect(&["Maintenance warning sent", "1 min before the start"])
        .await;
    assert!(alive(pid));
    app.quit().await;
}
