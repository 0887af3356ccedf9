//! Maintenance windows: what a valid window is, how its steps are laid out, and who is
//! frozen out of signing in (scheduling, cancelling and ending are in [`super::windows`]).
//!
//! Rules kept here: a window starts in the future (within a year) and lasts at most 30
//! days; warnings already due when a window is created fold into one sent at once; during
//! the freeze (from `starts_at - freeze_before` to the end) only administrators sign in.

use curfew::api::{MaintenanceRequest, Role, StepKind, WindowState};
use curfew::limits::{
    FREEZE_BEFORE_MAX, MESSAGE_MAX, STARTS_AHEAD_MAX, WARNINGS_MAX, WARN_BEFORE_MAX,
    WINDOW_LENGTH_MAX,
};
use uuid::Uuid;

use super::{AppError, AppResult, AppState, ErrorKind};
use crate::store::{from_millis, millis, NewWindow, WindowError};

/// The steps of a window created at `now`. Warnings whose moment has already passed are
/// folded into one warning sent at once (a window 3 minutes away warns now, then at 1).
pub fn plan_steps(
    starts_at: i64,
    ends_at: Option<i64>,
    warn_before: &[i64],
    freeze_before: i64,
    now: i64,
) -> Vec<(StepKind, i64, i64)> {
    let mut offsets: Vec<i64> = warn_before.to_vec();
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    offsets.dedup();
    let mut steps = Vec::new();
    let passed: Vec<i64> = offsets
        .iter()
        .copied()
        .filter(|o| starts_at - o * 1000 <= now)
        .collect();
    if let Some(closest) = passed.iter().min() {
        steps.push((StepKind::Warning, *closest, now));
    }
    for offset in offsets.iter().filter(|o| !passed.contains(o)) {
        steps.push((StepKind::Warning, *offset, starts_at - offset * 1000));
    }
    steps.push((
        StepKind::Freeze,
        0,
        (starts_at - freeze_before * 1000).max(now),
    ));
    steps.push((StepKind::Logout, 0, starts_at));
    if let Some(ends_at) = ends_at {
        steps.push((StepKind::End, 0, ends_at));
    }
    steps
}

/// Checks a request against the contract's limits and lays out its steps.
pub fn validate(request: &MaintenanceRequest, now: i64) -> AppResult<NewWindow> {
    let bad = |code, message: String| Err(AppError::bad_request(code, message));
    let starts_at = millis(request.starts_at);
    if starts_at <= now {
        return bad(
            "starts_in_past",
            "The start time is in the past. Choose a time in the future.".into(),
        );
    }
    if starts_at - now > STARTS_AHEAD_MAX * 1000 {
        return bad(
            "starts_too_late",
            "The start time is more than a year away.".into(),
        );
    }
    let ends_at = request.ends_at.map(millis);
    if let Some(ends_at) = ends_at {
        if ends_at <= starts_at {
            return bad(
                "ends_before_start",
                "The end time must be after the start time.".into(),
            );
        }
        if ends_at - starts_at > WINDOW_LENGTH_MAX * 1000 {
            return bad(
                "window_too_long",
                "A maintenance window may last at most 30 days.".into(),
            );
        }
    }
    let message = request.message.trim();
    if message.is_empty() {
        return bad(
            "empty_message",
            "Write the message users will see, such as \"System update: save your work\".".into(),
        );
    }
    if message.chars().count() > MESSAGE_MAX {
        return bad(
            "message_too_long",
            format!("The message is longer than {MESSAGE_MAX} characters; shorten it."),
        );
    }
    if message.chars().any(|c| c.is_control() && c != '\n') {
        return bad(
            "invalid_message",
            "The message contains control characters.".into(),
        );
    }
    if request.warn_before.len() > WARNINGS_MAX {
        return bad(
            "too_many_warnings",
            format!("Give at most {WARNINGS_MAX} warning times."),
        );
    }
    if let Some(o) = request
        .warn_before
        .iter()
        .find(|o| !(1..=WARN_BEFORE_MAX).contains(*o))
    {
        return bad(
            "invalid_warning",
            format!("The warning time {o} s is out of range: use 1 s to 7 days before the start."),
        );
    }
    if !(0..=FREEZE_BEFORE_MAX).contains(&request.freeze_before) {
        return bad(
            "invalid_freeze",
            "Freeze sign-ins 0 s to 24 h before the start.".into(),
        );
    }
    let mut warn_before = request.warn_before.clone();
    warn_before.sort_unstable_by(|a, b| b.cmp(a));
    warn_before.dedup();
    Ok(NewWindow {
        starts_at,
        ends_at,
        message: message.to_owned(),
        steps: plan_steps(starts_at, ends_at, &warn_before, request.freeze_before, now),
        warn_before,
        freeze_before: request.freeze_before,
        keep_admins: request.keep_admins,
    })
}

