//! Every SQL statement curfewd runs lives here, written once for SQLite and PostgreSQL.
//!
//! Invariants this module keeps:
//! - a session is live only while `revoked_at IS NULL AND expires_at > now`; once revoked it
//!   never becomes live again (no statement clears `revoked_at`);
//! - every forced revocation is one `UPDATE` statement, whatever the number of sessions,
//!   and it commits together with its audit entry; a session inserted before that
//!   statement is revoked by it, one inserted after it is not touched;
//! - deactivating a user revokes their sessions in the same transaction;
//! - only token hashes are stored, never tokens.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use curfew::api::{
    AdminUser, AuditAction, AuditEntry, ClientKind, LogoutPreview, RevocationReason, Role,
    SessionSummary, UserFilter, UserStatus,
};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use uuid::Uuid;

mod maintenance;
pub use maintenance::{ClaimedStep, DueStep, Freeze, NewWindow, StepOutcome, WindowError};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// For the PostgreSQL listener, which needs a connection of its own.
    url: std::sync::Arc<str>,
}

/// A user row with what login needs.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    pub password_hash: String,
}

/// A session found by its token hash, with its owner.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub user_status: UserStatus,
    pub client: ClientKind,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<RevocationReason>,
}

/// A session that is no longer live, as the notice streams learn it.
#[derive(Debug, Clone, Copy)]
pub struct EndedSession {
    pub id: Uuid,
    pub reason: RevocationReason,
    pub at: i64,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    pub password_hash: String,
}

/// A demo user with its last-seen time (0: never) and its sessions (client, token hash,
/// last seen).
pub type DemoUser = (NewUser, i64, Vec<(ClientKind, String, i64)>);

/// The administrator a forced action is recorded against.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
    pub session_id: Uuid,
}

/// Where a page of users starts: after this (sort key, username).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCursor {
    pub sort_key: String,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    pub at: i64,
    pub id: String,
}

pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The lower-cased form search and ordering use, the same on every database.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// `%needle%` for `LIKE … ESCAPE '\'`, with the pattern characters of the needle escaped
/// so that a search for `50%_off` finds exactly that text.
fn like_contains(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in fold(needle).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub(crate) const ADMINISTRATOR_ROLES: &str = "('admin', 'support')";

impl Store {
    /// Connects, creating a SQLite file (and its directory) if needed, and runs migrations.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!(
                "unsupported database URL {url:?}: use sqlite://PATH or postgres://USER@HOST/DB"
            );
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections)
            // SQLite: how long a request may queue for a connection behind writers.
            // PostgreSQL: also how long a request waits while the server is unreachable
            // before it is answered 503.
            .acquire_timeout(Duration::from_secs(match backend {
                Backend::Sqlite => 10,
                Backend::Postgres => 3,
            }));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers run beside the one writer; the busy timeout makes a
                    // writer wait for the lock instead of failing.
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                        "PRAGMA busy_timeout = 10000",
                        // 32 MiB of page cache (the default is 2): a logout-all touches
                        // every page of the sessions table.
                        "PRAGMA cache_size = -32768",
                        "PRAGMA foreign_keys = ON",
                    ] {
                        sqlx::Executor::execute(&mut *conn, pragma).await?;
                    }
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&url)
            .await
            .with_context(|| format!("cannot open the database at {}", redact_url(&url)))?;
        let store = Store {
            pool,
            backend,
            url: url.into(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite")
                .run(&self.pool)
                .await
                .context("cannot migrate the SQLite database")?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres")
                .run(&self.pool)
                .await
                .context("cannot migrate the PostgreSQL database")?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Sends `payload` to every listener on `channel` (PostgreSQL only).
    pub async fn notify(&self, channel: &str, payload: &str) -> sqlx::Result<()> {
        // pg_notify returns void, which the Any driver cannot decode: count instead.
        sqlx::query("SELECT COUNT(*) AS n FROM (SELECT pg_notify($1, $2)) AS sent")
            .bind(channel)
            .bind(payload)
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    /// A connection listening on `channel` (PostgreSQL only).
    pub async fn listener(&self, channel: &str) -> sqlx::Result<sqlx::postgres::PgListener> {
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen(channel).await?;
        Ok(listener)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // Users.

    pub async fn insert_user(&self, user: &NewUser, now: i64) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let result = sqlx::query(
            "INSERT INTO users (id, username, display_name, search_key, sort_key, role, status, \
             password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.to_string())
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(fold(&format!("{} {}", user.username, user.display_name)))
        .bind(fold(&user.display_name))
        .bind(user.role.as_str())
        .bind(user.status.as_str())
        .bind(&user.password_hash)
        .bind(now)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(id),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::UsernameTaken(user.username.clone()))
            }
            Err(e) => Err(StoreError::Database(e)),
        }
    }

    pub async fn user_by_username(&self, username: &str) -> sqlx::Result<Option<UserRecord>> {
        // No account name holds a control character, and PostgreSQL text cannot hold NUL.
        if username.chars().any(char::is_control) {
            return Ok(None);
        }
        sqlx::query(
            "SELECT id, username, display_name, role, status, password_hash FROM users \
             WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| {
            Ok(UserRecord {
                id: uuid_col(&row, "id")?,
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                role: enum_col(&row, "role", Role::parse)?,
                status: enum_col(&row, "status", UserStatus::parse)?,
                password_hash: row.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    pub async fn admin_user(&self, id: Uuid, now: i64) -> sqlx::Result<Option<AdminUser>> {
        let sql = format!("{} WHERE u.id = $2", admin_user_select());
        sqlx::query(&sql)
            .bind(now)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|row| admin_user_row(&row))
            .transpose()
    }

    /// One page of users in display-name order.
    pub async fn list_users(
        &self,
        query: Option<&str>,
        filter: Option<UserFilter>,
        after: Option<&UserCursor>,
        limit: u32,
        now: i64,
    ) -> sqlx::Result<Vec<(AdminUser, UserCursor)>> {
        let mut sql = admin_user_select();
        let mut next = 2;
        let mut conditions = Vec::new();
        if after.is_some() {
            conditions.push(format!(
                "(u.sort_key > ${a} OR (u.sort_key = ${a} AND u.username > ${b}))",
                a = next,
                b = next + 1
            ));
            next += 2;
        }
        if query.is_some() {
            conditions.push(format!("u.search_key LIKE ${next} ESCAPE '\\'"));
            next += 1;
        }
        match filter {
            Some(UserFilter::Active) => conditions.push("u.status = 'active'".into()),
            Some(UserFilter::Deactivated) => conditions.push("u.status = 'deactivated'".into()),
            Some(UserFilter::Online) => conditions.push(
                "EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id \
                 AND s.revoked_at IS NULL AND s.expires_at > $1)"
                    .into(),
            ),
            None => {}
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY u.sort_key, u.username LIMIT ${next}"));
        let mut q = sqlx::query(&sql).bind(now);
        if let Some(after) = after {
            q = q.bind(after.sort_key.clone()).bind(after.username.clone());
        }
        if let Some(query) = query {
            q = q.bind(like_contains(query));
        }
        let rows = q.bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let user = admin_user_row(row)?;
                let cursor = UserCursor {
                    sort_key: row.try_get("sort_key")?,
                    username: user.username.clone(),
                };
                Ok((user, cursor))
            })
            .collect()
    }

    /// Counts for confirmations, in one pass over the live sessions. `caller_session` is
    /// the session that would survive a logout-all.
    pub async fn session_summary(
        &self,
        now: i64,
        caller_session: Option<Uuid>,
    ) -> sqlx::Result<SessionSummary> {
        let users = sqlx::query(
            "SELECT COUNT(*) AS users, \
             COALESCE(SUM(CASE WHEN status = 'deactivated' THEN 1 ELSE 0 END), 0) AS deactivated \
             FROM users",
        )
        .fetch_one(&self.pool)
        .await?;
        let admin = format!("u.role IN {ADMINISTRATOR_ROLES}");
        let member = format!("u.role NOT IN {ADMINISTRATOR_ROLES}");
        let other = "s.id <> $2";
        let sum =
            |condition: &str| format!("COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)");
        let users_where =
            |condition: &str| format!("COUNT(DISTINCT CASE WHEN {condition} THEN s.user_id END)");
        let sql = format!(
            "SELECT {app} AS app_sessions, {web} AS web_sessions, \
             COUNT(DISTINCT s.user_id) AS online_users, \
             {admin_users} AS online_administrators, {admin_sessions} AS administrator_sessions, \
             {all_users} AS all_users, {all_app} AS all_app, {all_web} AS all_web, \
             {keep_users} AS keep_users, {keep_app} AS keep_app, {keep_web} AS keep_web \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.revoked_at IS NULL AND s.expires_at > $1",
            app = sum("s.client = 'app'"),
            web = sum("s.client = 'web'"),
            admin_users = users_where(&admin),
            admin_sessions = sum(&admin),
            all_users = users_where(other),
            all_app = sum(&format!("{other} AND s.client = 'app'")),
            all_web = sum(&format!("{other} AND s.client = 'web'")),
            keep_users = users_where(&format!("{other} AND {member}")),
            keep_app = sum(&format!("{other} AND {member} AND s.client = 'app'")),
            keep_web = sum(&format!("{other} AND {member} AND s.client = 'web'")),
        );
        let row = sqlx::query(&sql)
            .bind(now)
            .bind(caller_session.map(|id| id.to_string()).unwrap_or_default())
            .fetch_one(&self.pool)
            .await?;
        let preview = |users: &str, app: &str, web: &str| -> sqlx::Result<LogoutPreview> {
            let (app_sessions, web_sessions): (i64, i64) = (row.try_get(app)?, row.try_get(web)?);
            Ok(LogoutPreview {
                users: row.try_get(users)?,
                sessions: app_sessions + web_sessions,
                app_sessions,
                web_sessions,
            })
        };
        Ok(SessionSummary {
            users: users.try_get("users")?,
            deactivated_users: users.try_get("deactivated")?,
            online_users: row.try_get("online_users")?,
            app_sessions: row.try_get("app_sessions")?,
            web_sessions: row.try_get("web_sessions")?,
            online_administrators: row.try_get("online_administrators")?,
            administrator_sessions: row.try_get("administrator_sessions")?,
            logout_all: preview("all_users", "all_app", "all_web")?,
            logout_all_keep_admins: preview("keep_users", "keep_app", "keep_web")?,
        })
    }

    // Sessions.

    pub async fn insert_session(
        &self,
        user_id: Uuid,
        client: ClientKind,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> sqlx::Result<Uuid> {
        let id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, client, created_at, last_seen_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(id.to_string())
        .bind(token_hash)
        .bind(user_id.to_string())
        .bind(client.as_str())
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> sqlx::Result<Option<SessionRecord>> {
        sqlx::query(
            "SELECT s.id, s.user_id, s.client, s.created_at, s.last_seen_at, s.expires_at, \
             s.revoked_at, s.revoked_reason, u.username, u.display_name, u.role, u.status \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| {
            Ok(SessionRecord {
                id: uuid_col(&row, "id")?,
                user_id: uuid_col(&row, "user_id")?,
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                role: enum_col(&row, "role", Role::parse)?,
                user_status: enum_col(&row, "status", UserStatus::parse)?,
                client: enum_col(&row, "client", ClientKind::parse)?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                expires_at: row.try_get("expires_at")?,
                revoked_at: row.try_get("revoked_at")?,
                revoked_reason: row
                    .try_get::<Option<String>, _>("revoked_reason")?
                    .and_then(|r| RevocationReason::parse(&r)),
            })
        })
        .transpose()
    }

    /// Records activity; callers throttle it so that checks stay reads.
    pub async fn touch_session(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        now: i64,
    ) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(session_id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
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
            now,
            actor,
            AuditAction::LogoutUser,
            Some(target),
            revoked,
            i64::from(revoked > 0),
            None,
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
            now,
            actor,
            AuditAction::LogoutAll,
            None,
            revocation.sessions,
            revocation.users,
            Some(keep_admins),
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
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(target.id.to_string())
            .execute(&mut *tx)
            .await?;
        let (revoked, action) = match status {
            UserStatus::Deactivated => {
                let revoked = sqlx::query(
                    "UPDATE sessions SET revoked_at = $1, revoked_reason = 'deactivated' \
                     WHERE user_id = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(target.id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected() as i64;
                (revoked, AuditAction::Deactivate)
            }
            UserStatus::Active => (0, AuditAction::Activate),
        };
        insert_audit(
            &mut tx,
            now,
            actor,
            action,
            Some(target),
            revoked,
            i64::from(revoked > 0),
            None,
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

    // Audit.

    pub async fn audit_page(
        &self,
        after: Option<&AuditCursor>,
        limit: u32,
    ) -> sqlx::Result<Vec<AuditEntry>> {
        let base = "SELECT id, at, actor_id, actor_username, action, target_user_id, \
                    target_username, sessions_revoked, users_affected, keep_admins FROM audit";
        let rows = match after {
            Some(after) => {
                let sql = format!(
                    "{base} WHERE at < $1 OR (at = $1 AND id < $2) ORDER BY at DESC, id DESC LIMIT $3"
                );
                sqlx::query(&sql)
                    .bind(after.at)
                    .bind(after.id.clone())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("{base} ORDER BY at DESC, id DESC LIMIT $1");
                sqlx::query(&sql)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: uuid_col(row, "id")?,
                    at: from_millis(row.try_get("at")?),
                    actor_id: uuid_col(row, "actor_id")?,
                    actor_username: row.try_get("actor_username")?,
                    action: enum_col(row, "action", AuditAction::parse)?,
                    target_user_id: row
                        .try_get::<Option<String>, _>("target_user_id")?
                        .map(|s| parse_uuid(&s))
                        .transpose()?,
                    target_username: row.try_get("target_username")?,
                    sessions_revoked: row.try_get("sessions_revoked")?,
                    users_affected: row.try_get("users_affected")?,
                    keep_admins: row
                        .try_get::<Option<i64>, _>("keep_admins")?
                        .map(|v| v != 0),
                })
            })
            .collect()
    }

    // Demo data.

    /// Inserts users and their sessions in one transaction per thousand users.
    pub async fn insert_demo_batch(
        &self,
        users: &[DemoUser],
        now: i64,
        expires_at: i64,
    ) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        for (user, last_seen, sessions) in users {
            let id = Uuid::new_v4().to_string();
            sqlx::query(
                "INSERT INTO users (id, username, display_name, search_key, sort_key, role, \
                 status, password_hash, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(id.clone())
            .bind(&user.username)
            .bind(&user.display_name)
            .bind(fold(&format!("{} {}", user.username, user.display_name)))
            .bind(fold(&user.display_name))
            .bind(user.role.as_str())
            .bind(user.status.as_str())
            .bind(&user.password_hash)
            .bind(now)
            .bind(if *last_seen > 0 {
                Some(*last_seen)
            } else {
                None
            })
            .execute(&mut *tx)
            .await?;
            for (client, token_hash, seen) in sessions {
                sqlx::query(
                    "INSERT INTO sessions (id, token_hash, user_id, client, created_at, \
                     last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
                )
                .bind(Uuid::new_v4().to_string())
                .bind(token_hash)
                .bind(id.clone())
                .bind(client.as_str())
                .bind(*seen)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Whose sessions a mass revocation leaves alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spared {
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

/// Revokes every live session but the spared ones in one statement, then counts the users
/// it touched (marked by a revocation id), inside the caller's transaction.
pub(crate) async fn revoke_all(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
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

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    now: i64,
    actor: &Actor,
    action: AuditAction,
    target: Option<&AdminUser>,
    sessions_revoked: i64,
    users_affected: i64,
    keep_admins: Option<bool>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit (id, at, actor_id, actor_username, action, target_user_id, \
         target_username, sessions_revoked, users_affected, keep_admins) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    // Time-ordered ids keep entries of the same millisecond in the order they happened.
    .bind(Uuid::now_v7().to_string())
    .bind(now)
    .bind(actor.user_id.to_string())
    .bind(actor.username.clone())
    .bind(action.as_str())
    .bind(target.map(|t| t.id.to_string()))
    .bind(target.map(|t| t.username.clone()))
    .bind(sessions_revoked)
    .bind(users_affected)
    .bind(keep_admins.map(i64::from))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The users columns with live session counts per client; `$1` is now.
fn admin_user_select() -> String {
    "SELECT u.id, u.username, u.display_name, u.sort_key, u.role, u.status, u.created_at, \
     u.last_seen_at, \
     (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.client = 'app' \
        AND s.revoked_at IS NULL AND s.expires_at > $1) AS app_sessions, \
     (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.client = 'web' \
        AND s.revoked_at IS NULL AND s.expires_at > $1) AS web_sessions \
     FROM users u"
        .to_owned()
}

fn admin_user_row(row: &AnyRow) -> sqlx::Result<AdminUser> {
    Ok(AdminUser {
        id: uuid_col(row, "id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: enum_col(row, "role", Role::parse)?,
        status: enum_col(row, "status", UserStatus::parse)?,
        app_sessions: row.try_get("app_sessions")?,
        web_sessions: row.try_get("web_sessions")?,
        last_seen_at: row
            .try_get::<Option<i64>, _>("last_seen_at")?
            .map(from_millis),
        created_at: from_millis(row.try_get("created_at")?),
    })
}

fn parse_uuid(s: &str) -> sqlx::Result<Uuid> {
    Uuid::from_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) fn uuid_col(row: &AnyRow, column: &str) -> sqlx::Result<Uuid> {
    parse_uuid(&row.try_get::<String, _>(column)?)
}

pub(crate) fn enum_col<T>(
    row: &AnyRow,
    column: &str,
    parse: fn(&str) -> Option<T>,
) -> sqlx::Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| {
        sqlx::Error::Decode(format!("unexpected value {text:?} in column {column}").into())
    })
}

/// `sqlite://path` with the file (and its directory) created if missing.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        anyhow::bail!("curfewd needs a SQLite file, not an in-memory database: use sqlite://PATH");
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the directory {}", parent.display()))?;
        }
    }
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{}", params.join("&")))
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// For tests: a new, empty database on the backend `CURFEW_TEST_BACKEND` names
/// (`sqlite`, the default, puts a file in `dir`; `postgres` creates a database on the
/// server at `CURFEW_TEST_POSTGRES`, which `cargo xtask test` starts). Test databases are
/// named `curfew_test_*`; the returned guard drops the database, and `cargo xtask test`
/// drops any a crashed run left behind.
#[cfg(test)]
pub(crate) async fn test_database(dir: &std::path::Path) -> (String, Option<TestDatabase>) {
    match std::env::var("CURFEW_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let admin = std::env::var("CURFEW_TEST_POSTGRES").expect(
                "CURFEW_TEST_BACKEND=postgres needs CURFEW_TEST_POSTGRES=postgres://USER:PASSWORD@HOST/postgres",
            );
            sqlx::any::install_default_drivers();
            let name = format!("curfew_test_{}", Uuid::new_v4().simple());
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
                .await
                .expect("connect to the test PostgreSQL server");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create a test database");
            let mut url = url::Url::parse(&admin).expect("CURFEW_TEST_POSTGRES is a URL");
            url.set_path(&name);
            (url.to_string(), Some(TestDatabase { admin, name }))
        }
        Ok("sqlite") | Err(_) => (format!("sqlite://{}/t.db", dir.display()), None),
        Ok(other) => panic!("CURFEW_TEST_BACKEND={other:?}: use sqlite or postgres"),
    }
}

/// Drops a test's PostgreSQL database (with psql: `Drop` cannot wait for sqlx).
#[cfg(test)]
pub(crate) struct TestDatabase {
    admin: String,
    name: String,
}

#[cfg(test)]
impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([&self.admin, "-qc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("Ab"), "%ab%");
        assert_eq!(like_contains("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.db");
        let url = prepare_sqlite_url(&format!("sqlite://{}", path.display())).unwrap();
        assert!(url.ends_with("?mode=rwc"), "{url}");
        assert!(path.parent().unwrap().is_dir());
        assert!(prepare_sqlite_url("sqlite::memory:").is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://curfew:hunter2@db/curfew"),
            "postgres://curfew:***@db/curfew"
        );
    }
}
