//! The curfewd HTTP contract (`/api/v1`): every request and response body, shared by the
//! server and its clients so that both sides cannot drift apart.
//!
//! Times are RFC 3339 in UTC, ids are UUIDs, durations are seconds. Every error is an
//! [`ErrorBody`]. Enums serialise in `snake_case`, which is what crosses the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

pub use crate::routes::API_PREFIX;

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

/// Which users `GET /admin/users` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserFilter {
    Active,
    Deactivated,
    /// Users with at least one live session.
    Online,
}

/// Query of `GET /admin/users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UserQuery {
    /// Case-insensitive substring of the username or the display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::search))]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<UserFilter>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::cursor))]
    pub cursor: Option<String>,
    /// 1 to 500; 50 when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::page_limit))]
    pub limit: Option<u32>,
}

/// A user as administrators see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AdminUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    /// Live sessions from the mobile app.
    pub app_sessions: i64,
    /// Live sessions from the web.
    pub web_sessions: i64,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A page of users; `next_cursor` is absent on the last page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserPage {
    pub users: Vec<AdminUser>,
    pub next_cursor: Option<String>,
}

/// `GET /admin/sessions/summary`: the numbers a logout-all confirmation names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionSummary {
    pub users: i64,
    pub deactivated_users: i64,
    /// Users with at least one live session.
    pub online_users: i64,
    pub app_sessions: i64,
    pub web_sessions: i64,
    /// Of the online users, how many are administrators (admin or support).
    pub online_administrators: i64,
    /// Live sessions that belong to administrators.
    pub administrator_sessions: i64,
    /// What `logout-all` would end now for the caller (their own session always stays).
    pub logout_all: LogoutPreview,
    /// The same with `keep_admins: true`.
    pub logout_all_keep_admins: LogoutPreview,
}

/// Sessions and users a logout-all would end, for its confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LogoutPreview {
    pub users: i64,
    pub sessions: i64,
    pub app_sessions: i64,
    pub web_sessions: i64,
}

/// `POST /admin/logout-all`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogoutAllRequest {
    /// Also spare every other administrator (admin and support roles).
    pub keep_admins: bool,
}

/// What a forced logout did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LogoutResult {
    pub sessions_revoked: i64,
    pub users_affected: i64,
}

/// What deactivating or activating a user did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserStatusChange {
    pub user: AdminUser,
    pub sessions_revoked: i64,
}

/// One live session of a user, as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AdminSession {
    pub id: Uuid,
    pub client: ClientKind,
    /// The device in words: "Firefox 132 on Windows 10", or the app's device name first.
    pub device: String,
    /// The name the organisation's app sent at sign-in, if any.
    pub device_name: Option<String>,
    /// The address it signed in from (through trusted proxies only).
    pub address: Option<String>,
    /// The address it was last used from.
    pub last_address: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The session making this request.
    pub current: bool,
}

/// `GET /admin/users/{id}/sessions`: a user's live sessions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserSessions {
    pub user_id: Uuid,
    pub sessions: Vec<AdminSession>,
}

/// `GET /admin/sign-in-throttles`: accounts with failed sign-ins in the last minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignInThrottles {
    /// Most attempts first; at most 100.
    pub accounts: Vec<ThrottledAccount>,
    /// Failed sign-ins a minute after which an account is throttled.
    pub failures_allowed: u32,
}

/// One account's failed sign-ins in the last minute (on the instance that answered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ThrottledAccount {
    /// As typed (folded to lower case); it may name no user.
    pub username: String,
    /// The user it names, if any.
    pub user_id: Option<Uuid>,
    /// Wrong passwords in the last minute.
    pub failures: u32,
    /// Attempts refused (429) while throttled, in the last minute.
    pub refused: u32,
    /// Distinct addresses the failures came from.
    pub addresses: u32,
    /// Seconds until it may try again; absent when it is not throttled now.
    pub throttled_for_seconds: Option<u64>,
    pub last_attempt_at: DateTime<Utc>,
}

