//! Service tokens: named, scoped bearer tokens for scripts and provisioning (SCIM), made by
//! an administrator and shown once. Which route a scope opens is written here, once
//! ([`scope_for`]); a route without a scope is closed to every service token.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[cfg(test)]
use crate::routes::Verb;
use crate::routes::{self, Route};

/// Every service token starts with this, so that it is told from a session token without a
/// lookup (and secret scanners can find a leaked one).
pub const SERVICE_TOKEN_PREFIX: &str = "cft_";

/// A token's name: 1 to this many characters.
pub const TOKEN_NAME_MAX: usize = 64;
/// A token expires at most this many days after it is made.
pub const TOKEN_EXPIRY_DAYS_MAX: u32 = 3650;

/// What a service token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Provisioning from an identity provider under `/scim/v2`.
    Scim,
    /// Every `GET` administrator route: users, sessions, audit, maintenance, throttles.
    Read,
    /// Sign out one user or everyone, end one session, deactivate and activate accounts,
    /// let a throttled account sign in.
    ForceLogout,
    /// Schedule, cancel and end maintenance windows.
    Maintenance,
}

impl TokenScope {
    pub const ALL: [TokenScope; 4] = [
        TokenScope::Scim,
        TokenScope::Read,
        TokenScope::ForceLogout,
        TokenScope::Maintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Scim => "scim",
            TokenScope::Read => "read",
            TokenScope::ForceLogout => "force_logout",
            TokenScope::Maintenance => "maintenance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        TokenScope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
    }

    /// What it allows, in words, for forms and `--help`.
    pub fn describe(self) -> &'static str {
        match self {
            TokenScope::Scim => "provisioning from Okta or Entra (SCIM)",
            TokenScope::Read => "read users, sessions, the audit and maintenance windows",
            TokenScope::ForceLogout => "sign users out, end sessions, deactivate and activate",
            TokenScope::Maintenance => "schedule, cancel and end maintenance windows",
        }
    }
}

/// The scope a service token needs on `route`, or `None` where no service token is
/// accepted: the end users' routes (a token is not a person signed in), `/admin/me`, the
/// desktop app's event stream, account management, the CSV import, and the tokens
/// themselves (a token cannot make or revoke tokens).
pub fn scope_for(route: Route) -> Option<TokenScope> {
    use routes::*;
    const FORCE_LOGOUT: &[Route] = &[
        LOGOUT_USER,
        LOGOUT_ALL,
        BULK_LOGOUT,
        BULK_DEACTIVATE,
        LOGOUT_IDLE,
        END_SESSION,
        DEACTIVATE_USER,
        ACTIVATE_USER,
        CLEAR_SIGN_IN_THROTTLE,
    ];
    const MAINTENANCE_ROUTES: &[Route] = &[
        SCHEDULE_MAINTENANCE,
        CANCEL_MAINTENANCE,
        END_MAINTENANCE,
        MOVE_MAINTENANCE,
        SCHEDULE_SERIES,
        CANCEL_SERIES,
    ];
    const READ: &[Route] = &[
        USERS,
        SESSION_SUMMARY,
        USER_COUNTS,
        USER_SESSIONS,
        AUDIT,
        AUDIT_EXPORT,
        MAINTENANCE,
        SIGN_IN_THROTTLES,
    ];
    if FORCE_LOGOUT.contains(&route) {
        Some(TokenScope::ForceLogout)
    } else if MAINTENANCE_ROUTES.contains(&route) {
        Some(TokenScope::Maintenance)
    } else if READ.contains(&route) {
        Some(TokenScope::Read)
    } else {
        None
    }
}

/// `POST /admin/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewServiceToken {
    /// Unique among live tokens; it names the token in the audit.
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::token_name))]
    pub name: String,
    /// At least one, each once.
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::token_scopes))]
    pub scopes: Vec<TokenScope>,
    /// Days until it stops working, 1 to 3650; absent: it works until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::token_expiry))]
    pub expires_in_days: Option<u32>,
}

/// A service token as administrators see it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    pub created_at: DateTime<Utc>,
    /// The administrator who made it (`curfewd` when made on the server's command line).
    pub created_by: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use, recorded at most once a minute (and whenever the address changes).
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_address: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ServiceToken {
    /// Whether it still authenticates at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// The answer to `POST /admin/tokens`: the token, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedServiceToken {
    /// `cft_` and 43 characters. Only its SHA-256 is kept: it cannot be shown again.
    pub token: String,
    pub service_token: ServiceToken,
}

/// `GET /admin/tokens`: live tokens first (newest first), then revoked and expired ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceTokenList {
    pub tokens: Vec<ServiceToken>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_what_they_print() {
        for scope in TokenScope::ALL {
            assert_eq!(TokenScope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(TokenScope::parse("admin"), None);
    }

    #[test]
    fn end_user_and_token_routes_take_no_service_token() {
        for route in [
            routes::LOGIN,
            routes::SESSION,
            routes::LOGOUT,
            routes::CHANGE_PASSWORD,
            routes::NOTICES,
            routes::NOTICE_STREAM,
            routes::ADMIN_ME,
            routes::ADMIN_EVENTS,
            routes::CREATE_USER,
            routes::DELETE_USER,
        ] {
            assert_eq!(scope_for(route), None, "{route}");
        }
        // Every route is decided: opened by one scope, or closed to service tokens (the
        // document needs no token at all). A new route fails here until it is put in one
        // or the other.
        let closed = [
            routes::LOGIN,
            routes::SESSION,
            routes::LOGOUT,
            routes::CHANGE_PASSWORD,
            routes::NOTICES,
            routes::NOTICE_STREAM,
            routes::ADMIN_ME,
            routes::ADMIN_EVENTS,
            routes::CREATE_USER,
            routes::UPDATE_USER,
            routes::DELETE_USER,
            routes::RESET_PASSWORD,
            routes::IMPORT_USERS,
            routes::SERVICE_TOKENS,
            routes::CREATE_SERVICE_TOKEN,
            routes::REVOKE_SERVICE_TOKEN,
            routes::OPENAPI,
        ];
        for route in routes::ALL {
            assert_ne!(
                scope_for(*route).is_some(),
                closed.contains(route),
                "{route}: give it a scope in scope_for, or list it here as closed to tokens"
            );
        }
        // `read` opens only GET routes.
        for route in routes::ALL {
            if scope_for(*route) == Some(TokenScope::Read) {
                assert_eq!(route.verb, Verb::Get, "{route}");
            }
        }
    }
}
