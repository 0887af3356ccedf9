//! The commands the webview may invoke: thin, traced (never with secrets), validating
//! their input and delegating to [`crate::session::AppState`].

use curfew::api::{
    AuditPage, LogoutResult, MaintenanceList, MaintenanceRequest, MaintenanceWindow,
    SessionSummary, UserFilter, UserPage, UserStatusChange,
};
use tauri::{AppHandle, Runtime, State};
use tracing::instrument;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::session::{AppState, SessionView, StartupView};

const SEARCH_MAX: usize = 100;
const CURSOR_MAX: usize = 1024;

fn check_cursor(cursor: &Option<String>) -> Result<()> {
    match cursor {
        Some(c) if c.len() > CURSOR_MAX => Err(Error::InvalidInput(
            "That page position is not valid. Reload the list.".into(),
        )),
        _ => Ok(()),
    }
}

/// Starts the notifications and the tray's next-window line for the signed-in admin.
async fn signed_in<R: Runtime>(app: &AppHandle<R>, state: &AppState) {
    if let Some(client) = state.client().await {
        crate::tray::refresh(app, &client).await;
        let task = tauri::async_runtime::spawn(crate::events::watch(app.clone(), client));
        state.set_watcher(Some(task));
    }
}

#[tauri::command]
#[instrument(skip_all)]
pub async fn startup<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<StartupView> {
    let view = state.startup().await;
    if view.signed_in.is_some() {
        signed_in(&app, &state).await;
    }
    Ok(view)
}

#[tauri::command]
#[instrument(skip(state, password), err(Debug))]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    server: String,
    username: String,
    password: String,
    remember: bool,
) -> Result<SessionView> {
    let view = state
        .sign_in(&server, &username, &password, remember)
        .await?;
    signed_in(&app, &state).await;
    Ok(view)
}

#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn sign_out<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Result<()> {
    let result = state.sign_out().await;
    crate::tray::set_status(&app, "Not signed in");
    result
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn list_users(
    state: State<'_, AppState>,
    q: Option<String>,
    status: Option<UserFilter>,
    cursor: Option<String>,
) -> Result<UserPage> {
    if q.as_ref().is_some_and(|q| q.chars().count() > SEARCH_MAX) {
        return Err(Error::InvalidInput(format!(
            "Search for at most {SEARCH_MAX} characters."
        )));
    }
    check_cursor(&cursor)?;
    state.list_users(q, status, cursor).await
}

#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn session_summary(state: State<'_, AppState>) -> Result<SessionSummary> {
    state.session_summary().await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn logout_user(state: State<'_, AppState>, id: Uuid) -> Result<LogoutResult> {
    state.logout_user(id).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn logout_all(state: State<'_, AppState>, keep_admins: bool) -> Result<LogoutResult> {
    state.logout_all(keep_admins).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn set_user_active(
    state: State<'_, AppState>,
    id: Uuid,
    active: bool,
) -> Result<UserStatusChange> {
    state.set_user_active(id, active).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn audit(state: State<'_, AppState>, cursor: Option<String>) -> Result<AuditPage> {
    check_cursor(&cursor)?;
    state.audit(cursor).await
}

#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn list_maintenance<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<MaintenanceList> {
    let list = state.maintenance().await?;
    crate::tray::show_next(&app, &list);
    Ok(list)
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn schedule_maintenance(
    state: State<'_, AppState>,
    request: MaintenanceRequest,
) -> Result<MaintenanceWindow> {
    if request.message.chars().count() > 500 {
        return Err(Error::InvalidInput(
            "The message is longer than 500 characters; shorten it.".into(),
        ));
    }
    state.schedule_maintenance(request).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn cancel_maintenance(state: State<'_, AppState>, id: Uuid) -> Result<MaintenanceWindow> {
    state.cancel_maintenance(id).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn end_maintenance(state: State<'_, AppState>, id: Uuid) -> Result<MaintenanceWindow> {
    state.end_maintenance(id).await
}