/// `POST /admin/sign-in-throttles/clear`: let an account try again at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClearThrottle {
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::throttled_username))]
    pub username: String,
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    LogoutUser,
    LogoutAll,
    Deactivate,
    Activate,
    ScheduleMaintenance,
    CancelMaintenance,
    EndMaintenance,
    /// The mass logout at the start of a maintenance window, on behalf of its scheduler.
    MaintenanceLogout,
    /// A user signed in (the actor is the user).
    SignIn,
    /// A sign-in was refused (wrong credentials, deactivated, frozen): `reason` says which.
    SignInFailed,
    /// An administrator let a throttled account try again at once.
    ClearThrottle,
    /// An administrator ended one session of a user (the lost phone).
    EndSession,
}

impl AuditAction {
    /// Every action, in the order the Activity view explains them.
    pub const ALL: [AuditAction; 12] = [
        AuditAction::LogoutUser,
        AuditAction::LogoutAll,
        AuditAction::Deactivate,
        AuditAction::Activate,
        AuditAction::ScheduleMaintenance,
        AuditAction::CancelMaintenance,
        AuditAction::EndMaintenance,
        AuditAction::MaintenanceLogout,
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::ClearThrottle,
        AuditAction::EndSession,
    ];

    /// What the actor did, as the Activity view says it after the actor's name
    /// ("root logged out alice").
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::LogoutUser => "logged out",
            AuditAction::LogoutAll => "logged out everyone",
            AuditAction::Deactivate => "deactivated",
            AuditAction::Activate => "activated",
            AuditAction::ScheduleMaintenance => "scheduled maintenance",
            AuditAction::CancelMaintenance => "cancelled maintenance",
            AuditAction::EndMaintenance => "ended maintenance",
            AuditAction::MaintenanceLogout => "signed everyone out for maintenance",
            AuditAction::SignIn => "signed in",
            AuditAction::SignInFailed => "failed to sign in",
            AuditAction::ClearThrottle => "let sign-ins through again for",
            AuditAction::EndSession => "ended one session of",
        }
    }

    /// Whether it is an administrator's action or a sign-in.
    pub fn category(self) -> AuditCategory {
        match self {
            AuditAction::SignIn | AuditAction::SignInFailed => AuditCategory::SignIn,
            _ => AuditCategory::Admin,
        }
    }

    /// The actions of a category.
    pub fn of(category: AuditCategory) -> Vec<AuditAction> {
        AuditAction::ALL
            .into_iter()
            .filter(|a| category == AuditCategory::All || a.category() == category)
            .collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::LogoutUser => "logout_user",
            AuditAction::LogoutAll => "logout_all",
            AuditAction::Deactivate => "deactivate",
            AuditAction::Activate => "activate",
            AuditAction::ScheduleMaintenance => "schedule_maintenance",
            AuditAction::CancelMaintenance => "cancel_maintenance",
            AuditAction::EndMaintenance => "end_maintenance",
            AuditAction::MaintenanceLogout => "maintenance_logout",
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::ClearThrottle => "clear_throttle",
            AuditAction::EndSession => "end_session",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "logout_user" => Some(AuditAction::LogoutUser),
            "logout_all" => Some(AuditAction::LogoutAll),
            "deactivate" => Some(AuditAction::Deactivate),
            "activate" => Some(AuditAction::Activate),
            "schedule_maintenance" => Some(AuditAction::ScheduleMaintenance),
            "cancel_maintenance" => Some(AuditAction::CancelMaintenance),
            "end_maintenance" => Some(AuditAction::EndMaintenance),
            "maintenance_logout" => Some(AuditAction::MaintenanceLogout),
            "sign_in" => Some(AuditAction::SignIn),
            "sign_in_failed" => Some(AuditAction::SignInFailed),
            "clear_throttle" => Some(AuditAction::ClearThrottle),
            "end_session" => Some(AuditAction::EndSession),
            _ => None,
        }
    }
}

