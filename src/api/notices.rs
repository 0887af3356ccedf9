//! What end users and administrators are told as it happens: revocations with their
//! one sentence, maintenance warnings and cancellations, administrators' events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[allow(unused_imports)]
use super::*;

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
    /// An administrator deleted the account.
    Deleted,
    /// The password was reset or changed.
    PasswordChanged,
    /// The organisation's identity provider ended the session (back-channel logout).
    ProviderLogout,
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
            RevocationReason::Deleted => {
                "Your account was removed. Ask your administrator if you need access."
            }
            RevocationReason::PasswordChanged => {
                "Your password was changed, so you were signed out. Sign in with the new one."
            }
            RevocationReason::ProviderLogout => {
                "You signed out at your organisation's sign-in service, so you were signed out here too."
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
            RevocationReason::Deleted => "deleted",
            RevocationReason::PasswordChanged => "password_changed",
            RevocationReason::ProviderLogout => "provider_logout",
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
            "deleted" => Some(RevocationReason::Deleted),
            "password_changed" => Some(RevocationReason::PasswordChanged),
            "provider_logout" => Some(RevocationReason::ProviderLogout),
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
    /// Set when an administrator moved the window after users were warned: the start it
    /// had before ("Maintenance moved to 15:30").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<DateTime<Utc>>,
    /// With `moved_from`: the move in words, in UTC (pages say it in local time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<String>,
}

impl MaintenanceWarning {
    /// `moved` of a window moved from `from` to `to`, in UTC: "Maintenance moved to
    /// 2026-12-01 15:30 UTC (it was to start 2026-12-01 15:00 UTC)." Every warning of a
    /// moved window says it so: the one the move sends, the scheduler's and `GET /notices`.
    pub fn moved_words(to: DateTime<Utc>, from: DateTime<Utc>) -> String {
        format!(
            "Maintenance moved to {} (it was to start {}).",
            to.format("%Y-%m-%d %H:%M UTC"),
            from.format("%Y-%m-%d %H:%M UTC")
        )
    }
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
    /// An administrator changed users or their sessions (any instance): lists and counts
    /// are stale. `user_id` is the one user concerned, absent for logout-all.
    UsersChanged {
        action: AuditAction,
        actor_username: String,
        user_id: Option<Uuid>,
        users_affected: i64,
        sessions_revoked: i64,
    },
    /// An entry was added to the audit that no other event of this stream announces (a
    /// sign-in, a service token, a window scheduled): an open Activity view loads what is
    /// new. Every other event also means new entries may be there.
    AuditRecorded {
        action: AuditAction,
    },
}

impl AdminEvent {
    /// The SSE `event:` names of the administrators' event stream (which also ends with
    /// the notice `session_revoked` when the administrator's own session ends).
    pub const EVENT_NAMES: [&'static str; 8] = [
        "warning_sent",
        "freeze_started",
        "mass_logout_done",
        "window_ended",
        "window_cancelled",
        "step_failed",
        "users_changed",
        "audit_recorded",
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
            AdminEvent::UsersChanged { .. } => "users_changed",
            AdminEvent::AuditRecorded { .. } => "audit_recorded",
        }
    }
}
