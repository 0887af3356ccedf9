//! Sessions: sign-in, the session check, activity, and every revocation.
//!
//! Invariants: a session is live only while `revoked_at IS NULL AND expires_at > now`, and
//! no statement clears `revoked_at`; a forced revocation of many sessions is one `UPDATE`
//! ([`revoke_all`]) committed with its audit entry, so a session inserted before it is
//! revoked and one inserted after it is not touched.

use curfew::api::{AdminUser, AuditAction, ClientKind, RevocationReason, Role, UserStatus};
use sqlx::Row;
use uuid::Uuid;

use super::audit::{insert_audit, Actor, AuditRecord};
use super::db::{enum_col, uuid_col, Store, Tx};
use super::users::ADMINISTRATOR_ROLES;

/// A session found by its token hash, with its owner.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub user_status: UserStatus,
    pub client: ClientKind,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<RevocationReason>,
    pub last_address: Option<String>,
}

/// A live session as administrators see it (before its device is put into words).
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: Uuid,
    pub client: ClientKind,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub address: Option<String>,
    pub last_address: Option<String>,
    pub user_agent: Option<String>,
    pub device_name: Option<String>,
}

/// A session that is no longer live, as the notice streams learn it.
#[derive(Debug, Clone, Copy)]
pub struct EndedSession {
    pub id: Uuid,
    pub reason: RevocationReason,
    pub at: i64,
}

/// Whose sessions a mass revocation leaves alone.
#[derive(Debug, Clone, Copy)]
pub struct Spared {
    pub session: Option<Uuid>,
    pub user: Option<Uuid>,
    pub administrators: bool,
}

/// What one mass revocation did; `id` marks its sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MassRevocation {
    pub id: i64,
    pub sessions: i64,
    pub users: i64,
}

impl Store {
    /// Opens a session, records its user as seen now, and ends their oldest live
    /// sessions beyond the newest `keep` (this one included), in one transaction.
    /// Returns how many old ones ended.
    pub async fn insert_session(&self, session: &NewSession<'_>, keep: u32) -> sqlx::Result<u64> {
        super::db::again_if_contended(|| self.insert_session_once(session, keep)).await
    }

