//! Service token routes (`manage_users`, people only: no service token has a scope that
//! opens them). The rules are in [`crate::core::tokens`]; making and revoking are audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use curfew::api::{
    CreatedServiceToken, ErrorBody, NewServiceToken, ServiceToken, ServiceTokenList,
};
use curfew::routes;
#[allow(unused_imports)] // utoipa's `params` names the type
use uuid::Uuid;

use super::extract::{ApiJson, IdPath, ManageUsers};
use crate::core::{AppResult, AppState};

/// Every service token, those not revoked first; never the tokens themselves.
#[utoipa::path(get, operation_id = "service_tokens", path = routes::SERVICE_TOKENS.path, context_path = routes::API_PREFIX, tag = "service tokens",
    responses((status = 200, body = ServiceTokenList, links(
                  ("revoke" = (operation_id = "revoke_service_token", parameters(("id" = "$response.body#/tokens/0/id")), description = "revoke the first token listed")))),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "forbidden, or service_token_not_allowed")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ManageUsers(_caller): ManageUsers,
) -> AppResult<Json<ServiceTokenList>> {
    Ok(Json(state.service_tokens().await?))
}

/// Makes a named token with scopes and an optional expiry; the token is in this answer
/// only (it is stored as its SHA-256).
#[utoipa::path(post, operation_id = "create_service_token", path = routes::CREATE_SERVICE_TOKEN.path, context_path = routes::API_PREFIX, tag = "service tokens",
    request_body = NewServiceToken,
    responses((status = 201, body = CreatedServiceToken),
              (status = 400, body = ErrorBody, description = "invalid_name, invalid_scopes, invalid_expiry, invalid_json or invalid_body"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "forbidden, or service_token_not_allowed"),
              (status = 409, body = ErrorBody, description = "token_name_taken")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    ApiJson(request): ApiJson<NewServiceToken>,
) -> AppResult<(StatusCode, Json<CreatedServiceToken>)> {
    let created = state
        .create_service_token(&caller.actor(), &request)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes a token: its next request is refused with 401 `token_revoked`. Revoking a
/// revoked token changes nothing.
#[utoipa::path(delete, operation_id = "revoke_service_token", path = routes::REVOKE_SERVICE_TOKEN.path, context_path = routes::API_PREFIX, tag = "service tokens",
    params(("id" = Uuid, Path, description = "the token's id")),
    responses((status = 200, body = ServiceToken),
              (status = 400, body = ErrorBody, description = "invalid_id: not a UUID"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "forbidden, or service_token_not_allowed"),
              (status = 404, body = ErrorBody, description = "token_not_found")),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    IdPath(id): IdPath,
) -> AppResult<Json<ServiceToken>> {
    Ok(Json(state.revoke_service_token(&caller.actor(), id).await?))
}
