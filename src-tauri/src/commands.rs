//! The commands the webview may invoke: thin, traced (never with secrets), validating
//! their input and delegating to [`crate::session::AppState`].

use curfew::api::{
    AuditPage, LogoutResult, SessionSummary, UserFilter, UserPage, UserStatusChange,
};
use tauri::State;
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

#[tauri::command]
#[instrument(skip_all)]
pub async fn startup(state: State<'_, AppState>) -> Result<StartupView> {
    Ok(state.startup().await)
}

#[tauri::command]
#[instrument(skip(state, password), err(Debug))]
pub async fn sign_in(
    state: State<'_, AppState>,
    server: String,
    username: String,
    password: String,
    remember: bool,
) -> Result<SessionView> {
    state.sign_in(&server, &username, &password, remember).await
}

#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn sign_out(state: State<'_, AppState>) -> Result<()> {
    state.sign_out().await
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