    /// [`Self::insert_session`], tried once.
    async fn insert_session_once(&self, session: &NewSession<'_>, keep: u32) -> sqlx::Result<u64> {
        let (now, user_id) = (session.at, session.user_id);
        let mut tx = self.pool.begin().await?;
        insert_session_in(&mut tx, session).await?;
        sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        let ended = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'session_limit' \
             WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1 AND id NOT IN \
             (SELECT id FROM sessions WHERE user_id = $2 AND revoked_at IS NULL \
              AND expires_at > $1 ORDER BY created_at DESC, id DESC LIMIT $3)",
        )
        .bind(now)
        .bind(user_id.to_string())
        .bind(i64::from(keep.max(1)))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(ended)
    }

    /// Ends, in one statement, every live session not used since `idle_since`. Returns
    /// how many.
    pub async fn expire_idle(&self, idle_since: i64, now: i64) -> sqlx::Result<u64> {
        Ok(sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'expired' \
             WHERE revoked_at IS NULL AND expires_at > $1 AND last_seen_at < $2",
        )
        .bind(now)
        .bind(idle_since)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Records activity; callers throttle it so that checks stay reads.
    pub async fn touch_session(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        now: i64,
        address: Option<String>,
    ) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1, last_address = COALESCE($3, last_address) \
             WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(session_id.to_string())
        .bind(address)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// A user's live sessions, newest first.
    pub async fn live_sessions_of(&self, user_id: Uuid, now: i64) -> sqlx::Result<Vec<SessionRow>> {
        sqlx::query(
            "SELECT id, client, created_at, last_seen_at, expires_at, address, last_address, \
             user_agent, device_name FROM sessions \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id.to_string())
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(SessionRow {
                id: uuid_col(row, "id")?,
                client: enum_col(row, "client", ClientKind::parse)?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                expires_at: row.try_get("expires_at")?,
                address: row.try_get("address")?,
                last_address: row.try_get("last_address")?,
                user_agent: row.try_get("user_agent")?,
                device_name: row.try_get("device_name")?,
            })
        })
        .collect()
    }

    /// Ends one live session of `target` for an administrator, and audits it, in one
    /// transaction. `false`: no such live session of that user.
    pub async fn end_session(
        &self,
        actor: &Actor,
        target: &AdminUser,
        session_id: Uuid,
        now: i64,
    ) -> sqlx::Result<bool> {
        let mut tx = self.pool.begin().await?;
        let ended = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'admin_logout' \
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(session_id.to_string())
        .bind(target.id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if ended == 0 {
            return Ok(false);
        }
        insert_audit(
            &mut tx,
            &AuditRecord::new(now, actor, AuditAction::EndSession)
                .target(target)
                .ended(1, 1),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The owner of a session, if it exists.
    pub async fn session_owner(&self, session_id: Uuid) -> sqlx::Result<Option<Uuid>> {
        sqlx::query("SELECT user_id FROM sessions WHERE id = $1")
            .bind(session_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|row| uuid_col(&row, "user_id"))
            .transpose()
    }

    /// Ends one session at its owner's request.
    pub async fn end_own_session(&self, session_id: Uuid, now: i64) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'signed_out' \
             WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(session_id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Revokes every live session of `target` (except the actor's own), and audits it.
    pub async fn logout_user(
        &self,
        actor: &Actor,
        target: &AdminUser,
        now: i64,
    ) -> sqlx::Result<i64> {
        let mut tx = self.pool.begin().await?;
        let revoked = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'admin_logout' \
             WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1 AND id <> $3",
        )
        .bind(now)
        .bind(target.id.to_string())
        .bind(actor.session_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        insert_audit(
            &mut tx,
            &AuditRecord::new(now, actor, AuditAction::LogoutUser)
                .target(target)
                .ended(revoked, i64::from(revoked > 0)),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Revokes every live session but the actor's own (and administrators' if asked) in one
    /// statement, counts the users it touched and audits it, all in one transaction.
    pub async fn logout_all(
        &self,
        actor: &Actor,
        keep_admins: bool,
        now: i64,
    ) -> sqlx::Result<MassRevocation> {
        super::db::again_if_contended(|| self.logout_all_once(actor, keep_admins, now)).await
    }

    /// [`Self::logout_all`], tried once.
    async fn logout_all_once(
        &self,
        actor: &Actor,
        keep_admins: bool,
        now: i64,
    ) -> sqlx::Result<MassRevocation> {
        let mut tx = self.pool.begin().await?;
        let revocation = revoke_all(
            &mut tx,
            now,
            RevocationReason::LogoutAll,
            Spared {
                session: Some(actor.session_id),
                user: None,
                administrators: keep_admins,
            },
        )
        .await?;
        insert_audit(
            &mut tx,
            &AuditRecord {
                keep_admins: Some(keep_admins),
                ..AuditRecord::new(now, actor, AuditAction::LogoutAll)
                    .ended(revocation.sessions, revocation.users)
            },
        )
        .await?;
        tx.commit().await?;
        Ok(revocation)
    }

    /// Sets a user's status; deactivation revokes their sessions in the same transaction.
    pub async fn set_user_status(
        &self,
        actor: &Actor,
        target: &AdminUser,
        status: UserStatus,
        now: i64,
    ) -> sqlx::Result<i64> {
        super::db::again_if_contended(|| self.set_user_status_once(actor, target, status, now))
            .await
    }

    /// [`Self::set_user_status`], tried once.
    async fn set_user_status_once(
        &self,
        actor: &Actor,
        target: &AdminUser,
        status: UserStatus,
        now: i64,
    ) -> sqlx::Result<i64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(target.id.to_string())
            .execute(&mut *tx)
            .await?;
        let (revoked, action) = match status {
            UserStatus::Deactivated => {
                let revoked =
                    revoke_sessions_of_deactivated(&mut tx, &target.id.to_string(), now).await?;
                (revoked, AuditAction::Deactivate)
            }
            UserStatus::Active => (0, AuditAction::Activate),
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

    /// Of `ids`, the sessions that are no longer live, and why.
    pub async fn ended_among(&self, ids: &[Uuid], now: i64) -> sqlx::Result<Vec<EndedSession>> {
        let mut ended = Vec::new();
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, revoked_at, revoked_reason, expires_at FROM sessions \
                 WHERE (revoked_at IS NOT NULL OR expires_at <= $1) AND id IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(now);
            for id in chunk {
                q = q.bind(id.to_string());
            }
            for row in q.fetch_all(&self.pool).await? {
                let revoked_at: Option<i64> = row.try_get("revoked_at")?;
                let reason = row
                    .try_get::<Option<String>, _>("revoked_reason")?
                    .and_then(|r| RevocationReason::parse(&r));
                ended.push(EndedSession {
                    id: uuid_col(&row, "id")?,
                    reason: if revoked_at.is_some() {
                        reason.unwrap_or(RevocationReason::AdminLogout)
                    } else {
                        RevocationReason::Expired
                    },
                    at: revoked_at.unwrap_or(row.try_get("expires_at")?),
                });
            }
        }
        Ok(ended)
    }

    /// The sessions one mass revocation ended.
    pub async fn sessions_of_revocation(&self, revocation: i64) -> sqlx::Result<Vec<Uuid>> {
        sqlx::query("SELECT id FROM sessions WHERE revocation_id = $1")
            .bind(revocation)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| uuid_col(row, "id"))
            .collect()
    }

    /// Forgets sessions that ended before `before`; the audit keeps the record.
    pub async fn prune_sessions(&self, before: i64) -> sqlx::Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < $1) \
             OR expires_at < $1",
        )
        .bind(before)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

/// Revokes every live session but the spared ones in one statement, then counts the users
/// it touched (marked by a revocation id), inside the caller's transaction.
pub(crate) async fn revoke_all(
    tx: &mut Tx,
    now: i64,
    reason: RevocationReason,
    spared: Spared,
) -> sqlx::Result<MassRevocation> {
    let revocation: i64 = rand::random::<i64>() & i64::MAX;
    let mut sql = String::from(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2, revocation_id = $3 \
         WHERE revoked_at IS NULL AND expires_at > $1 AND id <> $4 AND user_id <> $5",
    );
    if spared.administrators {
        sql.push_str(&format!(
            " AND user_id NOT IN (SELECT id FROM users WHERE role IN {ADMINISTRATOR_ROLES})"
        ));
    }
    let revoked = sqlx::query(&sql)
        .bind(now)
        .bind(reason.as_str())
        .bind(revocation)
        .bind(spared.session.map(|s| s.to_string()).unwrap_or_default())
        .bind(spared.user.map(|u| u.to_string()).unwrap_or_default())
        .execute(&mut **tx)
        .await?
        .rows_affected() as i64;
    let users: i64 = if revoked == 0 {
        0
    } else {
        sqlx::query("SELECT COUNT(DISTINCT user_id) AS n FROM sessions WHERE revocation_id = $1")
            .bind(revocation)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?
    };
    Ok(MassRevocation {
        id: revocation,
        sessions: revoked,
        users,
    })
}

/// A session to write: who, which client, its token's hash, when, and where from.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub client: ClientKind,
    pub token_hash: &'a str,
    /// Created (and last seen) at.
    pub at: i64,
    pub expires_at: i64,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub device_name: Option<String>,
    /// The identity provider's session this one came from (back-channel logout ends it).
    pub idp: Option<IdpSession>,
}

/// A provider's session: which provider, whose (`sub`), and its `sid` if it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpSession {
    pub provider: String,
    pub subject: String,
    pub sid: Option<String>,
}

/// Writes one session row inside `tx`: the only `INSERT INTO sessions`.
/// Ends every session of a user just deactivated, in the transaction that deactivates
/// them: the one statement the console, the CSV import and SCIM share. Returns how many
/// sessions it ended.
pub(crate) async fn revoke_sessions_of_deactivated(
    tx: &mut Tx,
    user_id: &str,
    now: i64,
) -> sqlx::Result<i64> {
    Ok(sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = 'deactivated' \
         WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut **tx)
    .await?
    .rows_affected() as i64)
}

pub async fn insert_session_in(tx: &mut Tx, session: &NewSession<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, client, created_at, last_seen_at, \
         expires_at, address, last_address, user_agent, device_name, idp_provider, \
         idp_subject, idp_sid) \
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $7, $8, $9, $10, $11, $12)",
    )
    .bind(session.id.to_string())
    .bind(session.token_hash)
    .bind(session.user_id.to_string())
    .bind(session.client.as_str())
    .bind(session.at)
    .bind(session.expires_at)
    .bind(session.address.clone())
    .bind(session.user_agent.clone())
    .bind(session.device_name.clone())
    .bind(session.idp.as_ref().map(|i| i.provider.clone()))
    .bind(session.idp.as_ref().map(|i| i.subject.clone()))
    .bind(session.idp.as_ref().and_then(|i| i.sid.clone()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
