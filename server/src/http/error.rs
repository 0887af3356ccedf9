//! The one error type of every handler. Clients get the contract's `{error, message}` with
//! the right status; causes of server faults go to the log, never to the client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use curfew::api::ErrorBody;

#[derive(Debug)]
pub enum AppError {
    /// Something the client can act on.
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
        retry_after: Option<u64>,
    },
    /// A fault on our side; the cause is logged, the client sees a generic sentence.
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Client {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn rate_limited(retry_after: u64, message: impl Into<String>) -> Self {
        AppError::Client {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: message.into(),
            retry_after: Some(retry_after),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Client { status, .. } => *status,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message, retry_after) = match self {
            AppError::Client {
                status,
                code,
                message,
                retry_after,
            } => (status, code, message, retry_after),
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

fn is_database_unavailable(cause: &anyhow::Error) -> bool {
    match cause.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed) => true,
        // PostgreSQL going away: connection exceptions (08) and operator intervention
        // (57P: shutting down, starting up, terminated).
        Some(sqlx::Error::Database(e)) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
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
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "The request body is larger than the {} KiB the server accepts.",
                    crate::http::BODY_LIMIT_BYTES / 1024
                ),
            ),
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
