//! Forced logouts and account status: what an administrator does to users' sessions.
//!
//! Rules kept here: the caller's own session always survives (logout of a user, logout of
//! everyone); `keep_admins` also spares the other administrators; nobody deactivates
//! their own account; every change commits with its audit entry (in the store) and only
//! then are the affected streams told.

use std::time::{Duration, Instant};

use curfew::api::{
    AdminEvent, AdminSession, AdminUser, AuditAction, LogoutResult, RevocationReason, UserSessions,
    UserStatus, UserStatusChange,
};
use uuid::Uuid;

use super::signal::Signal;
use super::{devices, AppError, AppResult, AppState};
use crate::store::{from_millis, Actor};

/// What a forced logout did, and how long the database took to do it.
pub struct Timed<T> {
    pub result: T,
    pub database: Duration,
}

impl AppState {
    /// Tells every administrator's event stream (every instance) that users changed, so
    /// lists and counts follow at once.
    pub(crate) async fn users_changed(
        &self,
        actor: &Actor,
        action: AuditAction,
        user_id: Option<Uuid>,
        users_affected: i64,
        sessions_revoked: i64,
    ) {
        let event = AdminEvent::UsersChanged {
            action,
            actor_username: actor.username.clone(),
            user_id,
            users_affected,
            sessions_revoked,
        };
        if let Err(e) = self.publish(Signal::Admin { event }).await {
            tracing::warn!(error = ?e, "could not tell administrators that users changed");
        }
    }

    /// A user by id with their live sessions, or `user_not_found`.
    pub async fn target_user(&self, id: Uuid) -> AppResult<AdminUser> {
        let mut user = self
            .store
            .admin_user(id, crate::now_ms())
            .await?
            .ok_or_else(|| {
                AppError::not_found(
                    "user_not_found",
                    format!("No user has the id {id}. Refresh the users list and try again."),
                )
            })?;
        self.with_providers(std::slice::from_mut(&mut user)).await?;
        Ok(user)
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
        self.users_changed(
            actor,
            AuditAction::LogoutUser,
            Some(id),
            i64::from(revoked > 0),
            revoked,
        )
        .await;
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
        self.users_changed(actor, AuditAction::LogoutAll, None, users, sessions)
            .await;
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
        let action = match status {
            UserStatus::Deactivated => AuditAction::Deactivate,
            UserStatus::Active => AuditAction::Activate,
        };
        self.users_changed(actor, action, Some(id), 1, revoked)
            .await;
        Ok(UserStatusChange {
            user: self.target_user(id).await?,
            sessions_revoked: revoked,
        })
    }

    /// A user's live sessions, their devices in words; `current` marks the caller's.
    pub async fn user_sessions(
        &self,
        user_id: Uuid,
        caller_session: Uuid,
    ) -> AppResult<UserSessions> {
        self.target_user(user_id).await?;
        let rows = self
            .store
            .live_sessions_of(user_id, crate::now_ms())
            .await?;
        Ok(UserSessions {
            user_id,
            sessions: rows
                .into_iter()
                .map(|row| AdminSession {
                    id: row.id,
                    client: row.client,
                    device: devices::describe(
                        row.device_name.as_deref(),
                        row.user_agent.as_deref(),
                        row.client,
                    ),
                    device_name: row.device_name,
                    address: row.address,
                    last_address: row.last_address,
                    created_at: from_millis(row.created_at),
                    last_seen_at: from_millis(row.last_seen_at),
                    expires_at: from_millis(row.expires_at),
                    current: row.id == caller_session,
                })
                .collect(),
        })
    }

    /// Ends one session (the lost phone) and tells its streams; the owner's other
    /// sessions stay. The caller's own session is ended by signing out, not here.
    pub async fn end_session(&self, actor: &Actor, session_id: Uuid) -> AppResult<LogoutResult> {
        if session_id == actor.session_id {
            return Err(AppError::conflict(
                "own_session",
                "This is the session you are using. Sign out instead to end it.",
            ));
        }
        let not_found = || {
            AppError::not_found(
                "session_not_found",
                format!("No live session has the id {session_id}. Refresh the user's sessions."),
            )
        };
        let owner = self
            .store
            .session_owner(session_id)
            .await?
            .ok_or_else(not_found)?;
        let target = self.target_user(owner).await?;
        let now = crate::now_ms();
        if !self
            .store
            .end_session(actor, &target, session_id, now)
            .await?
        {
            return Err(not_found());
        }
        self.publish(Signal::SessionEnded {
            session: session_id,
            reason: RevocationReason::AdminLogout,
            at: now,
        })
        .await?;
        tracing::info!(actor = %actor.username, target = %target.username, session = %session_id, "ended one session");
        self.users_changed(actor, AuditAction::EndSession, Some(owner), 1, 1)
            .await;
        Ok(LogoutResult {
            sessions_revoked: 1,
            users_affected: 1,
        })
    }
}
