//! Who is calling: a bearer token checked against its session row on every request, so a
//! revoked session fails its very next request, and what the caller's role permits. A
//! service token (see [`super::tokens`]) is checked against its own row the same way, and
//! opens only the routes its scopes name.

use std::net::IpAddr;

use curfew::api::{
    ClientKind, Permission, RevocationReason, Role, Session, TokenScope, UserStatus,
};
use uuid::Uuid;

use super::secrets::hash_token;
use super::{AppError, AppResult, AppState};
use crate::store::{from_millis, Actor};

/// Activity is written at most this often per session (and per service token), so
/// session checks stay reads.
pub(crate) const TOUCH_EVERY_MS: i64 = 60_000;

/// The signed-in session making the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    /// For the gate's `Remote-Email`; not part of the contract's session.
    pub email: Option<String>,
    pub role: Role,
    pub client: ClientKind,
    pub created_at: i64,
    pub expires_at: i64,
    /// For a service token, its scopes (`user_id` and `session_id` are then the token's
    /// id and `username` its name); `None` for a person's session.
    pub scopes: Option<Vec<TokenScope>>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.user_id,
            username: self.username.clone(),
            session_id: self.session_id,
            service_token: self.scopes.is_some(),
        }
    }

    /// Whether a service token is calling rather than a person.
    pub fn is_service_token(&self) -> bool {
        self.scopes.is_some()
    }

    /// The caller's session, as the contract shows it.
    pub fn session(&self) -> Session {
        Session {
            id: self.session_id,
            user_id: self.user_id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            client: self.client,
            created_at: from_millis(self.created_at),
            expires_at: from_millis(self.expires_at),
        }
    }

    /// The caller, if their role has `permission`; 403 `forbidden` otherwise.
    /// A service token passes: its scope was checked against the route
    /// ([`Caller::permit_route`]) before any handler runs.
    pub fn require(self, permission: Permission) -> AppResult<Self> {
        if self.is_service_token() || self.role.has(permission) {
            Ok(self)
        } else {
            Err(AppError::forbidden(
                "forbidden",
                format!(
                    "Your role ({}) does not have the {} permission needed for this. \
                     Ask an administrator to change your role.",
                    self.role.as_str(),
                    permission.as_str()
                ),
            ))
        }
    }

    /// The caller, if they are an administrator (admin or support); 403 otherwise.
    pub fn require_administrator(self) -> AppResult<Self> {
        if self.is_service_token() || self.role.is_administrator() {
            return Ok(self);
        }
        Err(AppError::forbidden(
            "not_an_administrator",
            format!(
                "The account {} is a {} and has no administrator permissions. \
                 Sign in with an administrator account.",
                self.username,
                self.role.as_str()
            ),
        ))
    }
}

/// The refusal of a service token where only a person's session will do.
pub(crate) fn not_for_people() -> AppError {
    AppError::forbidden(
        "service_token_not_allowed",
        "Service tokens are for scripts on administrator routes; this route needs a person \
         signed in. Sign in with an account instead.",
    )
}

impl AppState {
    /// The live session `token` belongs to, or 401 with why it is not.
    /// `address` is where this request came from: a session's last address follows it.
    pub async fn authenticate(&self, token: &str, address: Option<IpAddr>) -> AppResult<Caller> {
        // A service token is never a person's session: it passes only through
        // `authenticate_for_route`, on the routes its scopes open.
        if token.starts_with(curfew::api::tokens::SERVICE_TOKEN_PREFIX) {
            return Err(not_for_people());
        }
        // Tokens are 43 characters; anything far longer is not one of ours.
        let record = if token.len() > 256 {
            None
        } else {
            self.store.session_by_token_hash(&hash_token(token)).await?
        };
        let Some(record) = record else {
            return Err(AppError::unauthorized(
                "invalid_token",
                "This sign-in is not known to the server. Sign in again.",
            ));
        };
        let now = crate::now_ms();
        if record.revoked_at.is_some() {
            let why = match record.revoked_reason {
                Some(RevocationReason::SignedOut) => "You signed out of this session.",
                Some(RevocationReason::Deactivated) => "The account was deactivated.",
                Some(RevocationReason::LogoutAll) => "An administrator signed everyone out.",
                Some(RevocationReason::SessionLimit) => {
                    "This oldest session ended when you signed in on another device."
                }
                Some(RevocationReason::ProviderLogout) => {
                    "You signed out at your organisation's sign-in service."
                }
                Some(RevocationReason::PasswordChanged) => {
                    "The password was changed, so this session ended; use the new password."
                }
                Some(RevocationReason::Deleted) => "The account was removed.",
                Some(RevocationReason::Maintenance) => {
                    "You were signed out for scheduled maintenance."
                }
                _ => "An administrator signed you out.",
            };
            return Err(AppError::unauthorized(
                "session_revoked",
                format!("{why} Sign in again."),
            ));
        }
        if record.expires_at <= now {
            return Err(AppError::unauthorized(
                "session_expired",
                "Your session expired. Sign in again.",
            ));
        }
        if let Some(idle) = self.config.session_idle {
            if now - record.last_seen_at > idle.as_millis() as i64 {
                return Err(AppError::unauthorized(
                    "session_expired",
                    format!(
                        "Your session ended after {} without use. Sign in again.",
                        idle_words(idle)
                    ),
                ));
            }
        }
        if record.user_status != UserStatus::Active {
            return Err(AppError::unauthorized(
                "account_deactivated",
                "This account is deactivated. Ask your administrator if you need access.",
            ));
        }
        let address = address.map(|a| a.to_string());
        let moved = address.is_some() && address != record.last_address;
        if moved || now - record.last_seen_at >= TOUCH_EVERY_MS {
            let store = self.store.clone();
            let (session, user) = (record.id, record.user_id);
            tokio::spawn(async move {
                if let Err(e) = store.touch_session(session, user, now, address).await {
                    tracing::warn!(error = ?e, "could not record session activity");
                }
            });
        }
        Ok(Caller {
            session_id: record.id,
            user_id: record.user_id,
            username: record.username,
            display_name: record.display_name,
            email: record.email,
            role: record.role,
            client: record.client,
            created_at: record.created_at,
            expires_at: record.expires_at,
            scopes: None,
        })
    }
}

/// "7 days", "12 hours", "30 minutes": an idle timeout in words.
fn idle_words(idle: std::time::Duration) -> String {
    let secs = idle.as_secs();
    let (n, unit) = if secs >= 86_400 && secs.is_multiple_of(86_400) {
        (secs / 86_400, "day")
    } else if secs >= 3600 {
        (secs / 3600, "hour")
    } else {
        ((secs / 60).max(1), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
