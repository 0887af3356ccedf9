//! One Curfew per desktop session and settings folder: the first instance owns a name on
//! the session bus and serves `Focus`; a second launch finds the name taken, asks the first
//! to show its window, and quits (so there is one window, one event stream and one set of
//! notifications). The name carries a digest of the settings folder, so Curfews with
//! settings of their own (the tests, each in a folder of its own) do not meet. Linux only;
//! elsewhere every launch runs.

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
const INTERFACE: &str = "dev.curfew.app.Instance";
#[cfg(target_os = "linux")]
const PATH: &str = "/dev/curfew/app/Instance";

/// The bus name of the Curfew that uses this settings folder (`$XDG_CONFIG_HOME`, else
/// `~/.config`): FNV-1a of its path, stable across builds.
#[cfg(target_os = "linux")]
fn bus_name() -> String {
    let folder = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".config")))
        .unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in folder.as_os_str().as_encoded_bytes() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{INTERFACE}.h{hash:016x}")
}

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
        let name = bus_name();
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
                let reply = bus
                    .request_name_with_flags(name.as_str(), RequestNameFlags::DoNotQueue.into())?;
                Ok((bus, reply))
            });
        match claimed {
            Ok((bus, RequestNameReply::PrimaryOwner | RequestNameReply::AlreadyOwner)) => {
                Claim::First(Instance { _bus: bus, app })
            }
            Ok(_) | Err(zbus::Error::NameTaken) => {
                let asked = zbus::blocking::Connection::session().and_then(|bus| {
                    bus.call_method(Some(name.as_str()), PATH, Some(INTERFACE), "Focus", &())
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