/// Who did what to whom, when, and how many sessions it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Uuid,
    pub actor_username: String,
    pub action: AuditAction,
    /// Absent for actions on everyone.
    pub target_user_id: Option<Uuid>,
    pub target_username: Option<String>,
    pub sessions_revoked: i64,
    pub users_affected: i64,
    /// For logout-all: whether other administrators were spared.
    pub keep_admins: Option<bool>,
    /// For sign-ins: the client address the attempt came from.
    pub address: Option<String>,
    /// For sign-ins: the app or the web.
    pub client: Option<ClientKind>,
    /// For failed sign-ins: the error code the client got (`invalid_credentials`,
    /// `account_deactivated`, `maintenance`).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::cursor))]
    pub cursor: Option<String>,
    /// 1 to 500; 50 when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::page_limit))]
    pub limit: Option<u32>,
    /// Which entries: administrators' actions when absent, sign-ins, or all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<AuditCategory>,
}

/// The two kinds of audit entries: what administrators did, and who signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditCategory {
    /// Forced logouts, account changes, maintenance: the default.
    Admin,
    /// Sign-ins and refused sign-ins.
    SignIn,
    /// Both.
    All,
}

/// Newest first; `next_cursor` is absent on the last page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// Why a session ended, as its own client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// The user signed out themselves.
    SignedOut,
    /// An administrator logged this user out.
    AdminLogout,
    /// An administrator logged everyone out.
    LogoutAll,
    /// An administrator deactivated the account.
    Deactivated,
    /// The session reached its expiry time.
    Expired,
    /// A maintenance window started.
    Maintenance,
    /// The user signed in on more devices than the server allows; the oldest session ended.
    SessionLimit,
}

impl RevocationReason {
    /// The one sentence a signed-out user reads: why, and what to do next.
    pub fn message(self) -> &'static str {
        match self {
            RevocationReason::SignedOut => "You signed out.",
            RevocationReason::AdminLogout => "An administrator signed you out.",
            RevocationReason::LogoutAll => "An administrator signed everyone out.",
            RevocationReason::Deactivated => {
                "Your account was deactivated. Ask your administrator if you need access."
            }
            RevocationReason::Expired => "Your session expired. Sign in again.",
            RevocationReason::Maintenance => {
                "You were signed out for scheduled maintenance. Sign in again when it is over."
            }
            RevocationReason::SessionLimit => {
                "You signed in on more devices than allowed, so this oldest session ended. \
                 Sign in again here if you still need it."
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::SignedOut => "signed_out",
            RevocationReason::AdminLogout => "admin_logout",
            RevocationReason::LogoutAll => "logout_all",
            RevocationReason::Deactivated => "deactivated",
            RevocationReason::Expired => "expired",
            RevocationReason::Maintenance => "maintenance",
            RevocationReason::SessionLimit => "session_limit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "signed_out" => Some(RevocationReason::SignedOut),
            "admin_logout" => Some(RevocationReason::AdminLogout),
            "logout_all" => Some(RevocationReason::LogoutAll),
            "deactivated" => Some(RevocationReason::Deactivated),
            "expired" => Some(RevocationReason::Expired),
            "maintenance" => Some(RevocationReason::Maintenance),
            "session_limit" => Some(RevocationReason::SessionLimit),
            _ => None,
        }
    }
}

/// Data of the `session_revoked` event: the last event of a notice stream. Clients must not
/// reconnect after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionRevoked {
    pub session_id: Uuid,
    pub reason: RevocationReason,
    pub at: DateTime<Utc>,
    pub message: String,
}

/// Data of `maintenance_warning`: a maintenance window is coming; save your work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceWarning {
    pub window_id: Uuid,
    pub message: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Seconds from when this notice was made to the start.
    pub seconds_left: i64,
}

/// Data of `maintenance_cancelled`: the announced window will not happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceCancelled {
    pub window_id: Uuid,
    pub message: String,
}

/// A notice to end users: the SSE event name is the `type` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notice {
    SessionRevoked(SessionRevoked),
    MaintenanceWarning(MaintenanceWarning),
    MaintenanceCancelled(MaintenanceCancelled),
}

