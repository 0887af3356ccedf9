//! `POST /admin/users/import` (`manage_users`, people only): a CSV file of users as the
//! body, previewed with `dry_run=true` or applied. The rules are in
//! [`crate::core::import`]; this maps the body and its limits.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use curfew::api::{ErrorBody, ImportQuery, ImportReport};
use curfew::limits::IMPORT_BODY_LIMIT_BYTES;
use curfew::routes;

use super::extract::{ApiQuery, ManageUsers};
use crate::core::{AppError, AppResult, AppState, ErrorKind};

/// The content types a CSV file arrives with (browsers and Excel differ).
const CSV_TYPES: [&str; 5] = [
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
];

pub(super) fn too_large() -> AppError {
    AppError::new(
        ErrorKind::TooLarge,
        "body_too_large",
        format!(
            "The file is larger than the {} MiB an import accepts; split it into smaller files.",
            IMPORT_BODY_LIMIT_BYTES / (1024 * 1024)
        ),
    )
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|essence| CSV_TYPES.contains(&essence.as_str()))
}

/// Previews or applies a CSV file of users (columns by header name: username, and any of
/// display_name, email, role, active). With any row in error nothing is applied.
#[utoipa::path(post, operation_id = "import_users", path = routes::IMPORT_USERS.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file: UTF-8 with or without a byte order mark, comma or semicolon separated, a header line naming the columns (username, display_name, email, role, active)."),
    responses((status = 200, body = ImportReport, description = "the preview (applied: false), or what was done (applied: true)"),
              (status = 400, body = ErrorBody, description = "invalid_encoding, empty_import, unknown_columns, duplicate_columns, missing_username_column, too_many_rows, invalid_csv, invalid_query, or invalid_import: rows in error (nothing applied)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "forbidden, or service_token_not_allowed"),
              (status = 409, body = ErrorBody, description = "last_admin, or import_conflict"),
              (status = 413, body = ErrorBody, description = "body_too_large: the file is larger than 8 MiB"),
              (status = 415, body = ErrorBody, description = "unsupported_media_type: send the file as text/csv")),
    security(("bearer" = [])))]
pub async fn import_users(
    State(state): State<AppState>,
    ManageUsers(caller): ManageUsers,
    ApiQuery(query): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Json<ImportReport>> {
    if !is_csv(&headers) {
        return Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            "unsupported_media_type",
            "Send the file as the request body with the header Content-Type: text/csv.",
        ));
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            AppError::bad_request(
                "invalid_body",
                format!("The file could not be read: {}.", rejection.body_text()),
            )
        }
    })?;
    Ok(Json(
        state
            .import_users(&caller.actor(), &body, query.dry_run)
            .await?,
    ))
}
