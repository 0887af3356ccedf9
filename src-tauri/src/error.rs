//! The one error type of the app's commands. It reaches the webview as
//! `{error, message}`: a stable code the UI can branch on and a sentence for the admin.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the server or the way to it; the client's sentences already say what to do.
    #[error(transparent)]
    Server(#[from] curfew::Error),
    /// The server no longer accepts the saved sign-in; the app is signed out.
    #[error("{0}")]
    SignedOut(String),
    #[error("Not signed in. Sign in first.")]
    NotSignedIn,
    /// The OS keychain could not be used; the sentence names it and what to do.
    #[error("{0}")]
    Keychain(String),
    #[error("{0}")]
    InvalidInput(String),
    /// The app's own settings file.
    #[error("{0}")]
    Profile(String),
}

impl Error {
    pub fn code(&self) -> &str {
        match self {
            Error::Server(e) => match e {
                curfew::Error::Api { code, .. } => code,
                curfew::Error::InvalidUrl(_) => "invalid_url",
                curfew::Error::InsecureUrl(_) => "insecure_url",
                curfew::Error::Unreachable { .. } => "unreachable",
                curfew::Error::Tls { .. } => "tls",
                curfew::Error::Timeout { .. } => "timeout",
                curfew::Error::NotCurfew { .. } => "not_curfew",
                curfew::Error::Decode(_) => "bad_answer",
                _ => "transport",
            },
            Error::SignedOut(_) => "signed_out",
            Error::NotSignedIn => "not_signed_in",
            Error::Keychain(_) => "keychain_unavailable",
            Error::InvalidInput(_) => "invalid_input",
            Error::Profile(_) => "profile",
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Error", 2)?;
        s.serialize_field("error", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
