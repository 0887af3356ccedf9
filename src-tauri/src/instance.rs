//! One Curfew per desktop session: the first instance owns a name on the session bus and
//! serves `Focus`; a second launch finds the name taken, asks the first to show its window,
//! and quits (so there is one window, one event stream and one set of notifications).
//! Linux only; elsewhere every launch runs.

use std::sync::{Arc, OnceLock};

use tauri::{AppHandle, Manager};

/// What a launch found.
pub enum Claim {
    /// This is the only Curfew: keep the guard for as long as the app runs.
    First(Instance),
    /// Another Curfew runs and was asked to show its window: quit.
    Second,
    /// No session bus to ask (or not Linux): run without the guarantee.
    Unknown,
}

/// Holds the bus name while the app runs; `attach` gives it the app to focus.
pub struct Instance {
    #[cfg(target_os = "linux")]
    _bus: zbus::blocking::Connection,
    app: Arc<OnceLock<AppHandle>>,
}

impl Instance {
    pub fn attach(&self, app: AppHandle) {
        let _ = self.app.set(app);
    }
}

#[cfg(target_os = "linux")]
const NAME: &str = "dev.curfew.app.Instance";
#[cfg(target_os = "linux")]
const PATH: &str = "/dev/curfew/app/Instance";

#[cfg(target_os = "linux")]
struct Focus {
    app: Arc<OnceLock<AppHandle>>,
}

#[cfg(target_os = "linux")]
#[zbus::interface(name = "dev.curfew.app.Instance")]
impl Focus {
    /// Shows the window of this (the first) Curfew, as a second launch asks.
    fn focus(&self) {
        tracing::info!("a second launch asked for the window");
        if let Some(window) = self.app.get().and_then(|a| a.get_webview_window("main")) {
            let _ = window.show();
            let _ = window.unminimize();
            let _ = window.set_focus();
        }
    }
}

pub fn claim() -> Claim {
    #[cfg(target_os = "linux")]
    {
        use zbus::fdo::{RequestNameFlags, RequestNameReply};
        let app = Arc::new(OnceLock::new());
        // The name is asked for without replacing its owner and without queueing: the
        // first Curfew keeps it, a second learns at once that it is taken.
        let claimed = zbus::blocking::connection::Builder::session()
            .and_then(|b| {
                b.serve_at(
                    PATH,
                    Focus {
                        app: Arc::clone(&app),
                    },
                )
            })
            .and_then(|b| b.build())
            .and_then(|bus| {
                let reply =
                    bus.request_name_with_flags(NAME, RequestNameFlags::DoNotQueue.into())?;
                Ok((bus, reply))
            });
        match claimed {
            Ok((bus, RequestNameReply::PrimaryOwner | RequestNameReply::AlreadyOwner)) => {
                Claim::First(Instance { _bus: bus, app })
            }
            Ok(_) | Err(zbus::Error::NameTaken) => {
                let asked = zbus::blocking::Connection::session().and_then(|bus| {
                    bus.call_method(Some(NAME), PATH, Some(NAME), "Focus", &())
                        .map(|_| ())
                });
                if let Err(e) = asked {
                    tracing::warn!(error = %e, "Curfew already runs but did not answer");
                }
                Claim::Second
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell whether Curfew already runs");
                Claim::Unknown
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    Claim::Unknown
}