/// The sentence for each way a window operation can be refused.
pub fn window_error(e: WindowError, id: Uuid) -> AppError {
    match e {
        WindowError::Overlaps(other) => AppError::conflict(
            "window_overlaps",
            format!("This window overlaps the maintenance window {other}. Change the times or cancel that window first."),
        ),
        WindowError::NotFound => AppError::not_found("window_not_found", format!("No maintenance window has the id {id}.")),
        WindowError::WrongState(WindowState::Running) => AppError::conflict(
            "window_running",
            "This window has started: it can no longer be cancelled. Use End now to reopen sign-ins.",
        ),
        WindowError::WrongState(WindowState::Scheduled) => AppError::conflict(
            "window_not_started",
            "This window has not started yet: cancel it instead of ending it.",
        ),
        WindowError::WrongState(state) => AppError::conflict(
            "window_finished",
            format!("This window is already {}.", state.as_str()),
        ),
        WindowError::Database(e) => e.into(),
    }
}

/// Refuses a sign-in of a non-administrator while a window freezes sign-ins, with when it
/// ends and a `Retry-After`. Administrators are never frozen out.
pub async fn refuse_if_frozen(state: &AppState, role: Role, now: i64) -> AppResult<()> {
    if role.is_administrator() {
        return Ok(());
    }
    let Some(freeze) = state.store.active_freeze(now).await? else {
        return Ok(());
    };
    let (retry_after, until, next) = match freeze.ends_at {
        Some(ends_at) => {
            let at = from_millis(ends_at).format("%H:%M UTC");
            (
                ((ends_at - now) / 1000).max(1) as u64,
                format!(" until {at}"),
                format!("Try again after {at}."),
            )
        }
        None => (
            300,
            String::new(),
            "It has no set end: an administrator will end it; try again in a few minutes."
                .to_owned(),
        ),
    };
    Err(AppError::retry(
        ErrorKind::Maintenance,
        "maintenance",
        format!(
            "Sign-in is paused for maintenance{until}: {} {next}",
            freeze.message
        ),
        retry_after,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passed_warnings_fold_into_one_sent_now() {
        let now = 1_000_000_000;
        let start = now + 180_000; // 3 minutes away
        let steps = plan_steps(start, Some(start + 60_000), &[3600, 900, 300, 60], 300, now);
        assert_eq!(
            steps,
            vec![
                (StepKind::Warning, 300, now),
                (StepKind::Warning, 60, start - 60_000),
                (StepKind::Freeze, 0, now),
                (StepKind::Logout, 0, start),
                (StepKind::End, 0, start + 60_000),
            ]
        );
    }

    #[test]
    fn future_warnings_keep_their_times() {
        let now = 0;
        let start = 7_200_000;
        let steps = plan_steps(start, None, &[60, 3600, 60], 300, now);
        assert_eq!(
            steps,
            vec![
                (StepKind::Warning, 3600, start - 3_600_000),
                (StepKind::Warning, 60, start - 60_000),
                (StepKind::Freeze, 0, start - 300_000),
                (StepKind::Logout, 0, start),
            ]
        );
    }
}
