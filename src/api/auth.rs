//! Who signs in and what they may do: clients, roles, permissions, sign-in, sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[allow(unused_imports)]
use super::*;

/// Which kind of client a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    App,
    Web,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::App => "app",
            ClientKind::Web => "web",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "app" => Some(ClientKind::App),
            "web" => Some(ClientKind::Web),
            _ => None,
        }
    }
}

/// A user's role; it decides the permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// `force_logout` and `manage_users`.
    Admin,
    /// `force_logout` only.
    Support,
    /// No administrative permission.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "support" => Some(Role::Support),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Role::Admin => &[Permission::ForceLogout, Permission::ManageUsers],
            Role::Support => &[Permission::ForceLogout],
            Role::Member => &[],
        }
    }

    pub fn has(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    /// Administrators are the roles with any permission: the people who may use the
    /// desktop app. `keep_admins` spares them and maintenance never freezes them out.
    pub fn is_administrator(self) -> bool {
        !self.permissions().is_empty()
    }
}

/// What an administrator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Log out one user, everyone, and run maintenance windows.
    ForceLogout,
    /// Deactivate and activate accounts.
    ManageUsers,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ForceLogout => "force_logout",
            Permission::ManageUsers => "manage_users",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(UserStatus::Active),
            "deactivated" => Some(UserStatus::Deactivated),
            _ => None,
        }
    }
}

/// Every error response: a stable machine code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

/// `POST /auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::login_username))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::login_password))]
    pub password: String,
    pub client: ClientKind,
    /// The device in the user's words, as the organisation's app may send it ("Maria's
    /// iPhone"); shown to administrators beside the session. 1 to 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::device_name))]
    pub device_name: Option<String>,
}

/// One signed-in session of one user on one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub client: ClientKind,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The answer to a successful login. The token is shown once; the server keeps only its hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub session: Session,
}

/// `GET /admin/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Me {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub permissions: Vec<Permission>,
    pub session_id: Uuid,
}
