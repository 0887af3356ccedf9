//! Scheduling, cancelling and ending windows: each change is made by the store in one
//! transaction with its audit entry, then told to end users and administrators.
//!
//! Rules kept here: a window is checked by [`super::maintenance::validate`] first; cancelling
//! an occurrence of a series creates the next one in the same transaction; every change
//! wakes the scheduler and forgets the gate's cached freezes.

use curfew::api::{
    AdminEvent, MaintenanceChange, MaintenanceList, MaintenanceRequest, MaintenanceWindow,
    StepKind, StepState,
};
use uuid::Uuid;

use super::maintenance::{validate, window_error};
use super::recurrence::next_occurrences;
use super::signal::Signal;
use super::{notices, AppResult, AppState};
use crate::store::{from_millis, Actor, SeriesRow, WindowError};

impl AppState {
    /// Upcoming and running windows, then the latest finished ones, each occurrence with
    /// its series' next starts.
    pub async fn windows(&self) -> AppResult<MaintenanceList> {
        let mut windows = self.store.windows().await?;
        windows.iter_mut().for_each(AppState::complete_series);
        Ok(MaintenanceList { windows })
    }

    /// A window by id, or `window_not_found`.
    pub async fn window(&self, id: Uuid) -> AppResult<MaintenanceWindow> {
        let mut window = self
            .store
            .window(id)
            .await?
            .ok_or_else(|| window_error(WindowError::NotFound, id))?;
        AppState::complete_series(&mut window);
        Ok(window)
    }

    /// Schedules a window unless it overlaps another; the scheduler runs its steps.
    pub async fn schedule_window(
        &self,
        actor: &Actor,
        request: &MaintenanceRequest,
    ) -> AppResult<MaintenanceWindow> {
        let now = crate::now_ms();
        let window = validate(request, now)?;
        let id = self
            .store
            .create_window(actor, &window, now)
            .await
            .map_err(|e| window_error(e, Uuid::nil()))?;
        self.scheduler_wake.notify_one();
        self.freezes.forget();
        tracing::info!(actor = %actor.username, window = %id, "scheduled maintenance");
        self.audited(curfew::api::AuditAction::ScheduleMaintenance)
            .await;
        self.window(id).await
    }

    /// Cancels a window before it starts and tells end users and administrators. The
    /// next occurrence of its series, if any, is created with the cancellation.
    pub async fn cancel_window(&self, actor: &Actor, id: Uuid) -> AppResult<MaintenanceWindow> {
        let now = crate::now_ms();
        let next = move |series: &SeriesRow, after: i64| next_occurrences(series, after, now);
        let created = self
            .store
            .cancel_window(actor, id, &next, now)
            .await
            .map_err(|e| window_error(e, id))?;
        self.freezes.forget();
        if created.is_some() {
            self.scheduler_wake.notify_one();
        }
        let window = self.window(id).await?;
        self.publish(Signal::Notice {
            notice: notices::cancelled(id, window.starts_at),
        })
        .await?;
        self.publish(Signal::Admin {
            event: AdminEvent::WindowCancelled { window_id: id },
        })
        .await?;
        tracing::info!(actor = %actor.username, window = %id, "cancelled maintenance");
        Ok(window)
    }

    /// Ends a running window now: sign-ins reopen.
    pub async fn end_window(&self, actor: &Actor, id: Uuid) -> AppResult<MaintenanceWindow> {
        self.store
            .end_window_now(actor, id, crate::now_ms())
            .await
            .map_err(|e| window_error(e, id))?;
        self.publish(Signal::Admin {
            event: AdminEvent::WindowEnded { window_id: id },
        })
        .await?;
        tracing::info!(actor = %actor.username, window = %id, "ended maintenance");
        self.window(id).await
    }

    /// Moves or edits a window that has not started: checked like a new one, its steps
    /// planned again as of now. Users already warned are told the new time at once (that
    /// notice stands for a warning already due, which is not sent again).
    pub async fn change_window(
        &self,
        actor: &Actor,
        id: Uuid,
        change: &MaintenanceChange,
    ) -> AppResult<MaintenanceWindow> {
        let before = self.window(id).await?;
        let now = crate::now_ms();
        let mut window = validate(
            &MaintenanceRequest {
                starts_at: change.starts_at,
                ends_at: change.ends_at,
                message: change.message.clone(),
                warn_before: change.warn_before.clone(),
                freeze_before: change.freeze_before,
                keep_admins: before.keep_admins,
            },
            now,
        )?;
        // Warned: a warning went out, or one did before an earlier move planned them again.
        let warned = before
            .steps
            .iter()
            .any(|s| s.kind == StepKind::Warning && s.state == StepState::Done)
            || self.store.moved_after_warning(id).await?;
        if warned {
            window
                .steps
                .retain(|(kind, _, due)| !(*kind == StepKind::Warning && *due <= now));
        }
        let to = window.starts_at;
        let words = move |from: i64| {
            if from == to {
                "changed the message, warnings or end".to_owned()
            } else {
                format!(
                    "moved from {} to {}",
                    from_millis(from).format("%Y-%m-%d %H:%M UTC"),
                    from_millis(to).format("%Y-%m-%d %H:%M UTC")
                )
            }
        };
        let moved = self
            .store
            .move_window(actor, id, &window, &words, now)
            .await
            .map_err(|e| window_error(e, id))?;
        self.scheduler_wake.notify_one();
        self.freezes.forget();
        if moved.warned {
            let notice = notices::moved(
                id,
                &window.message,
                (window.starts_at, window.ends_at),
                moved.from,
                crate::now_ms(),
            );
            self.publish(Signal::Notice { notice }).await?;
        }
        tracing::info!(actor = %actor.username, window = %id, from = moved.from, to, "changed maintenance");
        // Other administrators' lists follow (the app reloads its windows on this action).
        self.audited(curfew::api::AuditAction::MoveMaintenance)
            .await;
        self.window(id).await
    }
}
