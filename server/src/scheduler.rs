//! Runs maintenance windows: every due step is claimed in the database and carried out
//! once (see [`crate::store`]), then told to open streams and to administrators' event
//! streams. The schedule lives in the database, so a restarted curfewd (or another
//! instance) picks up where this one stopped.

use std::collections::HashMap;
use std::time::Duration;

use curfew::api::{AdminEvent, MaintenanceWarning, Notice, RevocationReason, StepKind};

use crate::cluster::Signal;
use crate::http::AppState;
use crate::store::{from_millis, DueStep, StepOutcome};

/// The longest the scheduler sleeps: windows created by other instances are found within it.
const MAX_SLEEP: Duration = Duration::from_millis(500);
/// A step that fails this many times in a row is marked failed, so the schedule moves on.
const ATTEMPTS: u32 = 5;

pub fn warning_notice(
    window_id: uuid::Uuid,
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
    })
}

pub async fn run(state: AppState) {
    let mut failures: HashMap<(uuid::Uuid, StepKind, i64), u32> = HashMap::new();
    loop {
        if let Err(e) = tick(&state, &mut failures).await {
            tracing::warn!(error = ?e, "maintenance scheduler could not read its steps");
        }
        let now = crate::now_ms();
        let sleep = match state.store.next_due().await {
            Ok(Some(due)) if due > now => Duration::from_millis((due - now) as u64).min(MAX_SLEEP),
            Ok(Some(_)) => Duration::from_millis(10),
            _ => MAX_SLEEP,
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = state.scheduler_wake.notified() => {}
        }
    }
}

async fn tick(
    state: &AppState,
    failures: &mut HashMap<(uuid::Uuid, StepKind, i64), u32>,
) -> anyhow::Result<()> {
    for step in state.store.due_steps(crate::now_ms()).await? {
        let key = (step.window_id, step.kind, step.offset_seconds);
        match run_one(state, &step).await {
            Ok(()) => {
                failures.remove(&key);
            }
            Err(e) => {
                let attempts = failures.entry(key).or_default();
                *attempts += 1;
                tracing::error!(error = ?e, window = %step.window_id, step = step.kind.as_str(), attempts = *attempts, "maintenance step failed");
                if *attempts >= ATTEMPTS {
                    let _ = state
                        .store
                        .fail_step(&step, crate::now_ms(), &e.to_string())
                        .await;
                    failures.remove(&key);
                    let _ = state
                        .publish(Signal::Admin {
                            event: AdminEvent::StepFailed {
                                window_id: step.window_id,
                                step: step.kind,
                                message: format!(
                                    "The {} step failed: {e}. Check the curfewd log.",
                                    step.kind.as_str()
                                ),
                            },
                        })
                        .await;
                }
            }
        }
    }
    Ok(())
}

async fn run_one(state: &AppState, step: &DueStep) -> anyhow::Result<()> {
    let now = crate::now_ms();
    let Some(claimed) = state.store.run_step(step, now).await? else {
        return Ok(());
    };
    let late_ms = now - step.due_at;
    tracing::info!(window = %step.window_id, step = step.kind.as_str(), offset = step.offset_seconds, late_ms, outcome = ?claimed.outcome, "maintenance step");
    let event = match claimed.outcome {
        StepOutcome::Warned => {
            let notice = warning_notice(
                step.window_id,
                &claimed.message,
                claimed.starts_at,
                claimed.ends_at,
                crate::now_ms(),
            );
            let reached = state
                .publish(Signal::Notice { notice })
                .await
                .map_err(|e| anyhow::anyhow!("telling streams of the warning: {e:?}"))?
                as i64;
            state
                .store
                .record_step_reach(step, reached, late_ms)
                .await?;
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
            state
                .publish(Signal::MassRevocation {
                    revocation,
                    reason: RevocationReason::Maintenance,
                    at: now,
                })
                .await
                .map_err(|e| anyhow::anyhow!("telling streams of the logout: {e:?}"))?;
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
        let _ = state.publish(Signal::Admin { event }).await;
    }
    Ok(())
}
