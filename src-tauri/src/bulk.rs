//! The users list as a tool: the counts on its chips, Logout selected, Deactivate
//! selected and signing out idle sessions, each a dry run first (the confirmation's exact
//! counts) and then the one server call.
//!
//! Invariant: what the page sends is checked against the contract's limits before any
//! request (search length, how many ids, the days), so a bad value never reaches the
//! server; the server checks them again and decides.

use curfew::api::{
    BulkResult, IdleLogoutResult, Role, UserCounts, UserFilter, UserMatch, UserSelection,
};
use curfew::limits::{BULK_IDS_MAX, IDLE_DAYS_MAX, SEARCH_MAX};
use tauri::State;
use tracing::instrument;

use crate::error::{Error, Result};
use crate::session::AppState;

fn check_search(q: &Option<String>) -> Result<()> {
    if q.as_ref().is_some_and(|q| q.chars().count() > SEARCH_MAX) {
        return Err(Error::InvalidInput(format!(
            "Search for at most {SEARCH_MAX} characters."
        )));
    }
    Ok(())
}

fn check_selection(selection: &UserSelection) -> Result<()> {
    if let Some(ids) = &selection.ids {
        if ids.is_empty() || ids.len() > BULK_IDS_MAX {
            return Err(Error::InvalidInput(format!(
                "Select 1 to {BULK_IDS_MAX} users one by one, or select all matching the search."
            )));
        }
    }
    if let Some(matching) = &selection.matching {
        check_search(&matching.q)?;
    }
    Ok(())
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn user_counts(
    state: State<'_, AppState>,
    q: Option<String>,
    status: Option<UserFilter>,
    role: Option<Role>,
) -> Result<UserCounts> {
    check_search(&q)?;
    let client = state.client().await?;
    let query = UserMatch { q, status, role };
    state
        .checked(&client, client.user_counts(&query).await)
        .await
}

#[tauri::command]
#[instrument(skip(state, selection), fields(ids = selection.ids.as_ref().map(Vec::len)), err(Debug))]
pub async fn logout_selected(
    state: State<'_, AppState>,
    selection: UserSelection,
    dry_run: bool,
) -> Result<BulkResult> {
    check_selection(&selection)?;
    let client = state.client().await?;
    state
        .checked(&client, client.logout_selected(&selection, dry_run).await)
        .await
}

#[tauri::command]
#[instrument(skip(state, selection), fields(ids = selection.ids.as_ref().map(Vec::len)), err(Debug))]
pub async fn deactivate_selected(
    state: State<'_, AppState>,
    selection: UserSelection,
    dry_run: bool,
) -> Result<BulkResult> {
    check_selection(&selection)?;
    let client = state.client().await?;
    state
        .checked(
            &client,
            client.deactivate_selected(&selection, dry_run).await,
        )
        .await
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn logout_idle(
    state: State<'_, AppState>,
    days: u32,
    dry_run: bool,
) -> Result<IdleLogoutResult> {
    if !(1..=IDLE_DAYS_MAX).contains(&days) {
        return Err(Error::InvalidInput(format!(
            "Give a number of days from 1 to {IDLE_DAYS_MAX}."
        )));
    }
    let client = state.client().await?;
    state
        .checked(&client, client.logout_idle(days, dry_run).await)
        .await
}
