//! The audit: its actions with their human labels, entries, queries, pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

#[allow(unused_imports)]
use super::*;

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
    /// An administrator created an account.
    CreateUser,
    /// An administrator changed an account's name, email or role (`reason` says which).
    UpdateUser,
    /// An administrator set a new password for an account.
    ResetPassword,
    /// An administrator deleted an account (the entry keeps its username).
    DeleteUser,
    /// A user changed their own password.
    ChangePassword,
    /// An administrator imported a CSV file of users (the counts; each account's change
    /// has an entry of its own).
    ImportUsers,
    /// An administrator made a service token (`reason` names it and its scopes).
    CreateServiceToken,
    /// An administrator revoked a service token (`reason` names it).
    RevokeServiceToken,
    /// An administrator signed out several users at once (`reason` names them).
    LogoutSelected,
    /// An administrator deactivated several users at once (`reason` names them).
    DeactivateSelected,
    /// An administrator signed out the sessions idle for more than some days (`reason`
    /// says how many).
    LogoutIdle,
    /// An administrator moved or edited a scheduled window before it started (`reason`
    /// says from when to when, or what changed).
    MoveMaintenance,
}

impl AuditAction {
    /// Every action, in the order the Activity view explains them.
    pub const ALL: [AuditAction; 24] = [
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
        AuditAction::CreateUser,
        AuditAction::UpdateUser,
        AuditAction::ResetPassword,
        AuditAction::DeleteUser,
        AuditAction::ChangePassword,
        AuditAction::ImportUsers,
        AuditAction::CreateServiceToken,
        AuditAction::RevokeServiceToken,
        AuditAction::LogoutSelected,
        AuditAction::DeactivateSelected,
        AuditAction::LogoutIdle,
        AuditAction::MoveMaintenance,
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
            AuditAction::CreateUser => "created the account of",
            AuditAction::UpdateUser => "changed the account of",
            AuditAction::ResetPassword => "reset the password of",
            AuditAction::DeleteUser => "deleted the account of",
            AuditAction::ChangePassword => "changed their own password",
            AuditAction::ImportUsers => "imported users from a CSV file",
            AuditAction::CreateServiceToken => "made a service token",
            AuditAction::RevokeServiceToken => "revoked a service token",
            AuditAction::LogoutSelected => "logged out selected users",
            AuditAction::DeactivateSelected => "deactivated selected users",
            AuditAction::LogoutIdle => "signed out idle sessions",
            AuditAction::MoveMaintenance => "moved or edited maintenance",
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
            AuditAction::CreateUser => "create_user",
            AuditAction::UpdateUser => "update_user",
            AuditAction::ResetPassword => "reset_password",
            AuditAction::DeleteUser => "delete_user",
            AuditAction::ChangePassword => "change_password",
            AuditAction::ImportUsers => "import_users",
            AuditAction::CreateServiceToken => "create_service_token",
            AuditAction::RevokeServiceToken => "revoke_service_token",
            AuditAction::LogoutSelected => "logout_selected",
            AuditAction::DeactivateSelected => "deactivate_selected",
            AuditAction::LogoutIdle => "logout_idle",
            AuditAction::MoveMaintenance => "move_maintenance",
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
            "create_user" => Some(AuditAction::CreateUser),
            "update_user" => Some(AuditAction::UpdateUser),
            "reset_password" => Some(AuditAction::ResetPassword),
            "delete_user" => Some(AuditAction::DeleteUser),
            "change_password" => Some(AuditAction::ChangePassword),
            "import_users" => Some(AuditAction::ImportUsers),
            "create_service_token" => Some(AuditAction::CreateServiceToken),
            "revoke_service_token" => Some(AuditAction::RevokeServiceToken),
            "logout_selected" => Some(AuditAction::LogoutSelected),
            "deactivate_selected" => Some(AuditAction::DeactivateSelected),
            "logout_idle" => Some(AuditAction::LogoutIdle),
            "move_maintenance" => Some(AuditAction::MoveMaintenance),
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
    /// The user who acted, or the service token (then `actor_username` is its name).
    pub actor_id: Uuid,
    pub actor_username: String,
    /// Whether a person or a service token acted; `user` when absent.
    #[serde(default)]
    pub actor_kind: ActorKind,
    pub action: AuditAction,
    /// Absent for actions on everyone, and on several users (then `target_usernames`).
    pub target_user_id: Option<Uuid>,
    pub target_username: Option<String>,
    /// For actions on several users (`logout_selected`, `deactivate_selected`,
    /// `logout_idle`): whom, by username in order, at most
    /// `limits::BULK_AUDIT_NAMES_MAX` of them (`users_affected` counts them all); empty
    /// otherwise, and for entries written before curfewd kept the names. The filter by
    /// user (`target`) finds the entry by any of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_usernames: Vec<String>,
    pub sessions_revoked: i64,
    pub users_affected: i64,
    /// For logout-all: whether other administrators were spared.
    pub keep_admins: Option<bool>,
    /// For sign-ins: the client address the attempt came from.
    pub address: Option<String>,
    /// For sign-ins: the app or the web.
    pub client: Option<ClientKind>,
    /// For failed sign-ins: the error code the client got (`invalid_credentials`,
    /// `account_deactivated`, `maintenance`); for account changes, what changed.
    pub reason: Option<String>,
    /// For maintenance entries: the window, and when it starts (or started).
    pub window_id: Option<Uuid>,
    pub window_starts_at: Option<DateTime<Utc>>,
}

/// Who an audit entry's actor is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A person signed in (or the scheduler, on behalf of the one who scheduled).
    #[default]
    User,
    /// A service token: `actor_id` is the token's id, `actor_username` its name.
    ServiceToken,
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
    /// Who acted: the administrator's username, or the service token's name (on
    /// sign-ins, the user who signed in). Exact: as given, or in lower case (usernames are kept so).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::audit_name))]
    pub actor: Option<String>,
    /// Whom it was done to: the user's username. Exact: as given, or in lower case (usernames are kept so).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::audit_name))]
    pub target: Option<String>,
    /// One action; when given, `category` is not consulted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<AuditAction>,
    /// Entries at or after this moment (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Entries before this moment (RFC 3339); a range that ends before it starts holds
    /// no entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

/// Which entries a page or an export holds, besides the category: each field narrows it,
/// and an absent field does not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Who acted: the administrator's username, or the service token's name (on
    /// sign-ins, the user who signed in). Exact: as given, or in lower case (usernames are kept so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Whom it was done to: the user's username. Exact: as given, or in lower case (usernames are kept so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// One action; when given, `category` is not consulted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<AuditAction>,
    /// Entries at or after this moment (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Entries before this moment (RFC 3339); a range that ends before it starts holds
    /// no entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl AuditQuery {
    /// The query's filter, for the rules that pages and exports share.
    pub fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.clone(),
            target: self.target.clone(),
            action: self.action,
            since: self.since,
            until: self.until,
        }
    }

    /// A query for a page of what `filter` selects.
    pub fn with_filter(mut self, filter: AuditFilter) -> Self {
        self.actor = filter.actor;
        self.target = filter.target;
        self.action = filter.action;
        self.since = filter.since;
        self.until = filter.until;
        self
    }
}

