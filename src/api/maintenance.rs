//! Maintenance windows: the request, the window and its steps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[allow(unused_imports)]
use super::*;

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
