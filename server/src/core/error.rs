//! The error every rule of the core returns. It says what kind of failure happened, in
//! the contract's terms (a machine code and a sentence saying what to do next), and knows
//! nothing of HTTP: `http` maps each [`ErrorKind`] to its status. Causes of server faults
//! stay in [`AppError::Internal`], for the log, never for the client.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or breaks a limit; nothing changed.
    BadInput,
    /// No token, or one that is unknown, expired or revoked; or wrong credentials.
    Unauthenticated,
    /// The caller may not do this.
    Forbidden,
    /// The named thing does not exist.
    NotFound,
    /// The request contradicts the current state (overlapping windows, a finished window).
    Conflict,
    /// The body is larger than the contract allows.
    TooLarge,
    /// The body is not JSON.
    UnsupportedMediaType,
    /// The route does not accept that method.
    MethodNotAllowed,
    /// Too many attempts; retry after the given delay.
    RateLimited,
    /// Sign-ins are frozen for maintenance; retry after the given delay.
    Maintenance,
    /// The server cannot serve this now (its database is unreachable); retry later.
    Unavailable,
}

#[derive(Debug)]
pub enum AppError {
    /// Something the client can act on.
    Client {
        kind: ErrorKind,
        code: &'static str,
        message: String,
        /// Seconds, for `Retry-After`.
        retry_after: Option<u64>,
    },
    /// A fault on our side; the cause is logged, the client sees a generic sentence.
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Client {
            kind,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    pub fn rate_limited(retry_after: u64, message: impl Into<String>) -> Self {
        Self::retry(ErrorKind::RateLimited, "rate_limited", message, retry_after)
    }

    /// A refusal the client may retry after `retry_after` seconds.
    pub fn retry(
        kind: ErrorKind,
        code: &'static str,
        message: impl Into<String>,
        retry_after: u64,
    ) -> Self {
        AppError::Client {
            kind,
            code,
            message: message.into(),
            retry_after: Some(retry_after),
        }
    }

    /// The kind of failure; `None` for a fault on our side.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            AppError::Client { kind, .. } => Some(*kind),
            AppError::Internal(_) => None,
        }
    }
}

/// Whether a fault is the database being out of reach (not a bug): then clients are told
/// to retry, not to read the log.
pub fn is_database_unavailable(cause: &anyhow::Error) -> bool {
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
