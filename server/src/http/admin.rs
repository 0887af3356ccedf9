//! Administrator routes. Each extractor checks the permission on the server before the
//! handler runs; the rules are in [`crate::core::users`], and every forced logout and
//! status change is audited by the store.

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use curfew::api::{
    AuditEntry, AuditPage, AuditQuery, ErrorBody, LogoutAllRequest, LogoutResult, Me,
    SessionSummary, UserPage, UserQuery, UserStatus, UserStatusChange,
};
use curfew::routes;
#[allow(unused_imports)] // utoipa's `params` names the type
use uuid::Uuid;

use super::extract::{Administrator, ApiJson, ApiQuery, ForceLogout, IdPath, ManageUsers};
use crate::core::{validate, AppError, AppResult, AppState};
use crate::store::{AuditCursor, UserCursor};

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

fn encode_cursor(parts: &[&str]) -> String {
    let json = serde_json::to_vec(parts).expect("strings serialise");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(cursor: &str) -> Result<Vec<String>, AppError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Vec<String>>(&bytes).ok())
        .filter(|parts| parts.len() == 2)
        // No value this server gives out holds a control character, and PostgreSQL text
        // cannot hold NUL.
        .filter(|parts| !parts.iter().any(|p| p.chars().any(char::is_control)))
        .ok_or_else(|| {
            AppError::bad_request(
                "invalid_cursor",
                "The page cursor is not one this server gave out. Start again from the first page.",
            )
        })
}

/// A page of users with their live sessions per client.
#[utoipa::path(get, path = routes::USERS.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(UserQuery),
    responses((status = 200, body = UserPage), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    ForceLogout(_caller): ForceLogout,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> AppResult<Json<UserPage>> {
    let limit = validate::page_limit(query.limit)?;
    let search = validate::search(query.q.as_deref())?;
    let after = match query.cursor.as_deref() {
        Some(cursor) => {
            let mut parts = decode_cursor(cursor)?;
            let username = parts.pop().unwrap_or_default();
            let sort_key = parts.pop().unwrap_or_default();
            Some(UserCursor { sort_key, username })
        }
        None => None,
    };
    let mut rows = state
        .store
        .list_users(
            search.as_deref(),
            query.status,
            after.as_ref(),
            limit + 1,
            crate::now_ms(),
        )
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last())
        .flatten()
        .map(|(_, c)| encode_cursor(&[&c.sort_key, &c.username]));
    Ok(Json(UserPage {
        users: rows.into_iter().map(|(user, _)| user).collect(),
        next_cursor,
    }))
}

/// Counts of users and live sessions, for confirmations.
#[utoipa::path(get, path = routes::SESSION_SUMMARY.path, context_path = routes::API_PREFIX, tag = "administrators",
    responses((status = 200, body = SessionSummary), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn session_summary(
    State(state): State<AppState>,
    ForceLogout(caller): ForceLogout,
) -> AppResult<Json<SessionSummary>> {
    Ok(Json(
        state
            .store
            .session_summary(crate::now_ms(), Some(caller.session_id))
            .await?,
    ))
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
    responses((status = 200, body = LogoutResult), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
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
    responses((status = 200, body = UserStatusChange), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
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
    responses((status = 200, body = UserStatusChange), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
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
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn audit(
    State(state): State<AppState>,
    ForceLogout(_caller): ForceLogout,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> AppResult<Json<AuditPage>> {
    let limit = validate::page_limit(query.limit)?;
    let after = match query.cursor.as_deref() {
        Some(cursor) => {
            let parts = decode_cursor(cursor)?;
            let at = parts[0].parse().map_err(|_| {
                AppError::bad_request("invalid_cursor", "The page cursor is not one this server gave out. Start again from the first page.")
            })?;
            Some(AuditCursor {
                at,
                id: parts[1].clone(),
            })
        }
        None => None,
    };
    let mut entries: Vec<AuditEntry> = state.store.audit_page(after.as_ref(), limit + 1).await?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next_cursor = more
        .then(|| entries.last())
        .flatten()
        .map(|e| encode_cursor(&[&e.at.timestamp_millis().to_string(), &e.id.to_string()]));
    Ok(Json(AuditPage {
        entries,
        next_cursor,
    }))
}