impl Notice {
    /// The SSE `event:` names of the end users' notice stream.
    pub const EVENT_NAMES: [&'static str; 3] = [
        "session_revoked",
        "maintenance_warning",
        "maintenance_cancelled",
    ];

    /// The SSE `event:` name of this notice.
    pub fn event_name(&self) -> &'static str {
        match self {
            Notice::SessionRevoked(_) => "session_revoked",
            Notice::MaintenanceWarning(_) => "maintenance_warning",
            Notice::MaintenanceCancelled(_) => "maintenance_cancelled",
        }
    }
}

/// `GET /notices`: the notices in force now, for clients that poll.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NoticeList {
    pub notices: Vec<Notice>,
}

/// Default warning offsets: 60, 15, 5 and 1 minutes before the start.
pub const DEFAULT_WARN_BEFORE: [i64; 4] = [3600, 900, 300, 60];
/// Default: logins freeze 5 minutes before the start.
pub const DEFAULT_FREEZE_BEFORE: i64 = 300;

fn default_warn_before() -> Vec<i64> {
    DEFAULT_WARN_BEFORE.to_vec()
}

fn default_freeze_before() -> i64 {
    DEFAULT_FREEZE_BEFORE
}

/// `POST /admin/maintenance`: schedule a window.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MaintenanceRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::starts_at))]
    pub starts_at: DateTime<Utc>,
    /// Absent: the window lasts until an administrator ends it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::ends_at))]
    pub ends_at: Option<DateTime<Utc>>,
    /// What users are told, 1 to 500 characters.
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::message))]
    pub message: String,
    /// Seconds before the start at which to warn; default 3600, 900, 300, 60.
    #[serde(default = "default_warn_before")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::warn_before))]
    pub warn_before: Vec<i64>,
    /// Seconds before the start from which non-administrators cannot sign in; default 300.
    #[serde(default = "default_freeze_before")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::freeze_before))]
    pub freeze_before: i64,
    /// Also keep the other administrators signed in (the scheduling admin always stays).
    #[serde(default)]
    pub keep_admins: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    Scheduled,
    /// Started: users were logged out; logins stay frozen until the end.
    Running,
    Ended,
    Cancelled,
}

impl WindowState {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowState::Scheduled => "scheduled",
            WindowState::Running => "running",
            WindowState::Ended => "ended",
            WindowState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scheduled" => Some(WindowState::Scheduled),
            "running" => Some(WindowState::Running),
            "ended" => Some(WindowState::Ended),
            "cancelled" => Some(WindowState::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Warning,
    Freeze,
    Logout,
    End,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Warning => "warning",
            StepKind::Freeze => "freeze",
            StepKind::Logout => "logout",
            StepKind::End => "end",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "warning" => Some(StepKind::Warning),
            "freeze" => Some(StepKind::Freeze),
            "logout" => Some(StepKind::Logout),
            "end" => Some(StepKind::End),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Done,
    /// Not run: its moment passed while curfewd was down, or a later step superseded it.
    Skipped,
    Cancelled,
    Failed,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
            StepState::Cancelled => "cancelled",
            StepState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(StepState::Pending),
            "done" => Some(StepState::Done),
            "skipped" => Some(StepState::Skipped),
            "cancelled" => Some(StepState::Cancelled),
            "failed" => Some(StepState::Failed),
            _ => None,
        }
    }
}

/// One step of a window's schedule and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceStep {
    pub kind: StepKind,
    /// For warnings: seconds before the start.
    pub offset_seconds: i64,
    pub due_at: DateTime<Utc>,
    pub state: StepState,
    pub ran_at: Option<DateTime<Utc>>,
    /// What the step did (sessions reached or revoked), or why it was skipped.
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::step_detail))]
    pub detail: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceWindow {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub message: String,
    pub warn_before: Vec<i64>,
    pub freeze_before: i64,
    pub keep_admins: bool,
    pub created_by_username: String,
    pub created_at: DateTime<Utc>,
    pub state: WindowState,
    pub finished_at: Option<DateTime<Utc>>,
    pub steps: Vec<MaintenanceStep>,
}

