//! A CSV import's statements: every account the file names, read at once, and the whole
//! import written in one transaction.
//!
//! Invariants: an import commits entirely or not at all (any failure rolls every row
//! back); each created or changed account has its audit entry in that transaction, and the
//! import one more with the counts; deactivating an account revokes its sessions in the same
//! transaction; an import that would leave no active administrator is rolled back.

use curfew::api::{AdminUser, AuditAction, Role, UserStatus};
use sqlx::Row;
use uuid::Uuid;

use super::accounts::{active_admins, lock_admins};
use super::audit::{insert_audit, insert_audits, Actor, AuditRecord};
use super::db::{enum_col, from_millis, uuid_col, Backend, Store};
use super::sessions::revoke_sessions_of_deactivated;
use super::users::{fold, insert_users_in, NewUser};

/// An account as an import compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub status: UserStatus,
}

/// What an import changes in one existing account; `None` fields stay.
#[derive(Debug, Clone)]
pub struct ImportUpdate {
    pub user: ExistingUser,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// The change in words, for the audit.
    pub what: String,
}

/// How an import's transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Committed: sessions revoked, and the users whose sessions ended.
    Done {
        sessions_revoked: i64,
        ended: Vec<Uuid>,
    },
    /// It would have left no active administrator; nothing changed.
    LastAdmin,
    /// Someone took one of the new usernames meanwhile; nothing changed.
    UsernameTaken,
}

/// Enough of an account for its audit entry.
fn audit_target(id: Uuid, username: &str) -> AdminUser {
    AdminUser {
        id,
        username: username.to_owned(),
        display_name: String::new(),
        role: Role::Member,
        status: UserStatus::Active,
        app_sessions: 0,
        web_sessions: 0,
        last_seen_at: None,
        created_at: from_millis(0),
        email: None,
        has_password: false,
        providers: Vec::new(),
    }
}

impl Store {
    /// Rows per `INSERT` of an import. PostgreSQL answers each statement over the network,
    /// so fewer, larger statements win (10,000 accounts: 1.8 s one by one, 0.35 s 500 at a
    /// time); SQLite runs in-process, where one row per statement was faster (0.4 s against
    /// 2.9 s; `cargo xtask bench --only import`).
    fn rows_per_statement(&self) -> usize {
        match self.backend() {
            Backend::Postgres => 500,
            Backend::Sqlite => 1,
        }
    }

    /// Every account, as an import compares it.
    pub async fn users_for_import(&self) -> sqlx::Result<Vec<ExistingUser>> {
        sqlx::query("SELECT id, username, display_name, email, role, status FROM users")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ExistingUser {
                    id: uuid_col(row, "id")?,
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                    email: row.try_get("email")?,
                    role: enum_col(row, "role", Role::parse)?,
                    status: enum_col(row, "status", UserStatus::parse)?,
                })
            })
            .collect()
    }

    /// Creates and changes the accounts of one import, in one transaction.
    pub async fn apply_import(
        &self,
        actor: &Actor,
        creates: &[NewUser],
        updates: &[ImportUpdate],
        summary: &str,
        now: i64,
    ) -> sqlx::Result<ImportOutcome> {
        let mut tx = self.pool.begin().await?;
        lock_admins(self, &mut tx).await?;
        let rows = self.rows_per_statement();
        let reason = |what: &str| Some(format!("CSV import: {what}"));
        let created: Vec<(Uuid, &NewUser)> = creates.iter().map(|u| (Uuid::new_v4(), u)).collect();
        match insert_users_in(&mut tx, &created, now, rows).await {
            Ok(()) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                tx.rollback().await?;
                return Ok(ImportOutcome::UsernameTaken);
            }
            Err(e) => return Err(e),
        }
        let (mut revoked_total, mut ended) = (0, Vec::new());
        let mut revoked_of = Vec::with_capacity(updates.len());
        for update in updates {
            let user = &update.user;
            let id = user.id.to_string();
            let name = update.display_name.as_ref().unwrap_or(&user.display_name);
            sqlx::query(
                "UPDATE users SET display_name = $1, sort_key = $2, search_key = $3, \
                 email = $4, role = $5, status = $6 WHERE id = $7",
            )
            .bind(name)
            .bind(fold(name))
            .bind(fold(&format!("{} {}", user.username, name)))
            .bind(update.email.clone().or_else(|| user.email.clone()))
            .bind(update.role.unwrap_or(user.role).as_str())
            .bind(update.status.unwrap_or(user.status).as_str())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            let mut revoked = 0;
            if update.status == Some(UserStatus::Deactivated) {
                revoked = revoke_sessions_of_deactivated(&mut tx, &id, now).await?;
                if revoked > 0 {
                    ended.push(user.id);
                }
                revoked_total += revoked;
            }
            revoked_of.push(revoked);
        }
        // Every entry in a few statements, in file order: creations, then changes.
        let created_targets: Vec<AdminUser> = created
            .iter()
            .map(|(id, user)| audit_target(*id, &user.username))
            .collect();
        let changed_targets: Vec<AdminUser> = updates
            .iter()
            .map(|u| audit_target(u.user.id, &u.user.username))
            .collect();
        let mut entries = Vec::with_capacity(created.len() + updates.len());
        for (target, (_, user)) in created_targets.iter().zip(&created) {
            entries.push(AuditRecord {
                reason_text: reason(user.role.as_str()),
                ..AuditRecord::new(now, actor, AuditAction::CreateUser).target(target)
            });
            if user.status == UserStatus::Deactivated {
                entries.push(AuditRecord {
                    reason_text: reason("inactive"),
                    ..AuditRecord::new(now, actor, AuditAction::Deactivate).target(target)
                });
            }
        }
        for ((target, update), revoked) in changed_targets.iter().zip(updates).zip(&revoked_of) {
            let action = match update.status {
                Some(UserStatus::Deactivated) => AuditAction::Deactivate,
                Some(UserStatus::Active) => AuditAction::Activate,
                None => AuditAction::UpdateUser,
            };
            entries.push(AuditRecord {
                reason_text: reason(&update.what),
                ..AuditRecord::new(now, actor, action)
                    .target(target)
                    .ended(*revoked, i64::from(*revoked > 0))
            });
        }
        insert_audits(&mut tx, &entries, rows).await?;
        if active_admins(&mut tx).await? == 0 {
            tx.rollback().await?;
            return Ok(ImportOutcome::LastAdmin);
        }
        insert_audit(
            &mut tx,
            &AuditRecord {
                reason_text: Some(summary.to_owned()),
                ..AuditRecord::new(now, actor, AuditAction::ImportUsers)
                    .ended(revoked_total, (creates.len() + updates.len()) as i64)
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ImportOutcome::Done {
            sessions_revoked: revoked_total,
            ended,
        })
    }
}
