//! The commands the webview may invoke: thin, traced (never with secrets), validating
//! their input, then calling the signed-in [`curfew::Client`] directly. What the client
//! answers goes through [`AppState::checked`], so a 401 signs the app out.

use curfew::api::{
    AdminUser, LogoutResult, MaintenanceList, MaintenanceRequest, MaintenanceWindow,
    NewUserRequest, PasswordReset, PasswordResetResult, SessionSummary, SignInThrottles,
    UserDeleted, UserFilter, UserPage, UserQuery, UserSessions, UserStatusChange, UserUpdate,
};
use curfew::api::{
    CreatedServiceToken, ImportReport, NewServiceToken, ServiceToken, ServiceTokenList,
};
use curfew::api::{MaintenanceChange, MaintenanceSeries, Repeat, SeriesRequest};
use curfew::api::{Role, UserSort};
use curfew::limits::{MESSAGE_MAX, NEXT_OCCURRENCES_SHOWN, SEARCH_MAX};
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use tracing::instrument;
use uuid::Uuid;

use crate::contract::Contract;
use crate::error::{Error, Result};
use crate::session::{AppState, SessionView, StartupView, USER_PAGE};
const CURSOR_MAX: usize = 1024;

fn check_cursor(cursor: &Option<String>) -> Result<()> {
    match cursor {
        Some(c) if c.len() > CURSOR_MAX => Err(Error::InvalidInput(
            "That page position is not valid. Reload the list.".into(),
        )),
        _ => Ok(()),
    }
}

/// Starts the notifications and the tray's next-window line for the signed-in admin,
/// both led by the server's name, and hands the other remembered servers' notifications
/// to [`crate::others`]. The tray's line is fetched in the background: the page's answer
/// does not wait for it.
pub(crate) async fn signed_in<R: Runtime>(app: &AppHandle<R>, state: &AppState) {
    if let Ok(client) = state.client().await {
        let server = state.server_label().await.unwrap_or_default();
        crate::tray::set_server(app, Some(server.clone()));
        let app = app.clone();
        let task = tauri::async_runtime::spawn(async move {
            crate::tray::refresh(&app, &client).await;
            crate::events::watch(app, client, server, crate::events::Followed::Current).await;
        });
        state.set_watcher(Some(task));
    }
    crate::others::follow(app);
}

/// The contract's facts the UI needs (limits, audit labels, event names), loaded once at
/// start so that the page holds no copies of them.
#[tauri::command]
#[instrument]
pub fn contract() -> Contract {
    Contract::current()
}

#[tauri::command]
#[instrument(skip_all)]
pub async fn startup<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<StartupView> {
    let view = state.startup_for_page().await;
    if view.signed_in.is_some() {
        signed_in(&app, &state).await;
    } else {
        crate::others::follow(&app);
    }
    Ok(view)
}

#[tauri::command]
#[instrument(skip(state, password), err(Debug))]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: Option<String>,
    server: String,
    username: String,
    password: String,
    remember: bool,
) -> Result<SessionView> {
    let view = state
        .sign_in(name.as_deref(), &server, &username, &password, remember)
        .await?;
    signed_in(&app, &state).await;
    Ok(view)
}

#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn sign_out<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Result<()> {
    let result = state.sign_out().await;
    crate::tray::set_server(&app, None);
    crate::tray::set_status(&app, "Not signed in");
    crate::others::follow(&app);
    result
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn list_users(
    state: State<'_, AppState>,
    q: Option<String>,
    status: Option<UserFilter>,
    role: Option<Role>,
    sort: Option<UserSort>,
    cursor: Option<String>,
) -> Result<UserPage> {
    if q.as_ref().is_some_and(|q| q.chars().count() > SEARCH_MAX) {
        return Err(Error::InvalidInput(format!(
            "Search for at most {SEARCH_MAX} characters."
        )));
    }
    check_cursor(&cursor)?;
    let query = UserQuery {
        q,
        status,
        role,
        sort,
        cursor,
        limit: Some(USER_PAGE),
    };
    let client = state.client().await?;
    state.checked(&client, client.users(&query).await).await
}