/// `GET /admin/maintenance`: upcoming and running windows, then the 20 latest finished.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceList {
    pub windows: Vec<MaintenanceWindow>,
}

/// What `GET /admin/events` streams: the desktop app turns these into notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AdminEvent {
    WarningSent {
        window_id: Uuid,
        offset_seconds: i64,
        sessions_reached: i64,
    },
    FreezeStarted {
        window_id: Uuid,
    },
    MassLogoutDone {
        window_id: Uuid,
        sessions_revoked: i64,
        users_affected: i64,
    },
    WindowEnded {
        window_id: Uuid,
    },
    WindowCancelled {
        window_id: Uuid,
    },
    StepFailed {
        window_id: Uuid,
        step: StepKind,
        message: String,
    },
}

impl AdminEvent {
    /// The SSE `event:` names of the administrators' event stream (which also ends with
    /// the notice `session_revoked` when the administrator's own session ends).
    pub const EVENT_NAMES: [&'static str; 6] = [
        "warning_sent",
        "freeze_started",
        "mass_logout_done",
        "window_ended",
        "window_cancelled",
        "step_failed",
    ];

    /// The SSE `event:` name of this event.
    pub fn event_name(&self) -> &'static str {
        match self {
            AdminEvent::WarningSent { .. } => "warning_sent",
            AdminEvent::FreezeStarted { .. } => "freeze_started",
            AdminEvent::MassLogoutDone { .. } => "mass_logout_done",
            AdminEvent::WindowEnded { .. } => "window_ended",
            AdminEvent::WindowCancelled { .. } => "window_cancelled",
            AdminEvent::StepFailed { .. } => "step_failed",
        }
    }
}

/// Schemas of the constrained fields, built from [`crate::limits`] so that the document
/// states the limits the server enforces. Text is checked after trimming white space
/// (Rust's `char::is_whitespace`, spelled out below so that every regex engine agrees).
#[cfg(feature = "openapi")]
pub mod schemas {
    use crate::limits::{
        FREEZE_BEFORE_MAX, MESSAGE_MAX, PAGE_MAX, PASSWORD_MAX, SEARCH_MAX, USERNAME_MAX,
        WARNINGS_MAX, WARN_BEFORE_MAX,
    };
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::{KnownFormat, RefOr, Schema};

    /// Rust's white space, which `trim` removes.
    pub const WHITE_SPACE: &str =
        r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
    /// Control characters (Unicode category Cc).
    pub const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";

    fn visible() -> String {
        format!("[^{CONTROL}{WHITE_SPACE}]")
    }

    /// Text that, trimmed, is 1 to `max` characters (any number when `None`) with no
    /// control character but those in `allowed_controls` (a class body such as `\n`);
    /// `optional`: or only white space.
    fn trimmed_text(max: Option<usize>, allowed_controls: &str, optional: bool) -> String {
        let inner = if allowed_controls.is_empty() {
            format!("[^{CONTROL}]")
        } else {
            format!("(?:[^{CONTROL}]|[{allowed_controls}])")
        };
        let v = visible();
        let repeat = match max {
            Some(max) => format!("{{0,{}}}", max.saturating_sub(2)),
            None => "*".to_owned(),
        };
        let body = format!("{v}(?:{inner}{repeat}{v})?");
        let body = if optional {
            format!("(?:{body})?")
        } else {
            body
        };
        format!("^[{WHITE_SPACE}]*{body}[{WHITE_SPACE}]*$")
    }

