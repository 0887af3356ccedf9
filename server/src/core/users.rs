//! Forced logouts and account status: what an administrator does to users' sessions.
//!
//! Rules kept here: the caller's own session always survives (logout of a user, logout of
//! everyone); `keep_admins` also spares the other administrators; nobody deactivates
//! their own account; every change commits with its audit entry (in the store) and only
//! then are the affected streams told.

use std::time::{Duration, Instant};

use curfew::api::{AdminUser, LogoutResult, RevocationReason, UserStatus, UserStatusChange};
use uuid::Uuid;

use super::signal::Signal;
use super::{AppError, AppResult, AppState};
use crate::store::Actor;

/// What a forced logout did, and how long the database took to do it.
pub struct Timed<T> {
    pub result: T,
    pub database: Duration,
}

impl AppState {
    /// A user by id with their live sessions, or `user_not_found`.
    pub async fn target_user(&self, id: Uuid) -> AppResult<AdminUser> {
        self.store
            .admin_user(id, crate::now_ms())
            .await?
            .ok_or_else(|| {
                AppError::not_found(
                    "user_not_found",
                    format!("No user has the id {id}. Refresh the users list and try again."),
                )
            })
    }

    /// Revokes every session of one user except the actor's own.
    pub async fn logout_user(&self, actor: &Actor, id: Uuid) -> AppResult<Timed<LogoutResult>> {
        let target = self.target_user(id).await?;
        let started = Instant::now();
        let revoked = self
            .store
            .logout_user(actor, &target, crate::now_ms())
            .await?;
        let database = started.elapsed();
        self.publish(Signal::SessionsEnded { user: Some(id) })
            .await?;
        tracing::info!(actor = %actor.username, target = %target.username, sessions = revoked, "logged out user");
        Ok(Timed {
            result: LogoutResult {
                sessions_revoked: revoked,
                users_affected: i64::from(revoked > 0),
            },
            database,
        })
    }

    /// Revokes every session but the actor's own in one statement (and the other
    /// administrators' with `keep_admins`). Idempotent.
    pub async fn logout_all(
        &self,
        actor: &Actor,
        keep_admins: bool,
    ) -> AppResult<Timed<LogoutResult>> {
        let started = Instant::now();
        let now = crate::now_ms();
        let revocation = self.store.logout_all(actor, keep_admins, now).await?;
        let database = started.elapsed();
        self.publish(Signal::MassRevocation {
            revocation,
            reason: RevocationReason::LogoutAll,
            at: now,
        })
        .await?;
        let (sessions, users) = (revocation.sessions, revocation.users);
        tracing::info!(actor = %actor.username, sessions, users, keep_admins, "logged out everyone");
        Ok(Timed {
            result: LogoutResult {
                sessions_revoked: sessions,
                users_affected: users,
            },
            database,
        })
    }

    /// Activates or deactivates an account; deactivation revokes its sessions in the same
    /// transaction.
    pub async fn set_user_status(
        &self,
        actor: &Actor,
        id: Uuid,
        status: UserStatus,
    ) -> AppResult<UserStatusChange> {
        if id == actor.user_id && status == UserStatus::Deactivated {
            return Err(AppError::conflict(
                "cannot_deactivate_self",
                "You cannot deactivate your own account; ask another administrator.",
            ));
        }
        let target = self.target_user(id).await?;
        let revoked = self
            .store
            .set_user_status(actor, &target, status, crate::now_ms())
            .await?;
        self.publish(Signal::SessionsEnded { user: Some(id) })
            .await?;
        tracing::info!(actor = %actor.username, target = %target.username, status = status.as_str(), sessions = revoked, "changed user status");
        Ok(UserStatusChange {
            user: self.target_user(id).await?,
            sessions_revoked: revoked,
        })
    }
}