#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn session_summary(state: State<'_, AppState>) -> Result<SessionSummary> {
    let client = state.client().await?;
    state.checked(&client, client.session_summary().await).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn logout_user(state: State<'_, AppState>, id: Uuid) -> Result<LogoutResult> {
    let client = state.client().await?;
    state.checked(&client, client.logout_user(id).await).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn logout_all(state: State<'_, AppState>, keep_admins: bool) -> Result<LogoutResult> {
    let client = state.client().await?;
    state
        .checked(&client, client.logout_all(keep_admins).await)
        .await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn set_user_active(
    state: State<'_, AppState>,
    id: Uuid,
    active: bool,
) -> Result<UserStatusChange> {
    let client = state.client().await?;
    let change = if active {
        client.activate(id).await
    } else {
        client.deactivate(id).await
    };
    state.checked(&client, change).await
}

#[tauri::command]
#[instrument(skip(state, request), fields(username = %request.username, role = ?request.role), err(Debug))]
pub async fn create_user(state: State<'_, AppState>, request: NewUserRequest) -> Result<AdminUser> {
    let client = state.client().await?;
    state
        .checked(&client, client.create_user(&request).await)
        .await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn update_user(
    state: State<'_, AppState>,
    id: Uuid,
    update: UserUpdate,
) -> Result<AdminUser> {
    let client = state.client().await?;
    state
        .checked(&client, client.update_user(id, &update).await)
        .await
}

#[tauri::command]
#[instrument(skip(state, reset), fields(typed = reset.password.is_some(), sign_out = reset.sign_out), err(Debug))]
pub async fn reset_password(
    state: State<'_, AppState>,
    id: Uuid,
    reset: PasswordReset,
) -> Result<PasswordResetResult> {
    let client = state.client().await?;
    state
        .checked(&client, client.reset_password(id, &reset).await)
        .await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn delete_user(state: State<'_, AppState>, id: Uuid) -> Result<UserDeleted> {
    let client = state.client().await?;
    state.checked(&client, client.delete_user(id).await).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn user_sessions(state: State<'_, AppState>, id: Uuid) -> Result<UserSessions> {
    let client = state.client().await?;
    state.checked(&client, client.user_sessions(id).await).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn end_session(state: State<'_, AppState>, id: Uuid) -> Result<LogoutResult> {
    let client = state.client().await?;
    state.checked(&client, client.end_session(id).await).await
}

#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn sign_in_throttles(state: State<'_, AppState>) -> Result<SignInThrottles> {
    let client = state.client().await?;
    state
        .checked(&client, client.sign_in_throttles().await)
        .await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn clear_sign_in_throttle(state: State<'_, AppState>, username: String) -> Result<()> {
    let client = state.client().await?;
    state
        .checked(&client, client.clear_sign_in_throttle(&username).await)
        .await
}

/// The windows, and which of them is next: the one rule the tray's line and the UI's
/// sidebar both show.
#[derive(Debug, Serialize)]
pub struct MaintenanceView {
    #[serde(flatten)]
    pub list: MaintenanceList,
    /// The window still to come or running now that starts first, if any.
    pub next_window_id: Option<Uuid>,
}

#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn list_maintenance<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<MaintenanceView> {
    let client = state.client().await?;
    let list = state.checked(&client, client.maintenance().await).await?;
    crate::tray::show_next(&app, &list);
    Ok(MaintenanceView {
        next_window_id: crate::tray::next_window(&list).map(|w| w.id),
        list,
    })
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn schedule_maintenance(
    state: State<'_, AppState>,
    request: MaintenanceRequest,
) -> Result<MaintenanceWindow> {
    if request.message.chars().count() > MESSAGE_MAX {
        return Err(Error::InvalidInput(format!(
            "The message is longer than {MESSAGE_MAX} characters; shorten it."
        )));
    }
    let client = state.client().await?;
    state
        .checked(&client, client.schedule_maintenance(&request).await)
        .await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn cancel_maintenance(state: State<'_, AppState>, id: Uuid) -> Result<MaintenanceWindow> {
    let client = state.client().await?;
    state
        .checked(&client, client.cancel_maintenance(id).await)
        .await
}

/// A repeating window's rule in words and its first occurrences, for the confirmation:
/// read by the same code curfewd decides with ([`curfew::recurrence`]).
#[derive(Debug, Serialize)]
pub struct RepeatPreview {
    pub description: String,
    pub starts: Vec<chrono::DateTime<chrono::Utc>>,
    pub count: usize,
}

#[tauri::command]
#[instrument(err(Debug))]
pub async fn preview_repeat(
    repeat: Repeat,
    starts_at: chrono::DateTime<chrono::Utc>,
) -> Result<RepeatPreview> {
    let recurrence = curfew::recurrence::Recurrence::parse(&repeat, starts_at)
        .map_err(|e| Error::InvalidInput(e.message))?;
    Ok(RepeatPreview {
        description: recurrence.description().to_owned(),
        starts: recurrence
            .starts()
            .iter()
            .take(NEXT_OCCURRENCES_SHOWN)
            .copied()
            .collect(),
        count: recurrence.starts().len(),
    })
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn schedule_series(
    state: State<'_, AppState>,
    request: SeriesRequest,
) -> Result<MaintenanceWindow> {
    if request.window.message.chars().count() > MESSAGE_MAX {
        return Err(Error::InvalidInput(format!(
            "The message is longer than {MESSAGE_MAX} characters; shorten it."
        )));
    }
    let client = state.client().await?;
    state
        .checked(&client, client.schedule_series(&request).await)
        .await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn change_maintenance(
    state: State<'_, AppState>,
    id: Uuid,
    change: MaintenanceChange,
) -> Result<MaintenanceWindow> {
    if change.message.chars().count() > MESSAGE_MAX {
        return Err(Error::InvalidInput(format!(
            "The message is longer than {MESSAGE_MAX} characters; shorten it."
        )));
    }
    let client = state.client().await?;
    state
        .checked(&client, client.change_maintenance(id, &change).await)
        .await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn cancel_series(state: State<'_, AppState>, id: Uuid) -> Result<MaintenanceSeries> {
    let client = state.client().await?;
    state.checked(&client, client.cancel_series(id).await).await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn end_maintenance(state: State<'_, AppState>, id: Uuid) -> Result<MaintenanceWindow> {
    let client = state.client().await?;
    state
        .checked(&client, client.end_maintenance(id).await)
        .await
}

#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn list_service_tokens(state: State<'_, AppState>) -> Result<ServiceTokenList> {
    let client = state.client().await?;
    state.checked(&client, client.service_tokens().await).await
}

/// Makes a service token. Unlike the administrator's own token, this one is for the
/// administrator to copy into a script: it goes to the page once, to be shown once.
#[tauri::command]
#[instrument(skip(state, request), fields(name = %request.name, scopes = ?request.scopes), err(Debug))]
pub async fn create_service_token(
    state: State<'_, AppState>,
    request: NewServiceToken,
) -> Result<CreatedServiceToken> {
    let client = state.client().await?;
    state
        .checked(&client, client.create_service_token(&request).await)
        .await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn revoke_service_token(state: State<'_, AppState>, id: Uuid) -> Result<ServiceToken> {
    let client = state.client().await?;
    state
        .checked(&client, client.revoke_service_token(id).await)
        .await
}

/// Previews (`dry_run`) or applies a CSV file the page read; its rows (names, emails)
/// are not traced, only its size.
#[tauri::command]
#[instrument(skip(state, csv), fields(bytes = csv.len()), err(Debug))]
pub async fn import_users(
    state: State<'_, AppState>,
    csv: String,
    dry_run: bool,
) -> Result<ImportReport> {
    if csv.len() > curfew::limits::IMPORT_BODY_LIMIT_BYTES {
        return Err(Error::InvalidInput(format!(
            "The file is larger than {} MiB; split it into smaller files.",
            curfew::limits::IMPORT_BODY_LIMIT_BYTES / (1024 * 1024)
        )));
    }
    let client = state.client().await?;
    state
        .checked(&client, client.import_users(csv, dry_run).await)
        .await
}
