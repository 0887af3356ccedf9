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
    /// The repeating maintenance this window is an occurrence of.
    #[serde(default)]
    pub series: Option<MaintenanceSeries>,
    /// The start it had before an administrator moved it, if it was moved.
    #[serde(default)]
    pub moved_from: Option<DateTime<Utc>>,
}

/// How a window repeats: an RFC 5545 rule, the subset Curfew runs (`FREQ=WEEKLY` with
/// `BYDAY`, or `FREQ=MONTHLY` with `BYMONTHDAY` or a `BYDAY` with its position such as
/// `1SA`; `INTERVAL`; `COUNT` or `UNTIL`), read in `time_zone` so that every occurrence
/// keeps the first one's wall time across daylight-saving changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    /// For example `FREQ=MONTHLY;BYDAY=1SA;COUNT=12` (the first Saturday, 12 times).
    pub rule: String,
    /// An IANA time zone, such as `Europe/Berlin`.
    pub time_zone: String,
}

/// `POST /admin/maintenance/series`: schedule a repeating window. `window` is its first
/// occurrence (its start and length; an end is required); `repeat` says when it recurs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SeriesRequest {
    pub window: MaintenanceRequest,
    pub repeat: Repeat,
}

/// `PATCH /admin/maintenance/{id}`: new times, message, warnings and freeze for a window
/// that has not started. Users already warned are told the new time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MaintenanceChange {
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::starts_at))]
    pub starts_at: DateTime<Utc>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::ends_at))]
    pub ends_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::message))]
    pub message: String,
    #[serde(default = "default_warn_before")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::warn_before))]
    pub warn_before: Vec<i64>,
    #[serde(default = "default_freeze_before")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::freeze_before))]
    pub freeze_before: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SeriesState {
    /// More occurrences will be created.
    Active,
    Cancelled,
    /// The rule has no occurrence left.
    Finished,
}

impl SeriesState {
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesState::Active => "active",
            SeriesState::Cancelled => "cancelled",
            SeriesState::Finished => "finished",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(SeriesState::Active),
            "cancelled" => Some(SeriesState::Cancelled),
            "finished" => Some(SeriesState::Finished),
            _ => None,
        }
    }
}

/// A repeating maintenance: its rule, in words, and its next occurrences' starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceSeries {
    pub id: Uuid,
    pub rule: String,
    pub time_zone: String,
    /// "every week on Monday, 10 times"
    pub description: String,
    pub state: SeriesState,
    /// The next starts still to come (the scheduled occurrence first), at most 5.
    pub next: Vec<DateTime<Utc>>,
}

/// `GET /admin/maintenance`: upcoming and running windows, then the 20 latest finished.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceList {
    pub windows: Vec<MaintenanceWindow>,
}
