//! What can go wrong talking to curfewd, as a typed error whose every variant reads as a
//! sentence an administrator can act on.

use crate::api::ErrorBody;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error in the contract's shape.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        /// Seconds, from `Retry-After` (429 and 503).
        retry_after: Option<u64>,
    },
    #[error("The server address {0:?} is not a valid URL. Use an address such as https://curfew.example.com.")]
    InvalidUrl(String),
    #[error("Plain http:// is only allowed for this computer (localhost). Use https:// for {0}.")]
    InsecureUrl(String),
    #[error("Could not reach the server at {url}. Check the address and your network connection, then try again.")]
    Unreachable { url: String },
    #[error("The secure connection to {url} failed (TLS: {detail}). Check that the address is right and the server's certificate is valid.")]
    Tls { url: String, detail: String },
    #[error("The server at {url} took too long to answer. Try again in a moment.")]
    Timeout { url: String },
    #[error("The server at {url} answered with something that is not Curfew (HTTP {status}). Check the address.")]
    NotCurfew { url: String, status: u16 },
    #[error("The server's answer could not be read ({0}). The server and this app may be different versions.")]
    Decode(String),
    #[error("Request failed: {0}")]
    Transport(String),
    /// Writing what the server sent (an export) to a file failed.
    #[error("Could not write the file ({0}). Check that the folder is writable and the disk has room, then try again.")]
    Write(String),
}

impl Error {
    /// The contract's machine code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::NotCurfew { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// 401: the token is missing, expired or revoked; the admin must sign in again.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    pub(crate) fn from_body(status: u16, body: ErrorBody, retry_after: Option<u64>) -> Self {
        Error::Api {
            status,
            code: body.error,
            message: body.message,
            retry_after,
        }
    }

    /// Errors worth another try of an idempotent request: the network, or a server that
    /// is restarting. Never a 4xx: the same request would fail the same way.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Error::Unreachable { .. } | Error::Timeout { .. } => true,
            Error::Api { status, code, .. } => {
                matches!(status, 502 | 504) || (*status == 503 && code != "maintenance")
            }
            Error::NotCurfew { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
