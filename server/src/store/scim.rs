//! What SCIM provisioning reads and writes: users with their `externalId`, found by the
//! filters identity providers send, and whole-user changes applied in one transaction.
//!
//! Invariant: one provisioning request is one transaction with its audit entries: a
//! rename to a taken username, an `externalId` another user has, or a change that would
//! leave no active administrator rolls everything back; a deactivation ends the user's
//! sessions in the same transaction.

use curfew::api::{AdminUser, AuditAction, Role, UserStatus};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::accounts::{active_admins, lock_admins};
use super::audit::{insert_audit, Actor, AuditRecord};
use super::db::{enum_col, from_millis, uuid_col, Store};
use super::sessions::revoke_sessions_of_deactivated;
use super::users::{fold, insert_user_in, NewUser};

/// A user as SCIM shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUserRow {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub status: UserStatus,
    pub external_id: Option<String>,
    pub created_at: i64,
    /// The last audited change to the account (not sign-ins), or its creation.
    pub modified_at: i64,
}

/// The conjunction of equalities a SCIM filter may ask for; `None` fields match all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimQuery {
    pub id: Option<Uuid>,
    /// Compared case-insensitively (SCIM's `userName` is not case-exact).
    pub username: Option<String>,
    pub external_id: Option<String>,
    /// Compared case-insensitively.
    pub email: Option<String>,
    pub active: Option<bool>,
    /// Two different values for one attribute: nothing matches.
    pub nothing: bool,
}

/// A whole change to one user; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct ScimChange {
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub role: Option<Role>,
    pub external_id: Option<Option<String>>,
    pub status: Option<UserStatus>,
    /// "role member → admin, email": recorded with the audit entry.
    pub what: String,
    /// Why a deactivation happened ("deprovisioned by Okta").
    pub reason: String,
}

/// Why a provisioning write was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum ScimStoreError {
    #[error("the username is taken")]
    UsernameTaken,
    #[error("the externalId belongs to another user")]
    ExternalIdTaken,
    #[error("no active administrator would be left")]
    LastAdmin,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Which unique index a violation hit, by the statement that caused it.
fn unique(e: sqlx::Error, taken: ScimStoreError) -> ScimStoreError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => taken,
        other => ScimStoreError::Database(other),
    }
}

const COLUMNS: &str = "u.id, u.username, u.display_name, u.email, u.role, u.status, \
    u.external_id, u.created_at, COALESCE((SELECT MAX(a.at) FROM audit a \
    WHERE a.target_user_id = u.id AND a.action NOT IN ('sign_in', 'sign_in_failed', 'clear_throttle')), \
    u.created_at) AS modified_at";

