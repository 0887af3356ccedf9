//! How the core's [`AppError`] reaches a client: the contract's `{error, message}` with the
//! status of its kind, and `Retry-After` where it applies. Causes of server faults go to
//! the log, never to the client. axum's own rejections become the same shape here.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use curfew::api::ErrorBody;

use crate::core::error::{is_database_unavailable, AppError, ErrorKind};

/// The status the contract gives each kind of failure.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadInput => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Maintenance | ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message, retry_after) = match self {
            AppError::Client {
                kind,
                code,
                message,
                retry_after,
            } => (status_of(kind), code, message, retry_after),
            AppError::Internal(cause) => {
                if is_database_unavailable(&cause) {
                    tracing::error!(error = ?cause, "database unavailable");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "The server cannot reach its database right now. Try again in a moment."
                            .to_owned(),
                        Some(5),
                    )
                } else {
                    tracing::error!(error = ?cause, "request failed");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal_error",
                        "Something went wrong on the server. Try again; if it keeps happening, \
                         ask the server's operator to check the curfewd log."
                            .to_owned(),
                        None,
                    )
                }
            }
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                error: code.to_owned(),
                message,
            }),
        )
            .into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// 413: the body is larger than the contract allows.
pub fn too_large() -> AppError {
    AppError::new(
        ErrorKind::TooLarge,
        "body_too_large",
        format!(
            "The request body is larger than the {} KiB the server accepts.",
            curfew::limits::BODY_LIMIT_BYTES / 1024
        ),
    )
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::new(
                ErrorKind::UnsupportedMediaType,
                "unsupported_media_type",
                "Send the request body as JSON with the header Content-Type: application/json.",
            ),
            JsonRejection::JsonSyntaxError(e) => AppError::bad_request(
                "invalid_json",
                format!(
                    "The request body is not valid JSON: {}.",
                    short_reason(&e.body_text())
                ),
            ),
            JsonRejection::JsonDataError(e) => AppError::bad_request(
                "invalid_body",
                format!(
                    "The request body does not have the expected fields: {}.",
                    short_reason(&e.body_text())
                ),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
            other => AppError::bad_request(
                "invalid_body",
                format!("The request body could not be read: {}.", other.body_text()),
            ),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::bad_request(
            "invalid_query",
            format!(
                "The query string is not valid: {}.",
                short_reason(&rejection.body_text())
            ),
        )
    }
}

impl From<PathRejection> for AppError {
    fn from(_: PathRejection) -> Self {
        AppError::bad_request(
            "invalid_id",
            "The id in the address is not a valid UUID, such as 5f0c6a8e-3b9e-4a51-9d0e-2c7f1e6b8a41.",
        )
    }
}

/// axum's rejection texts start with a generic prefix; keep the informative part.
fn short_reason(text: &str) -> String {
    text.rsplit_once(": ")
        .map(|(_, reason)| reason)
        .unwrap_or(text)
        .trim_end_matches('.')
        .to_owned()
}
