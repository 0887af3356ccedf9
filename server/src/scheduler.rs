//! Runs maintenance windows: the loop that wakes when a step is due and hands it to the
//! core ([`crate::core::steps`]), which claims it in the database and carries it out once.
//! The schedule lives in the database, so a restarted curfewd (or another instance)
//! picks up where this one stopped.
//!
//! Invariant: a step that fails [`ATTEMPTS`] times in a row (each attempt rolled back, so
//! it changed nothing) is marked failed and the schedule moves on.

use std::collections::HashMap;
use std::time::Duration;

use curfew::api::StepKind;

use crate::core::AppState;

/// The longest the scheduler sleeps: windows created by other instances are found within it.
const MAX_SLEEP: Duration = Duration::from_millis(500);
/// A step that fails this many times in a row is marked failed, so the schedule moves on.
const ATTEMPTS: u32 = 5;

type StepKey = (uuid::Uuid, StepKind, i64);

pub async fn run(state: AppState) {
    let mut failures: HashMap<StepKey, u32> = HashMap::new();
    loop {
        if let Err(e) = tick(&state, &mut failures).await {
            tracing::warn!(error = ?e, "maintenance scheduler could not read its steps");
        }
        let now = crate::now_ms();
        let sleep = match state.next_step_due().await {
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
    failures: &mut HashMap<StepKey, u32>,
) -> Result<(), crate::core::AppError> {
    for step in state.due_steps().await? {
        let key = (step.window_id, step.kind, step.offset_seconds);
        match state.run_step(&step).await {
            Ok(()) => {
                failures.remove(&key);
            }
            Err(e) => {
                let attempts = failures.entry(key).or_default();
                *attempts += 1;
                tracing::error!(error = ?e, window = %step.window_id, step = step.kind.as_str(), attempts = *attempts, "maintenance step failed");
                if *attempts >= ATTEMPTS {
                    failures.remove(&key);
                    state.fail_step(&step, &failure_text(&e)).await;
                }
            }
        }
    }
    Ok(())
}

/// The cause of a failed step, for the step's detail and the administrators.
fn failure_text(e: &crate::core::AppError) -> String {
    match e {
        crate::core::AppError::Internal(cause) => cause.to_string(),
        crate::core::AppError::Client { message, .. } => message.clone(),
    }
}
