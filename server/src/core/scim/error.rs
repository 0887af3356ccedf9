//! SCIM's error response (RFC 7644 §3.12): a status, a `scimType` where the RFC names
//! one, and a sentence. Core refusals ([`AppError`]) become one here; server faults are
//! logged and answered with a generic sentence.

use crate::core::{AppError, ErrorKind};

/// A SCIM error response: status, `scimType` where RFC 7644 §3.12 has one, a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }

    pub fn not_found(id: &str) -> Self {
        Self::new(404, None, format!("No user has the id {id}."))
    }
}

impl From<AppError> for ScimError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Client { kind, message, .. } => {
                let (status, scim_type) = match kind {
                    ErrorKind::BadInput => (400, Some("invalidValue")),
                    ErrorKind::Unauthenticated => (401, None),
                    ErrorKind::Forbidden => (403, None),
                    ErrorKind::NotFound => (404, None),
                    ErrorKind::Conflict => (409, None),
                    ErrorKind::TooLarge => (413, None),
                    ErrorKind::UnsupportedMediaType => (415, None),
                    ErrorKind::MethodNotAllowed => (405, None),
                    ErrorKind::RateLimited => (429, None),
                    ErrorKind::Maintenance | ErrorKind::Unavailable => (503, None),
                };
                ScimError::new(status, scim_type, message)
            }
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "SCIM request failed");
                ScimError::new(
                    500,
                    None,
                    "Something went wrong on the server; the identity provider will retry. \
                     If it keeps happening, check the curfewd log.",
                )
            }
        }
    }
}

impl From<sqlx::Error> for ScimError {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}
