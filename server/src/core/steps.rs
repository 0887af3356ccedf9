//! What each maintenance step does, decided here and carried out in the transaction that
//! claimed it (see [`crate::store::StepTx`]), then told to open streams and to the
//! administrators' event streams.
//!
//! Rules kept here: a warning whose moment passed (the window started, or a later warning
//! is due as well) is skipped, not sent late, and recorded so; the freeze step marks the
//! start of the login freeze (the freeze itself is read from the window's times); the
//! logout step signs out everyone but the scheduling administrator (and the other
//! administrators with `keep_admins`) in one statement, audited on the scheduler's
//! behalf; the end step closes the window.

use curfew::api::{AdminEvent, AuditAction, RevocationReason, StepKind, StepState};
use serde_json::json;
use uuid::Uuid;

use super::signal::Signal;
use super::{notices, AppResult, AppState};
use crate::store::{
    Actor, AuditRecord, DueStep, MassRevocation, NextOccurrences, SeriesRow, Spared, StepWindow,
};

/// What a step turned out to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Warned,
    /// A warning whose moment passed (curfewd was down, or a later warning is due too).
    Skipped,
    Frozen,
    LoggedOut(MassRevocation),
    Ended,
}

impl AppState {
    /// Pending steps due by now, oldest first.
    pub async fn due_steps(&self) -> AppResult<Vec<DueStep>> {
        Ok(self.store.due_steps(crate::now_ms()).await?)
    }

    /// When the next pending step is due, if any.
    pub async fn next_step_due(&self) -> AppResult<Option<i64>> {
        Ok(self.store.next_due().await?)
    }

    /// Runs one due step unless another instance already has it: decides its effect,
    /// commits it with the claim, then tells streams and administrators.
    pub async fn run_step(&self, step: &DueStep) -> AppResult<()> {
        let now = crate::now_ms();
        let Some(mut tx) = self.store.claim_step(step, now).await? else {
            return Ok(());
        };
        let late_ms = now - step.due_at;
        let window = tx.window.clone();
        let (outcome, state, detail) = match step.kind {
            StepKind::Warning => {
                if now >= window.starts_at || tx.later_warning_due(now).await? {
                    (
                        StepOutcome::Skipped,
                        StepState::Skipped,
                        json!({"skipped": "its moment passed before it could be sent", "late_ms": late_ms}),
                    )
                } else {
                    (
                        StepOutcome::Warned,
                        StepState::Done,
                        json!({"late_ms": late_ms}),
                    )
                }
            }
            StepKind::Freeze => (
                StepOutcome::Frozen,
                StepState::Done,
                json!({"late_ms": late_ms}),
            ),
            StepKind::Logout => {
                // A window a service token scheduled signs out under the token's name.
                let by_token = self.store.service_token(window.created_by).await?.is_some();
                let revocation = tx
                    .revoke_all(
                        now,
                        RevocationReason::Maintenance,
                        Spared {
                            session: None,
                            user: Some(window.created_by),
                            administrators: window.keep_admins,
                        },
                    )
                    .await?;
                tx.mark_window_running().await?;
                let actor = scheduler_actor(&window, by_token);
                // A repeating window's next occurrence is created as this one starts, in
                // this transaction: once, whichever instance claimed the step.
                let next = move |series: &SeriesRow, after: i64| {
                    super::recurrence::next_occurrences(series, after, now)
                };
                tx.materialise_next(&next, &actor, now)
                    .await
                    .map_err(|e| super::maintenance::window_error(e, step.window_id))?;
                tx.audit(
                    &AuditRecord::new(now, &actor, AuditAction::MaintenanceLogout)
                        .window(step.window_id)
                        .ended(revocation.sessions, revocation.users),
                )
                .await?;
                (
                    StepOutcome::LoggedOut(revocation),
                    StepState::Done,
                    json!({"sessions_revoked": revocation.sessions, "users_affected": revocation.users, "late_ms": late_ms}),
                )
            }
            StepKind::End => {
                tx.mark_window_ended(now).await?;
                (
                    StepOutcome::Ended,
                    StepState::Done,
                    json!({"late_ms": late_ms}),
                )
            }
        };
        tx.finish(state, detail).await?;
        tracing::info!(window = %step.window_id, step = step.kind.as_str(), offset = step.offset_seconds, late_ms, outcome = ?outcome, "maintenance step");
        self.tell_step(step, &window, outcome, now, late_ms).await
    }

    /// After a step committed: the fan-out it calls for, and its administrators' event.
    async fn tell_step(
        &self,
        step: &DueStep,
        window: &StepWindow,
        outcome: StepOutcome,
        now: i64,
        late_ms: i64,
    ) -> AppResult<()> {
        let event = match outcome {
            StepOutcome::Warned => {
                // A window moved after its users were warned is announced as moved, as
                // `GET /notices` says it, until it starts.
                let notice = match window.moved_from {
                    Some(from) => notices::moved(
                        step.window_id,
                        &window.message,
                        (window.starts_at, window.ends_at),
                        from,
                        crate::now_ms(),
                    ),
                    None => notices::warning(
                        step.window_id,
                        &window.message,
                        window.starts_at,
                        window.ends_at,
                        crate::now_ms(),
                    ),
                };
                let reached = self.publish(Signal::Notice { notice }).await? as i64;
                self.store.record_step_reach(step, reached, late_ms).await?;
                Some(AdminEvent::WarningSent {
                    window_id: step.window_id,
                    offset_seconds: step.offset_seconds,
                    sessions_reached: reached,
                })
            }
            StepOutcome::Skipped => None,
            StepOutcome::Frozen => Some(AdminEvent::FreezeStarted {
                window_id: step.window_id,
            }),
            StepOutcome::LoggedOut(revocation) => {
                self.publish(Signal::MassRevocation {
                    revocation,
                    reason: RevocationReason::Maintenance,
                    at: now,
                })
                .await?;
                Some(AdminEvent::MassLogoutDone {
                    window_id: step.window_id,
                    sessions_revoked: revocation.sessions,
                    users_affected: revocation.users,
                })
            }
            StepOutcome::Ended => Some(AdminEvent::WindowEnded {
                window_id: step.window_id,
            }),
        };
        if let Some(event) = event {
            let _ = self.publish(Signal::Admin { event }).await;
        }
        Ok(())
    }

    /// Gives up on a step that keeps failing, so the schedule moves on, and tells the
    /// administrators why.
    pub async fn fail_step(&self, step: &DueStep, error: &str) {
        let now = crate::now_ms();
        let next = move |series: &SeriesRow, after: i64| {
            super::recurrence::next_occurrences(series, after, now)
        };
        let next = (step.kind == StepKind::Logout).then_some(&next as NextOccurrences<'_>);
        if let Err(e) = self.store.fail_step(step, now, error, next).await {
            tracing::error!(error = ?e, window = %step.window_id, "could not mark the step failed");
        }
        let _ = self
            .publish(Signal::Admin {
                event: AdminEvent::StepFailed {
                    window_id: step.window_id,
                    step: step.kind,
                    message: format!(
                        "The {} step failed: {error}. Check the curfewd log.",
                        step.kind.as_str()
                    ),
                },
            })
            .await;
    }
}

/// The mass logout is recorded on behalf of the administrator (or the service token) who
/// scheduled the window.
fn scheduler_actor(window: &StepWindow, service_token: bool) -> Actor {
    Actor {
        user_id: window.created_by,
        username: window.created_by_username.clone(),
        session_id: Uuid::nil(),
        service_token,
    }
}
