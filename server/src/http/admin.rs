//! Administrator routes. Each extractor checks the permission on the server before the
//! handler runs; the rules are in [`crate::core::users`], and every forced logout and
//! status change is audited by the store.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use curfew::api::{
    AuditPage, AuditQuery, ClearThrottle, ErrorBody, LogoutAllRequest, LogoutResult, Me,
    SessionSummary, SignInThrottles, UserPage, UserQuery, UserSessions, UserStatus,
    UserStatusChange,
};
use curfew::routes;
#[allow(unused_imports)] // utoipa's `params` names the type
use uuid::Uuid;

use super::extract::{Administrator, ApiJson, ApiQuery, ForceLogout, IdPath, ManageUsers};
use crate::core::{AppResult, AppState};

/// Who is signed in, and what they may do.
#[utoipa::path(get, path = routes::ADMIN_ME.path, context_path = routes::API_PREFIX, tag = "administrators",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(Administrator(caller): Administrator) -> Json<Me> {
    Json(Me {
        user_id: caller.user_id,
        username: caller.username,
        display_name: caller.display_name,
        role: caller.role,
        permissions: caller.role.permissions().to_vec(),
        session_id: caller.session_id,
    })
}

/// A page of users with their live sessions per client.
#[utoipa::path(get, path = routes::USERS.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(UserQuery),
    responses((status = 200, body = UserPage, links(
                  ("logout_user" = (operation_id = "logout_user", parameters(("id" = "$response.body#/users/0/id")), description = "sign out the first user listed")),
                  ("deactivate" = (operation_id = "deactivate", parameters(("id" = "$response.body#/users/0/id")), description = "deactivate the first user listed")),
                  ("activate" = (operation_id = "activate", parameters(("id" = "$response.body#/users/0/id")), description = "activate the first user listed")))), (status = 400, body = ErrorBody, description = "invalid_limit, invalid_cursor, search_too_long, invalid_search or invalid_query"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    ForceLogout(_caller): ForceLogout,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> AppResult<Json<UserPage>> {
    Ok(Json(state.users_page(&query).await?))
}

/// Counts of users and live sessions, for confirmations.
#[utoipa::path(get, path = routes::SESSION_SUMMARY.path, context_path = routes::API_PREFIX, tag = "administrators",
    responses((status = 200, body = SessionSummary), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn session_summary(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
) -> AppResult<Json<SessionSummary>> {
    Ok(Json(state.session_summary(caller.session_id).await?))
}

/// Adds `Server-Timing: db;dur=<ms>` so clients and benchmarks see the server's own time.
fn with_timing(body: impl IntoResponse, database: std::time::Duration) -> Response {
    let mut response = body.into_response();
    let ms = database.as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("db;dur={ms:.3}")) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("server-timing"), value);
    }
    response
}

/// Revokes every session of one user (except the caller's own).
#[utoipa::path(post, path = routes::LOGOUT_USER.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(("id" = Uuid, Path, description = "the user's id")),
    responses((status = 200, body = LogoutResult, headers(("Server-Timing" = String, description = "db;dur=<milliseconds>"))),
              (status = 400, body = ErrorBody, description = "invalid_id: not a UUID"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "user_not_found")),
    security(("bearer" = [])))]
pub async fn logout_user(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    IdPath(id): IdPath,
) -> AppResult<Response> {
    let done = state.logout_user(&caller.actor(), id).await?;
    Ok(with_timing(Json(done.result), done.database))
}

/// Revokes every session but the caller's own, in one statement. Idempotent.
#[utoipa::path(post, path = routes::LOGOUT_ALL.path, context_path = routes::API_PREFIX, tag = "administrators",
    request_body = LogoutAllRequest,
    responses((status = 200, body = LogoutResult, headers(("Server-Timing" = String, description = "db;dur=<milliseconds>"))),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout_all(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    ApiJson(request): ApiJson<LogoutAllRequest>,
) -> AppResult<Response> {
    let done = state
        .logout_all(&caller.actor(), request.keep_admins)
        .await?;
    Ok(with_timing(Json(done.result), done.database))
}

/// Deactivates an account and revokes its sessions in the same transaction.
#[utoipa::path(post, path = routes::DEACTIVATE_USER.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(("id" = Uuid, Path, description = "the user's id")),
    responses((status = 200, body = UserStatusChange, links(
                  ("activate" = (operation_id = "activate", parameters(("id" = "$response.body#/user/id")), description = "undo: activate the account again")))),
              (status = 400, body = ErrorBody, description = "invalid_id: not a UUID"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "user_not_found"),
              (status = 409, body = ErrorBody, description = "cannot_deactivate_self")),
    security(("bearer" = [])))]
