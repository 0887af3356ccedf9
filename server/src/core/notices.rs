//! The notices end users receive, built in one place so that every path (a logout, a
//! sweep, another instance's signal, the scheduler) tells users the same sentence.

use curfew::api::{
    MaintenanceCancelled, MaintenanceWarning, Notice, RevocationReason, SessionRevoked,
};
use uuid::Uuid;

use crate::store::from_millis;

/// `session_revoked`, with the reason's one sentence (from the contract).
pub fn revoked(session_id: Uuid, reason: RevocationReason, at: i64) -> Notice {
    Notice::SessionRevoked(SessionRevoked {
        session_id,
        reason,
        at: from_millis(at),
        message: reason.message().to_owned(),
    })
}

/// `maintenance_warning` for a window starting at `starts_at`, as of `now`.
pub fn warning(
    window_id: Uuid,
    message: &str,
    starts_at: i64,
    ends_at: Option<i64>,
    now: i64,
) -> Notice {
    Notice::MaintenanceWarning(MaintenanceWarning {
        window_id,
        message: message.to_owned(),
        starts_at: from_millis(starts_at),
        ends_at: ends_at.map(from_millis),
        seconds_left: ((starts_at - now) as f64 / 1000.0).ceil().max(0.0) as i64,
        moved_from: None,
        moved: None,
    })
}

/// `maintenance_warning` telling users already warned that the window moved from
/// `moved_from` to its new start.
pub fn moved(
    window_id: Uuid,
    message: &str,
    (starts_at, ends_at): (i64, Option<i64>),
    moved_from: i64,
    now: i64,
) -> Notice {
    let Notice::MaintenanceWarning(mut warning) =
        warning(window_id, message, starts_at, ends_at, now)
    else {
        unreachable!("warning() makes a warning")
    };
    warning.moved_from = Some(from_millis(moved_from));
    warning.moved = Some(MaintenanceWarning::moved_words(
        from_millis(starts_at),
        from_millis(moved_from),
    ));
    Notice::MaintenanceWarning(warning)
}

/// `maintenance_cancelled` for the window that was to start at `starts_at`.
pub fn cancelled(window_id: Uuid, starts_at: chrono::DateTime<chrono::Utc>) -> Notice {
    Notice::MaintenanceCancelled(MaintenanceCancelled {
        window_id,
        message: format!(
            "The maintenance planned for {} was cancelled.",
            starts_at.format("%Y-%m-%d %H:%M UTC")
        ),
    })
}