    fn string(description: &str) -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    }

    /// `LoginRequest.username`.
    pub fn login_username() -> Schema {
        string(&format!(
            "1 to {USERNAME_MAX} characters, not only white space. Compared in lower case."
        ))
        .min_length(Some(1))
        .max_length(Some(USERNAME_MAX))
        .pattern(Some(format!("[^{WHITE_SPACE}]")))
        .into()
    }

    /// `LoginRequest.password`.
    pub fn login_password() -> Schema {
        string(&format!(
            "Not empty, at most {PASSWORD_MAX} bytes in UTF-8 (so at most {PASSWORD_MAX} \
             characters; fewer when they are not ASCII)."
        ))
        .min_length(Some(1))
        .max_length(Some(PASSWORD_MAX))
        .into()
    }

    /// `ClearThrottle.username`.
    pub fn throttled_username() -> Schema {
        string("As the throttle list shows it: not only white space, no control character.")
            .pattern(Some(trimmed_text(None, "", false)))
            .into()
    }

    /// `MaintenanceRequest.message`.
    pub fn message() -> Schema {
        string(&format!(
            "What users are told: 1 to {MESSAGE_MAX} characters once white space at either end \
             is trimmed; no control character but line breaks (\\n)."
        ))
        .min_length(Some(1))
        .pattern(Some(trimmed_text(Some(MESSAGE_MAX), r"\n", false)))
        .into()
    }

    /// `MaintenanceRequest.starts_at`.
    pub fn starts_at() -> Schema {
        string(&format!(
            "In the future, at most {} days ({} s) from now (not expressible in JSON Schema; \
             refused with 400 `starts_in_past` or `starts_too_late`).",
            crate::limits::STARTS_AHEAD_MAX / 86400,
            crate::limits::STARTS_AHEAD_MAX
        ))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
    }

    /// `LoginRequest.device_name`.
    pub fn device_name() -> Schema {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ]))
            .description(Some(format!(
                "The device in the user's words (\"Maria's iPhone\"), shown to administrators \
                 beside the session: absent or null, or 1 to {} characters once white space at \
                 either end is trimmed, no control character.",
                crate::limits::DEVICE_NAME_MAX
            )))
            .pattern(Some(trimmed_text(
                Some(crate::limits::DEVICE_NAME_MAX),
                "",
                false,
            )))
            .into()
    }

    /// `MaintenanceRequest.ends_at`.
    pub fn ends_at() -> Schema {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ]))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(format!(
                "Absent or null: the window lasts until an administrator ends it. Otherwise \
                 after `starts_at` and at most {} days ({} s) after it (not expressible in JSON \
                 Schema; refused with 400 `ends_before_start` or `window_too_long`).",
                crate::limits::WINDOW_LENGTH_MAX / 86400,
                crate::limits::WINDOW_LENGTH_MAX
            )))
            .into()
    }

    /// `MaintenanceRequest.warn_before`.
    pub fn warn_before() -> Schema {
        ArrayBuilder::new()
            .items(RefOr::T(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(1))
                    .maximum(Some(WARN_BEFORE_MAX))
                    .into(),
            ))
            .max_items(Some(WARNINGS_MAX))
            .description(Some(format!(
                "Seconds before the start at which to warn, each 1 to {WARN_BEFORE_MAX}; at \
                 most {WARNINGS_MAX}; default 3600, 900, 300, 60."
            )))
            .into()
    }

    /// `MaintenanceRequest.freeze_before`.
    pub fn freeze_before() -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0))
            .maximum(Some(FREEZE_BEFORE_MAX))
            .description(Some(format!(
                "Seconds before the start from which non-administrators cannot sign in, 0 to \
                 {FREEZE_BEFORE_MAX}; default 300."
            )))
            .into()
    }

    /// `limit` of the users list and the audit.
    pub fn page_limit() -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(PAGE_MAX))
            .description(Some(format!(
                "1 to {PAGE_MAX}; {} when absent.",
                crate::limits::PAGE_DEFAULT
            )))
            .into()
    }

    /// `q` of the users list.
    pub fn search() -> Schema {
        string(&format!(
            "Case-insensitive substring of the username or the display name: at most \
             {SEARCH_MAX} characters once white space at either end is trimmed, no control \
             character; empty means no search."
        ))
        .pattern(Some(trimmed_text(Some(SEARCH_MAX), "", true)))
        .into()
    }

    /// `cursor` of the users list and the audit.
    pub fn cursor() -> Schema {
        string(
            "The `next_cursor` of the previous page, as this server gave it; any other value \
             is refused with 400 `invalid_cursor` (not expressible in JSON Schema).",
        )
        .into()
    }

    /// `MaintenanceStep.detail`.
    pub fn step_detail() -> Schema {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::Object,
                Type::Null,
            ]))
            .description(Some(
                "What the step did (sessions reached or revoked), or why it was skipped; null \
                 when there is nothing to tell.",
            ))
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A position for every action; adding a variant without an arm does not compile, and
    /// forgetting it in [`AuditAction::ALL`] fails the test below.
    fn ordinal(action: AuditAction) -> usize {
        match action {
            AuditAction::LogoutUser => 0,
            AuditAction::LogoutAll => 1,
            AuditAction::Deactivate => 2,
            AuditAction::Activate => 3,
            AuditAction::ScheduleMaintenance => 4,
            AuditAction::CancelMaintenance => 5,
            AuditAction::EndMaintenance => 6,
            AuditAction::MaintenanceLogout => 7,
            AuditAction::SignIn => 8,
            AuditAction::SignInFailed => 9,
            AuditAction::ClearThrottle => 10,
            AuditAction::EndSession => 11,
        }
    }

    #[test]
    fn every_audit_action_has_a_human_label() {
        let mut ordinals: Vec<usize> = AuditAction::ALL.iter().map(|a| ordinal(*a)).collect();
        ordinals.sort_unstable();
        assert_eq!(
            ordinals,
            (0..AuditAction::ALL.len()).collect::<Vec<_>>(),
            "AuditAction::ALL must list every action once"
        );
        let mut labels = std::collections::HashSet::new();
        for action in AuditAction::ALL {
            let label = action.label();
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
            assert!(!label.trim().is_empty(), "{action:?} has no label");
            assert!(
                !label.contains('_'),
                "{action:?} is labelled with a code: {label}"
            );
            assert!(
                labels.insert(label),
                "{action:?} shares its label {label:?}"
            );
        }
    }

    #[test]
    fn event_names_are_the_wire_tags() {
        let id = Uuid::nil();
        let notices = [
            Notice::SessionRevoked(SessionRevoked {
                session_id: id,
                reason: RevocationReason::Expired,
                at: DateTime::<Utc>::MIN_UTC,
                message: String::new(),
            }),
            Notice::MaintenanceCancelled(MaintenanceCancelled {
                window_id: id,
                message: String::new(),
            }),
        ];
        for notice in &notices {
            let tag = serde_json::to_value(notice).unwrap()["type"].clone();
            assert_eq!(tag, notice.event_name());
            assert!(Notice::EVENT_NAMES.contains(&notice.event_name()));
        }
        let events = [
            AdminEvent::FreezeStarted { window_id: id },
            AdminEvent::WindowEnded { window_id: id },
            AdminEvent::WindowCancelled { window_id: id },
            AdminEvent::StepFailed {
                window_id: id,
                step: StepKind::Logout,
                message: String::new(),
            },
        ];
        for event in &events {
            let tag = serde_json::to_value(event).unwrap()["type"].clone();
            assert_eq!(tag, event.event_name());
            assert!(AdminEvent::EVENT_NAMES.contains(&event.event_name()));
        }
    }

    #[test]
    fn every_revocation_reason_says_one_sentence() {
        for reason in [
            RevocationReason::SignedOut,
            RevocationReason::AdminLogout,
            RevocationReason::LogoutAll,
            RevocationReason::Deactivated,
            RevocationReason::Expired,
            RevocationReason::Maintenance,
            RevocationReason::SessionLimit,
        ] {
            let message = reason.message();
            assert!(message.ends_with('.'), "{message}");
            assert_eq!(RevocationReason::parse(reason.as_str()), Some(reason));
        }
    }
}