pub async fn deactivate(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    IdPath(id): IdPath,
) -> AppResult<Json<UserStatusChange>> {
    Ok(Json(
        state
            .set_user_status(&caller.actor(), id, UserStatus::Deactivated)
            .await?,
    ))
}

/// Lets a deactivated account sign in again.
#[utoipa::path(post, path = routes::ACTIVATE_USER.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(("id" = Uuid, Path, description = "the user's id")),
    responses((status = 200, body = UserStatusChange), (status = 400, body = ErrorBody, description = "invalid_id: not a UUID"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "user_not_found")),
    security(("bearer" = [])))]
pub async fn activate(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    IdPath(id): IdPath,
) -> AppResult<Json<UserStatusChange>> {
    Ok(Json(
        state
            .set_user_status(&caller.actor(), id, UserStatus::Active)
            .await?,
    ))
}

/// Who did what to whom, newest first.
#[utoipa::path(get, path = routes::AUDIT.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody, description = "invalid_limit (above the maximum too), invalid_cursor or invalid_query"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn audit(
    State(state): State<AppState>,
    ForceLogout(_caller): ForceLogout,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> AppResult<Json<AuditPage>> {
    Ok(Json(state.audit_page(&query).await?))
}

/// A user's live sessions with their devices and addresses, newest first.
#[utoipa::path(get, path = routes::USER_SESSIONS.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(("id" = Uuid, Path, description = "the user's id")),
    responses((status = 200, body = UserSessions, links(
                  ("end" = (operation_id = "end_session", parameters(("id" = "$response.body#/sessions/0/id")), description = "end the newest session listed")))),
              (status = 400, body = ErrorBody, description = "invalid_id: not a UUID"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "user_not_found")),
    security(("bearer" = [])))]
pub async fn user_sessions(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    IdPath(id): IdPath,
) -> AppResult<Json<UserSessions>> {
    Ok(Json(state.user_sessions(id, caller.session_id).await?))
}

/// Ends one session (the lost phone): its streams are told at once, the user's other
/// sessions stay. Audited.
#[utoipa::path(delete, path = routes::END_SESSION.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(("id" = Uuid, Path, description = "the session's id")),
    responses((status = 200, body = LogoutResult),
              (status = 400, body = ErrorBody, description = "invalid_id: not a UUID"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "session_not_found"),
              (status = 409, body = ErrorBody, description = "own_session: sign out instead")),
    security(("bearer" = [])))]
pub async fn end_session(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    IdPath(id): IdPath,
) -> AppResult<Json<LogoutResult>> {
    Ok(Json(state.end_session(&caller.actor(), id).await?))
}

/// Accounts with failed sign-ins in the last minute (on this instance), most attempts
/// first: who is being guessed at, or kept out.
#[utoipa::path(get, path = routes::SIGN_IN_THROTTLES.path, context_path = routes::API_PREFIX, tag = "administrators",
    responses((status = 200, body = SignInThrottles, links(
                  ("clear" = (operation_id = "clear_sign_in_throttle", request_body = json!({"username": "$response.body#/accounts/0/username"}), description = "let the first account listed try again")))),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn sign_in_throttles(
    State(state): State<AppState>,
    ForceLogout(_caller): ForceLogout,
) -> AppResult<Json<SignInThrottles>> {
    Ok(Json(state.sign_in_throttles().await?))
}

/// Lets a throttled account try again at once. Audited.
#[utoipa::path(post, path = routes::CLEAR_SIGN_IN_THROTTLE.path, context_path = routes::API_PREFIX, tag = "administrators",
    request_body = ClearThrottle,
    responses((status = 204), (status = 400, body = ErrorBody, description = "invalid_username, invalid_json or invalid_body"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "not_throttled")),
    security(("bearer" = [])))]
pub async fn clear_sign_in_throttle(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
    ApiJson(request): ApiJson<ClearThrottle>,
) -> AppResult<StatusCode> {
    state
        .clear_sign_in_throttle(&caller.actor(), &request)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
