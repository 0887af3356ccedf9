//! The users list as a tool: the counts behind its chips, Logout selected and Deactivate
//! selected (explicit ids or all matching a search), and signing out idle sessions. Each
//! extractor checks the permission on the server before the handler runs; the rules are
//! in [`crate::core::bulk`] and [`crate::core::idle`].

use axum::extract::State;
use axum::Json;
use curfew::api::{
    BulkRequest, BulkResult, ErrorBody, IdleLogoutRequest, IdleLogoutResult, UserCounts, UserMatch,
};
use curfew::routes;

use super::extract::{ApiJson, ApiQuery, ForceLogout, ManageUsers};
use crate::core::{AppResult, AppState};

/// How many users match a search, filter and role, and the count on each filter chip.
#[utoipa::path(get, path = routes::USER_COUNTS.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(UserMatch),
    responses((status = 200, body = UserCounts),
              (status = 400, body = ErrorBody, description = "search_too_long, invalid_search or invalid_query"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn user_counts(
    State(state): State<AppState>,
    ForceLogout(_caller): ForceLogout,
    ApiQuery(query): ApiQuery<UserMatch>,
) -> AppResult<Json<UserCounts>> {
    Ok(Json(state.user_counts(&query).await?))
}

/// Ends every live session of the selected users but the caller's own, in one statement
/// with one audit entry naming them; their streams are told at once. `dry_run` counts.
#[utoipa::path(post, path = routes::BULK_LOGOUT.path, context_path = routes::API_PREFIX, tag = "administrators",
    request_body = BulkRequest,
    responses((status = 200, body = BulkResult),
              (status = 400, body = ErrorBody, description = "invalid_selection, search_too_long, invalid_search, invalid_json or invalid_body"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout_selected(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    ApiJson(request): ApiJson<BulkRequest>,
) -> AppResult<Json<BulkResult>> {
    Ok(Json(
        state
            .logout_selected(&caller.actor(), &request.selection, request.dry_run)
            .await?,
    ))
}

/// Deactivates the selected active users (never the caller) and ends their sessions, in
/// one transaction with one audit entry naming them. `dry_run` counts.
#[utoipa::path(post, path = routes::BULK_DEACTIVATE.path, context_path = routes::API_PREFIX, tag = "administrators",
    request_body = BulkRequest,
    responses((status = 200, body = BulkResult),
              (status = 400, body = ErrorBody, description = "invalid_selection, search_too_long, invalid_search, invalid_json or invalid_body"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "last_admin: it would leave no active administrator")),
    security(("bearer" = [])))]
pub async fn deactivate_selected(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    ApiJson(request): ApiJson<BulkRequest>,
) -> AppResult<Json<BulkResult>> {
    Ok(Json(
        state
            .deactivate_selected(&caller.actor(), &request.selection, request.dry_run)
            .await?,
    ))
}

/// Ends every live session not used for more than `days` days but the caller's own, in
/// one statement, audited with the days and the count. `dry_run` counts.
#[utoipa::path(post, path = routes::LOGOUT_IDLE.path, context_path = routes::API_PREFIX, tag = "administrators",
    request_body = IdleLogoutRequest,
    responses((status = 200, body = IdleLogoutResult),
              (status = 400, body = ErrorBody, description = "invalid_days, invalid_json or invalid_body"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout_idle(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    ApiJson(request): ApiJson<IdleLogoutRequest>,
) -> AppResult<Json<IdleLogoutResult>> {
    Ok(Json(state.logout_idle(&caller.actor(), &request).await?))
}
