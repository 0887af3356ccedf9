//! The server switcher's commands: switch to another saved server (signed in with its
//! remembered token, or its sign-in screen), leave for the blank sign-in screen to add
//! one, and forget one. Thin: the flows are [`AppState`]'s; each one that ends signed in
//! starts that server's notifications and tray line, each one that does not says so.

use tauri::{AppHandle, Runtime, State};
use tracing::instrument;

use crate::error::Result;
use crate::session::{AppState, StartupView};

/// After a flow: the watcher and the tray follow where the app is now.
async fn follow<R: Runtime>(app: &AppHandle<R>, state: &AppState, view: &StartupView) {
    if view.signed_in.is_some() {
        crate::commands::signed_in(app, state).await;
    } else {
        crate::tray::set_server(app, None);
        crate::tray::set_status(app, "Not signed in");
        crate::others::follow(app);
    }
}

#[tauri::command]
#[instrument(skip(app, state), err(Debug))]
pub async fn switch_server<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> Result<StartupView> {
    let view = state.switch_to(&name).await?;
    follow(&app, &state, &view).await;
    Ok(view)
}

#[tauri::command]
#[instrument(skip_all)]
pub async fn add_server<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<StartupView> {
    let view = state.add_server().await;
    follow(&app, &state, &view).await;
    Ok(view)
}

#[tauri::command]
#[instrument(skip(app, state), err(Debug))]
pub async fn remove_server<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> Result<StartupView> {
    let signed_in_before = state.server_label().await;
    let view = state.remove_server(&name).await?;
    // Still signed in to the same server: its watcher goes on; the one of the server
    // forgotten stops.
    if view.signed_in.is_none() || signed_in_before != state.server_label().await {
        follow(&app, &state, &view).await;
    } else {
        crate::others::follow(&app);
    }
    Ok(view)
}

#[tauri::command]
#[instrument(skip_all)]
pub fn list_servers(state: State<'_, AppState>) -> crate::servers::ServerList {
    state.server_list()
}
