//! What administrators see of sign-in throttling, and how they mend it: the accounts with
//! failed sign-ins in the last minute, and clearing one so its owner can try again at
//! once (audited). The per-account limit is kept on purpose (see [`super::ratelimit`]);
//! this is the way out of it when someone uses it to keep a colleague out.

use curfew::api::{AuditAction, ClearThrottle, SignInThrottles, ThrottledAccount};

use super::{AppError, AppResult, AppState};
use crate::store::{from_millis, Actor, AuditRecord};

/// The most accounts listed: the ones with the most attempts.
const LISTED: usize = 100;

impl AppState {
    /// Accounts with failed sign-ins in the last minute, on this instance.
    pub async fn sign_in_throttles(&self) -> AppResult<SignInThrottles> {
        let now = crate::now_ms();
        let mut accounts = Vec::new();
        for throttle in self.limiter.throttled().into_iter().take(LISTED) {
            let user = self.store.user_by_username(&throttle.account).await?;
            accounts.push(ThrottledAccount {
                user_id: user.map(|u| u.id),
                failures: throttle.failures,
                refused: throttle.refused,
                addresses: throttle.addresses,
                throttled_for_seconds: throttle.throttled_for,
                last_attempt_at: from_millis(now - throttle.last_attempt_ago.as_millis() as i64),
                username: throttle.account,
            });
        }
        Ok(SignInThrottles {
            accounts,
            failures_allowed: self.config.login_per_minute_per_account.get(),
        })
    }

    /// Forgets an account's failed sign-ins, so it may try again at once.
    pub async fn clear_sign_in_throttle(
        &self,
        actor: &Actor,
        request: &ClearThrottle,
    ) -> AppResult<()> {
        let username = request.username.trim().to_lowercase();
        if username.is_empty() || username.chars().any(char::is_control) {
            return Err(AppError::bad_request(
                "invalid_username",
                "Give the username whose sign-ins to let through, as the throttle list shows it.",
            ));
        }
        if !self.limiter.clear(&username) {
            return Err(AppError::not_found(
                "not_throttled",
                format!(
                    "No failed sign-ins of {username:?} are recorded in the last minute, so there is \
                     nothing to clear. Refresh the list."
                ),
            ));
        }
        let target = match self.store.user_by_username(&username).await? {
            Some(user) => self.store.admin_user(user.id, crate::now_ms()).await?,
            None => None,
        };
        let record = AuditRecord {
            target: target.as_ref(),
            target_name: Some(username.clone()),
            ..AuditRecord::new(crate::now_ms(), actor, AuditAction::ClearThrottle)
        };
        self.store.record(&record).await?;
        self.audited(AuditAction::ClearThrottle).await;
        tracing::info!(actor = %actor.username, username = ?username, "cleared a sign-in throttle");
        Ok(())
    }
}
