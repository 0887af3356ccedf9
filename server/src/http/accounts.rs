//! Account routes: create, edit, reset a password, delete (`manage_users`), and changing
//! one's own password. Rules are in [`crate::core::accounts`]; every change is audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use curfew::api::{
    AdminUser, ErrorBody, NewUserRequest, PasswordChange, PasswordReset, PasswordResetResult,
    UserDeleted, UserUpdate,
};
use curfew::routes;
#[allow(unused_imports)] // utoipa's `params` names the type
use uuid::Uuid;

use super::extract::{ApiJson, Caller, ClientAddress, IdPath, ManageUsers};
use crate::core::{AppResult, AppState};

/// Creates an account; without `password`, it signs in only through an identity provider.
#[utoipa::path(post, path = routes::CREATE_USER.path, context_path = routes::API_PREFIX, tag = "administrators",
    request_body = NewUserRequest,
    responses((status = 201, body = AdminUser),
              (status = 400, body = ErrorBody, description = "invalid_username, invalid_display_name, invalid_email, invalid_password"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "username_taken")),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    ApiJson(request): ApiJson<NewUserRequest>,
) -> AppResult<(StatusCode, Json<AdminUser>)> {
    let user = state.create_user(&caller.actor(), &request).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Changes an account's display name, email or role; absent fields stay (an empty body
/// changes nothing). A role change takes effect at the user's next request; nobody changes
/// their own role.
#[utoipa::path(patch, path = routes::UPDATE_USER.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(("id" = Uuid, Path, description = "the user's id")),
    request_body = UserUpdate,
    responses((status = 200, body = AdminUser),
              (status = 400, body = ErrorBody, description = "invalid_id, invalid_display_name, invalid_email"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "user_not_found"),
              (status = 409, body = ErrorBody, description = "cannot_change_own_role, last_admin")),
    security(("bearer" = [])))]
pub async fn update_user(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    IdPath(id): IdPath,
    ApiJson(update): ApiJson<UserUpdate>,
) -> AppResult<Json<AdminUser>> {
    Ok(Json(state.update_user(&caller.actor(), id, &update).await?))
}

/// Sets a new password, typed or generated (answered once); signs the user out
/// everywhere unless `sign_out` is false.
#[utoipa::path(post, path = routes::RESET_PASSWORD.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(("id" = Uuid, Path, description = "the user's id")),
    request_body = PasswordReset,
    responses((status = 200, body = PasswordResetResult),
              (status = 400, body = ErrorBody, description = "invalid_id, invalid_password"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "user_not_found"),
              (status = 409, body = ErrorBody, description = "own_password: change it with POST /auth/password")),
    security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    IdPath(id): IdPath,
    ApiJson(reset): ApiJson<PasswordReset>,
) -> AppResult<Json<PasswordResetResult>> {
    Ok(Json(
        state.reset_password(&caller.actor(), id, &reset).await?,
    ))
}

/// Deletes an account and ends its sessions; the audit keeps its username.
#[utoipa::path(delete, path = routes::DELETE_USER.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(("id" = Uuid, Path, description = "the user's id")),
    responses((status = 200, body = UserDeleted),
              (status = 400, body = ErrorBody, description = "invalid_id"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "user_not_found"),
              (status = 409, body = ErrorBody, description = "cannot_delete_self, last_admin")),
    security(("bearer" = [])))]
pub async fn delete_user(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    IdPath(id): IdPath,
) -> AppResult<Json<UserDeleted>> {
    Ok(Json(state.delete_user(&caller.actor(), id).await?))
}

/// Changes the caller's own password; their other sessions end.
#[utoipa::path(post, path = routes::CHANGE_PASSWORD.path, context_path = routes::API_PREFIX, tag = "end users",
    request_body = PasswordChange,
    responses((status = 204),
              (status = 400, body = ErrorBody, description = "invalid_password"),
              (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "wrong_password: the current password is not right"),
              (status = 429, body = ErrorBody, description = "rate_limited: too many wrong passwords")),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddress(address): ClientAddress,
    ApiJson(change): ApiJson<PasswordChange>,
) -> AppResult<StatusCode> {
    state.change_own_password(&caller, &change, address).await?;
    Ok(StatusCode::NO_CONTENT)
}
