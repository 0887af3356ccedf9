//! Bulk actions: Logout selected and Deactivate selected, on explicit ids or on every user
//! matching a search and filter (as the list shows them, loaded or not).
//!
//! Rules kept here: a selection is exactly one of the two, and at most
//! `limits::BULK_IDS_MAX` ids; the caller's own session always survives and the caller's
//! own account is never deactivated (the store spares both); a deactivation that would
//! leave no active administrator changes nothing (`last_admin`); each action is one
//! server call, one transaction with one audit entry, and only after it commits are the
//! streams of the sessions it ended told, at once, on every instance.

use curfew::api::{AuditAction, BulkResult, RevocationReason, UserSelection};

use super::accounts::last_admin;
use super::signal::Signal;
use super::{validate, AppError, AppResult, AppState};
use crate::store::{Actor, BulkDeactivation, BulkOutcome, UserMatching};

/// The users a selection names, checked.
fn matching(selection: &UserSelection) -> AppResult<UserMatching> {
    match (&selection.ids, &selection.matching) {
        (Some(ids), None) => {
            let max = curfew::limits::BULK_IDS_MAX;
            if ids.is_empty() || ids.len() > max {
                return Err(AppError::bad_request(
                    "invalid_selection",
                    format!(
                        "A selection names 1 to {max} users by id (this one names {}). For more, \
                         select all the users matching a search instead.",
                        ids.len()
                    ),
                ));
            }
            Ok(UserMatching {
                ids: Some(ids.clone()),
                ..UserMatching::default()
            })
        }
        (None, Some(m)) => Ok(UserMatching {
            search: validate::search(m.q.as_deref())?,
            status: m.status,
            role: m.role,
            ids: None,
        }),
        _ => Err(AppError::bad_request(
            "invalid_selection",
            "Give either the users' ids or a search to match (`ids` or `matching`), not both \
             and not neither.",
        )),
    }
}

fn result(outcome: &BulkOutcome, dry_run: bool) -> BulkResult {
    BulkResult {
        selected: outcome.selected,
        users_affected: outcome.users,
        sessions_revoked: outcome.sessions,
        own_account_spared: outcome.own_account,
        dry_run,
    }
}

impl AppState {
    /// Ends every live session of the selected users but the caller's own; `dry_run`
    /// counts what it would end and changes nothing.
    pub async fn logout_selected(
        &self,
        actor: &Actor,
        selection: &UserSelection,
        dry_run: bool,
    ) -> AppResult<BulkResult> {
        let matching = matching(selection)?;
        let now = crate::now_ms();
        let outcome = self
            .store
            .bulk_logout(actor, &matching, dry_run, now)
            .await?;
        if !dry_run {
            self.after_bulk(actor, AuditAction::LogoutSelected, &outcome, now)
                .await?;
        }
        Ok(result(&outcome, dry_run))
    }

    /// Deactivates the selected active users but the caller, and ends their sessions;
    /// `dry_run` counts what it would do and changes nothing.
    pub async fn deactivate_selected(
        &self,
        actor: &Actor,
        selection: &UserSelection,
        dry_run: bool,
    ) -> AppResult<BulkResult> {
        let matching = matching(selection)?;
        let now = crate::now_ms();
        let outcome = match self
            .store
            .bulk_deactivate(actor, &matching, dry_run, now)
            .await?
        {
            BulkDeactivation::Done(outcome) => outcome,
            BulkDeactivation::LastAdmin => return Err(last_admin()),
        };
        if !dry_run {
            self.after_bulk(actor, AuditAction::DeactivateSelected, &outcome, now)
                .await?;
        }
        Ok(result(&outcome, dry_run))
    }

    /// Tells the streams of the ended sessions, then the administrators' lists.
    async fn after_bulk(
        &self,
        actor: &Actor,
        action: AuditAction,
        outcome: &BulkOutcome,
        now: i64,
    ) -> AppResult<()> {
        if let Some(revocation) = outcome.revocation {
            let reason = match action {
                AuditAction::DeactivateSelected => RevocationReason::Deactivated,
                _ => RevocationReason::AdminLogout,
            };
            self.publish(Signal::MassRevocation {
                revocation,
                reason,
                at: now,
            })
            .await?;
        }
        tracing::info!(actor = %actor.username, action = action.as_str(), users = outcome.users,
            sessions = outcome.sessions, "bulk action");
        self.users_changed(actor, action, None, outcome.users, outcome.sessions)
            .await;
        Ok(())
    }
}
