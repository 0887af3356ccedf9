//! Notifications from the servers the app remembers but is not showing. The admin signed
//! in to production still hears of staging's maintenance ("staging: Maintenance warning
//! sent"), as each server's sign-in is remembered for exactly that: the way back.
//!
//! Invariants: each remembered server other than the one signed in to has one watcher
//! (an [`events::watch`] in [`Followed::Other`] mode), and no other server has one; such a
//! watcher only notifies: the window and the tray show the current server alone; a token
//! such a server refuses is deleted from the keychain, and the admin told, at once.

use std::collections::HashMap;
use std::sync::Mutex;

use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager, Runtime};

use crate::events::{self, Followed};
use crate::servers::SavedServer;
use crate::session::AppState;

/// The watchers of the other remembered servers, by the entry each follows (a changed
/// address or username is another entry, watched afresh).
#[derive(Default)]
pub struct OtherServers {
    watching: Mutex<HashMap<SavedServer, JoinHandle<()>>>,
    /// One [`follow`] at a time, in the order asked: a later one sees the list as it is
    /// after an earlier one, never the reverse.
    turn: tokio::sync::Mutex<()>,
}

/// Which servers want a watcher: the remembered ones, but the one signed in to.
pub fn wanted(servers: &[SavedServer], current: Option<&str>) -> Vec<SavedServer> {
    servers
        .iter()
        .filter(|s| s.remember && Some(s.name.as_str()) != current)
        .cloned()
        .collect()
}

/// Makes the watchers match the server list after whatever changed it (start-up, a
/// sign-in or sign-out, a switch, a server forgotten), in the background: reading the
/// keychain for each server must not hold up what the admin asked for.
pub fn follow<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move { follow_now(&app).await });
}

async fn follow_now<R: Runtime>(app: &AppHandle<R>) {
    let (Some(state), Some(others)) =
        (app.try_state::<AppState>(), app.try_state::<OtherServers>())
    else {
        return;
    };
    let _turn = others.turn.lock().await;
    let current = state.server_label().await;
    let wanted = wanted(&state.server_list().servers, current.as_deref());
    let missing: Vec<SavedServer> = {
        let mut watching = others.watching.lock().expect("watchers lock");
        // A watcher that ended (its token refused) is started again only if a token is
        // remembered again.
        watching.retain(|saved, task| {
            let keep = wanted.contains(saved) && !task.inner().is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        wanted
            .into_iter()
            .filter(|s| !watching.contains_key(s))
            .collect()
    };
    for saved in missing {
        let Some((client, account)) = state.remembered_client(&saved).await else {
            continue;
        };
        tracing::info!(server = %saved.name, "following another remembered server");
        let task = tauri::async_runtime::spawn(events::watch(
            app.clone(),
            client,
            saved.name.clone(),
            Followed::Other { account },
        ));
        let previous = others
            .watching
            .lock()
            .expect("watchers lock")
            .insert(saved, task);
        if let Some(previous) = previous {
            previous.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(name: &str, remember: bool) -> SavedServer {
        SavedServer {
            name: name.into(),
            server: format!("https://{name}.example/"),
            username: "root".into(),
            remember,
        }
    }

    #[test]
    fn every_remembered_server_but_the_current_one_is_watched() {
        let servers = [
            saved("production", true),
            saved("staging", true),
            saved("lab", false),
        ];
        let names = |current| {
            wanted(&servers, current)
                .into_iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(Some("production")), ["staging"]);
        assert_eq!(names(Some("lab")), ["production", "staging"]);
        assert_eq!(names(None), ["production", "staging"]);
    }
}