fn row_to_user(row: &AnyRow) -> sqlx::Result<ScimUserRow> {
    Ok(ScimUserRow {
        id: uuid_col(row, "id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        role: enum_col(row, "role", Role::parse)?,
        status: enum_col(row, "status", UserStatus::parse)?,
        external_id: row.try_get("external_id")?,
        created_at: row.try_get("created_at")?,
        modified_at: row.try_get("modified_at")?,
    })
}

impl Store {
    /// The users matching `query` from `offset` (0-based), at most `limit`, in username
    /// order, and how many match in all.
    pub async fn scim_users(
        &self,
        query: &ScimQuery,
        offset: i64,
        limit: i64,
    ) -> sqlx::Result<(i64, Vec<ScimUserRow>)> {
        if query.nothing {
            return Ok((0, Vec::new()));
        }
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let mut bind = |sql: &str, value: String| {
            binds.push(value);
            conditions.push(sql.replace('?', &format!("${}", binds.len())));
        };
        if let Some(id) = query.id {
            bind("u.id = ?", id.to_string());
        }
        if let Some(username) = &query.username {
            // Usernames are stored folded.
            bind("u.username = ?", fold(username));
        }
        if let Some(external_id) = &query.external_id {
            bind("u.external_id = ?", external_id.clone());
        }
        if let Some(email) = &query.email {
            bind("LOWER(u.email) = ?", fold(email));
        }
        if let Some(active) = query.active {
            let status = if active { "active" } else { "deactivated" };
            bind("u.status = ?", status.to_owned());
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let count_sql = format!("SELECT COUNT(*) AS n FROM users u{filter}");
        let mut count = sqlx::query(&count_sql);
        for value in &binds {
            count = count.bind(value.clone());
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get("n")?;
        let page_sql = format!(
            "SELECT {COLUMNS} FROM users u{filter} ORDER BY u.username LIMIT {limit} OFFSET {offset}"
        );
        let mut page = sqlx::query(&page_sql);
        for value in &binds {
            page = page.bind(value.clone());
        }
        let rows = page.fetch_all(&self.pool).await?;
        Ok((
            total,
            rows.iter().map(row_to_user).collect::<sqlx::Result<_>>()?,
        ))
    }

    pub async fn scim_user(&self, id: Uuid) -> sqlx::Result<Option<ScimUserRow>> {
        let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.id = $1");
        sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(row_to_user)
            .transpose()
    }

    /// Creates a provisioned user with its `externalId`, audited.
    pub async fn scim_create(
        &self,
        actor: &Actor,
        user: &NewUser,
        external_id: Option<&str>,
        now: i64,
    ) -> Result<Uuid, ScimStoreError> {
        let id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        insert_user_in(&mut tx, id, user, now, None)
            .await
            .map_err(|e| unique(e, ScimStoreError::UsernameTaken))?;
        sqlx::query("UPDATE users SET external_id = $1 WHERE id = $2")
            .bind(external_id.map(str::to_owned))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| unique(e, ScimStoreError::ExternalIdTaken))?;
        let created = AdminUser {
            id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.role,
            status: user.status,
            app_sessions: 0,
            web_sessions: 0,
            last_seen_at: None,
            created_at: from_millis(now),
            email: user.email.clone(),
            has_password: false,
            providers: Vec::new(),
        };
        insert_audit(
            &mut tx,
            &AuditRecord {
                reason_text: Some("provisioned".into()),
                ..AuditRecord::new(now, actor, AuditAction::CreateUser).target(&created)
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Applies `change` to `target` in one transaction with its audit entries; returns
    /// how many sessions a deactivation ended.
    pub async fn scim_update(
        &self,
        actor: &Actor,
        target: &AdminUser,
        change: &ScimChange,
        now: i64,
    ) -> Result<i64, ScimStoreError> {
        let id = target.id.to_string();
        let mut tx = self.pool.begin().await?;
        lock_admins(self, &mut tx).await?;
        let username = change.username.as_deref().unwrap_or(&target.username);
        let display_name = change
            .display_name
            .as_deref()
            .unwrap_or(&target.display_name);
        if change.username.is_some() || change.display_name.is_some() {
            sqlx::query(
                "UPDATE users SET username = $1, display_name = $2, sort_key = $3, \
                 search_key = $4 WHERE id = $5",
            )
            .bind(username)
            .bind(display_name)
            .bind(fold(display_name))
            .bind(fold(&format!("{username} {display_name}")))
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique(e, ScimStoreError::UsernameTaken))?;
        }
        if let Some(email) = &change.email {
            sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
                .bind(email.clone())
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(external_id) = &change.external_id {
            sqlx::query("UPDATE users SET external_id = $1 WHERE id = $2")
                .bind(external_id.clone())
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(|e| unique(e, ScimStoreError::ExternalIdTaken))?;
        }
        if let Some(role) = change.role {
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                .bind(role.as_str())
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        let mut revoked = 0;
        if let Some(status) = change.status {
            sqlx::query("UPDATE users SET status = $1 WHERE id = $2")
                .bind(status.as_str())
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            if status == UserStatus::Deactivated {
                revoked = revoke_sessions_of_deactivated(&mut tx, &id, now).await?;
            }
        }
        if (change.role.is_some() || change.status.is_some()) && active_admins(&mut tx).await? == 0
        {
            tx.rollback().await?;
            return Err(ScimStoreError::LastAdmin);
        }
        if !change.what.is_empty() {
            insert_audit(
                &mut tx,
                &AuditRecord {
                    reason_text: Some(change.what.clone()),
                    ..AuditRecord::new(now, actor, AuditAction::UpdateUser).target(target)
                },
            )
            .await?;
        }
        if let Some(status) = change.status {
            let action = match status {
                UserStatus::Deactivated => AuditAction::Deactivate,
                UserStatus::Active => AuditAction::Activate,
            };
            insert_audit(
                &mut tx,
                &AuditRecord {
                    reason_text: Some(change.reason.clone()),
                    ..AuditRecord::new(now, actor, action)
                        .target(target)
                        .ended(revoked, i64::from(revoked > 0))
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }
}
