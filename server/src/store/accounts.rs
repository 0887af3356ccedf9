//! Accounts changed by administrators: created, edited, given a new password, deleted.
//!
//! Invariants: each change commits with its audit entry; a change that would leave no
//! active administrator is rolled back inside the same transaction (serialised across
//! instances on PostgreSQL by an advisory lock), so two administrators demoting each other
//! at once cannot both succeed; deleting an account ends its sessions first, and the
//! audit keeps the username, while the row goes (so the name can be given again; ids are
//! random and never come back).

use curfew::api::{AdminUser, AuditAction, Role};
use sqlx::Row;
use uuid::Uuid;

use super::audit::{insert_audit, Actor, AuditRecord};
use super::db::{Backend, Store, Tx};
use super::users::{fold, insert_user_in, NewUser, StoreError};

/// The PostgreSQL advisory lock that serialises changes to administrators.
const ADMINS_LOCK: i64 = 0x6375_7266_6577_0002;

/// What to change; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub role: Option<Role>,
}

/// How an account change ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountOutcome<T> {
    Done(T),
    /// It would have left no active administrator; nothing changed.
    LastAdmin,
}

/// Takes the administrators' lock (PostgreSQL; SQLite serialises writers already).
pub(super) async fn lock_admins(store: &Store, tx: &mut Tx) -> sqlx::Result<()> {
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT COUNT(*) AS n FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
            .bind(ADMINS_LOCK)
            .fetch_one(&mut **tx)
            .await?;
    }
    Ok(())
}

pub(super) async fn active_admins(tx: &mut Tx) -> sqlx::Result<i64> {
    sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND status = 'active'")
        .fetch_one(&mut **tx)
        .await?
        .try_get("n")
}

impl Store {
    /// Creates an account and audits it.
    pub async fn create_user(
        &self,
        actor: &Actor,
        user: &NewUser,
        now: i64,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        match insert_user_in(&mut tx, id, user, now, None).await {
            Ok(()) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::UsernameTaken(user.username.clone()))
            }
            Err(e) => return Err(e.into()),
        }
        insert_audit(
            &mut tx,
            &AuditRecord {
                target_name: Some(user.username.clone()),
                ..AuditRecord::new(now, actor, AuditAction::CreateUser)
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes an account; `what` is recorded with the audit entry ("role member → admin").
    pub async fn update_user(
        &self,
        actor: &Actor,
        target: &AdminUser,
        change: &UserChange,
        what: &str,
        now: i64,
    ) -> sqlx::Result<AccountOutcome<()>> {
        let mut tx = self.pool.begin().await?;
        lock_admins(self, &mut tx).await?;
        if let Some(name) = &change.display_name {
            sqlx::query(
                "UPDATE users SET display_name = $1, sort_key = $2, search_key = $3 WHERE id = $4",
            )
            .bind(name)
            .bind(fold(name))
            .bind(fold(&format!("{} {}", target.username, name)))
            .bind(target.id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        if let Some(email) = &change.email {
            sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
                .bind(email.clone())
                .bind(target.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(role) = change.role {
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                .bind(role.as_str())
                .bind(target.id.to_string())
                .execute(&mut *tx)
                .await?;
            if active_admins(&mut tx).await? == 0 {
                tx.rollback().await?;
                return Ok(AccountOutcome::LastAdmin);
            }
        }
        insert_audit(
            &mut tx,
            &AuditRecord {
                reason_text: Some(what.to_owned()),
                ..AuditRecord::new(now, actor, AuditAction::UpdateUser).target(target)
            },
        )
        .await?;
        tx.commit().await?;
        Ok(AccountOutcome::Done(()))
    }

    /// Sets a new password hash; with `end_sessions`, also ends the user's sessions but
    /// the one given (the caller's own, when changing one's own password). Returns how
    /// many sessions ended.
    pub async fn set_password(
        &self,
        actor: &Actor,
        target: &AdminUser,
        password_hash: &str,
        end_sessions: Option<Option<Uuid>>,
        action: AuditAction,
        now: i64,
    ) -> sqlx::Result<i64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(target.id.to_string())
            .execute(&mut *tx)
            .await?;
        let revoked = match end_sessions {
            None => 0,
            Some(except) => sqlx::query(
                "UPDATE sessions SET revoked_at = $1, revoked_reason = 'password_changed' \
                 WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1 AND id <> $3",
            )
            .bind(now)
            .bind(target.id.to_string())
            .bind(except.map(|s| s.to_string()).unwrap_or_default())
            .execute(&mut *tx)
            .await?
            .rows_affected() as i64,
        };
        insert_audit(
            &mut tx,
            &AuditRecord::new(now, actor, action)
                .target(target)
                .ended(revoked, i64::from(revoked > 0)),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Deletes an account: its live sessions end (returned, to tell their streams), its
    /// session rows and its row go, the audit entry keeps its name.
    pub async fn delete_user(
        &self,
        actor: &Actor,
        target: &AdminUser,
        now: i64,
    ) -> sqlx::Result<AccountOutcome<Vec<Uuid>>> {
        let mut tx = self.pool.begin().await?;
        lock_admins(self, &mut tx).await?;
        let live: Vec<Uuid> = sqlx::query(
            "SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(target.id.to_string())
        .bind(now)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| super::db::uuid_col(row, "id"))
        .collect::<sqlx::Result<_>>()?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(target.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(target.id.to_string())
            .execute(&mut *tx)
            .await?;
        if active_admins(&mut tx).await? == 0 {
            tx.rollback().await?;
            return Ok(AccountOutcome::LastAdmin);
        }
        let sessions = live.len() as i64;
        insert_audit(
            &mut tx,
            &AuditRecord::new(now, actor, AuditAction::DeleteUser)
                .target(target)
                .ended(sessions, i64::from(sessions > 0)),
        )
        .await?;
        tx.commit().await?;
        Ok(AccountOutcome::Done(live))
    }
}