impl AuditExportQuery {
    pub fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.clone(),
            target: self.target.clone(),
            action: self.action,
            since: self.since,
            until: self.until,
        }
    }

    /// An export of what `filter` selects.
    pub fn new(format: AuditFormat, category: Option<AuditCategory>, filter: AuditFilter) -> Self {
        AuditExportQuery {
            format,
            category,
            actor: filter.actor,
            target: filter.target,
            action: filter.action,
            since: filter.since,
            until: filter.until,
        }
    }
}

/// The file formats of an audit export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditFormat {
    /// Comma-separated values with a header row ([`AuditCsvRow`]'s columns), UTF-8.
    Csv,
    /// JSON Lines: one [`AuditEntry`] per line, as `GET /admin/audit` gives them.
    Jsonl,
}

impl AuditFormat {
    pub fn extension(self) -> &'static str {
        match self {
            AuditFormat::Csv => "csv",
            AuditFormat::Jsonl => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            AuditFormat::Csv => "text/csv; charset=utf-8",
            AuditFormat::Jsonl => "application/jsonl",
        }
    }
}

/// Every entry the filter matches, newest first, in one file: no page, no cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditExportQuery {
    pub format: AuditFormat,
    /// As for `GET /admin/audit`: administrators' actions when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<AuditCategory>,
    /// Who acted: the administrator's username, or the service token's name (on
    /// sign-ins, the user who signed in). Exact: as given, or in lower case (usernames are kept so).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::audit_name))]
    pub actor: Option<String>,
    /// Whom it was done to: the user's username. Exact: as given, or in lower case (usernames are kept so).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::audit_name))]
    pub target: Option<String>,
    /// One action; when given, `category` is not consulted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<AuditAction>,
    /// Entries at or after this moment (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Entries before this moment (RFC 3339); a range that ends before it starts holds
    /// no entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
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
