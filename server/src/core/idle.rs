//! "Sign out sessions idle for more than N days": one statement over every live session
//! not used for that long.
//!
//! Rules kept here: N is 1 to `limits::IDLE_DAYS_MAX`; the caller's own session always
//! survives; the dry run counts with the same conditions at the same kind of moment, so
//! the confirmation names what the action will end; the change commits with its audit
//! entry (N and the count) and only then are the ended sessions' streams told.

use curfew::api::{AuditAction, IdleLogoutRequest, IdleLogoutResult, RevocationReason};

use super::signal::Signal;
use super::{AppError, AppResult, AppState};
use crate::store::Actor;

const DAY_MS: i64 = 86_400_000;

impl AppState {
    /// Ends (or, on a dry run, counts) the live sessions idle for more than `days` days.
    pub async fn logout_idle(
        &self,
        actor: &Actor,
        request: &IdleLogoutRequest,
    ) -> AppResult<IdleLogoutResult> {
        let max = curfew::limits::IDLE_DAYS_MAX;
        if !(1..=max).contains(&request.days) {
            return Err(AppError::bad_request(
                "invalid_days",
                format!(
                    "Sessions idle for {} days: give a number of days from 1 to {max}.",
                    request.days
                ),
            ));
        }
        let now = crate::now_ms();
        let idle_since = now - i64::from(request.days) * DAY_MS;
        let outcome = self
            .store
            .logout_idle(actor, request.days, idle_since, request.dry_run, now)
            .await?;
        if let Some(revocation) = outcome.revocation {
            self.publish(Signal::MassRevocation {
                revocation,
                reason: RevocationReason::AdminLogout,
                at: now,
            })
            .await?;
        }
        if !request.dry_run {
            tracing::info!(actor = %actor.username, days = request.days, sessions = outcome.sessions,
                "signed out idle sessions");
            self.users_changed(
                actor,
                AuditAction::LogoutIdle,
                None,
                outcome.users,
                outcome.sessions,
            )
            .await;
        }
        Ok(IdleLogoutResult {
            days: request.days,
            sessions_revoked: outcome.sessions,
            users_affected: outcome.users,
            dry_run: request.dry_run,
        })
    }
}
