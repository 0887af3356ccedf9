//! What signing in through an identity provider keeps: who each provider's subject is in
//! Curfew, the sign-ins on their way to the provider and back, and which Curfew sessions
//! came from which provider session.
//!
//! Invariants: a started sign-in is taken at most once (`DELETE … RETURNING`), so a
//! replayed callback finds nothing; one (provider, subject) is one user; ending a
//! provider's session is one statement over the sessions it opened.

use curfew::api::{Role, UserStatus};
use sqlx::Row;
use uuid::Uuid;

use super::db::{enum_col, uuid_col, Store};
use super::users::UserRecord;

/// A sign-in sent to the provider, waiting for it to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub state_hash: String,
    pub browser_hash: String,
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub created_at: i64,
}

fn user_of(row: &sqlx::any::AnyRow) -> sqlx::Result<UserRecord> {
    Ok(UserRecord {
        id: uuid_col(row, "id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: enum_col(row, "role", Role::parse)?,
        status: enum_col(row, "status", UserStatus::parse)?,
        password_hash: row.try_get("password_hash")?,
    })
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.status, u.password_hash";

impl Store {
    /// Keeps a started sign-in; returns how many are waiting (the caller bounds them).
    pub async fn add_pending_login(&self, login: &PendingLogin) -> sqlx::Result<i64> {
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, browser_hash, provider, nonce, pkce_verifier, \
             return_to, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&login.state_hash)
        .bind(&login.browser_hash)
        .bind(&login.provider)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.return_to)
        .bind(login.created_at)
        .execute(&self.pool)
        .await?;
        self.pending_logins().await
    }

    pub async fn pending_logins(&self) -> sqlx::Result<i64> {
        sqlx::query("SELECT COUNT(*) AS n FROM oidc_logins")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")
    }

    /// Takes the sign-in `state_hash` names, once: a second call finds nothing.
    pub async fn take_pending_login(&self, state_hash: &str) -> sqlx::Result<Option<PendingLogin>> {
        sqlx::query(
            "DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING state_hash, browser_hash, \
             provider, nonce, pkce_verifier, return_to, created_at",
        )
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| {
            Ok(PendingLogin {
                state_hash: row.try_get("state_hash")?,
                browser_hash: row.try_get("browser_hash")?,
                provider: row.try_get("provider")?,
                nonce: row.try_get("nonce")?,
                pkce_verifier: row.try_get("pkce_verifier")?,
                return_to: row.try_get("return_to")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .transpose()
    }

    /// Forgets sign-ins started before `before` that never came back.
    pub async fn prune_pending_logins(&self, before: i64) -> sqlx::Result<u64> {
        Ok(sqlx::query("DELETE FROM oidc_logins WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// The user a provider's subject is linked to.
    pub async fn user_by_identity(
        &self,
        provider: &str,
        subject: &str,
    ) -> sqlx::Result<Option<UserRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM user_identities i JOIN users u ON u.id = i.user_id \
             WHERE i.provider = $1 AND i.subject = $2"
        );
        sqlx::query(&sql)
            .bind(provider)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_of)
            .transpose()
    }

    /// The users whose email is `email` (case-insensitive) and who have no identity at
    /// `provider` yet: the candidates for linking.
    pub async fn users_to_link(
        &self,
        provider: &str,
        email: &str,
    ) -> sqlx::Result<Vec<UserRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE LOWER(u.email) = $1 AND NOT EXISTS \
             (SELECT 1 FROM user_identities i WHERE i.user_id = u.id AND i.provider = $2) LIMIT 2"
        );
        let rows = sqlx::query(&sql)
            .bind(email.to_lowercase())
            .bind(provider)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_of).collect()
    }

    pub async fn link_identity(
        &self,
        provider: &str,
        subject: &str,
        user_id: Uuid,
        now: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO user_identities (provider, subject, user_id, linked_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(provider)
        .bind(subject)
        .bind(user_id.to_string())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The providers each of `users` signs in through, by user.
    pub async fn identities_of(&self, users: &[Uuid]) -> sqlx::Result<Vec<(Uuid, String)>> {
        let mut out = Vec::new();
        for chunk in users.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT user_id, provider FROM user_identities WHERE user_id IN ({}) \
                 ORDER BY provider",
                placeholders.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.to_string());
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push((uuid_col(&row, "user_id")?, row.try_get("provider")?));
            }
        }
        Ok(out)
    }

    /// Ends, in one statement, the live sessions a provider's session opened: those with
    /// its `sid`, or without one every session of `subject`. Returns the users touched.
    pub async fn end_provider_sessions(
        &self,
        provider: &str,
        sid: Option<&str>,
        subject: Option<&str>,
        now: i64,
    ) -> sqlx::Result<Vec<Uuid>> {
        let (column, value) = match (sid, subject) {
            (Some(sid), _) => ("idp_sid", sid),
            (None, Some(subject)) => ("idp_subject", subject),
            (None, None) => return Ok(Vec::new()),
        };
        let sql = format!(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'provider_logout' \
             WHERE idp_provider = $2 AND {column} = $3 AND revoked_at IS NULL \
             RETURNING user_id"
        );
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(provider)
            .bind(value)
            .fetch_all(&self.pool)
            .await?;
        let mut users: Vec<Uuid> = rows
            .iter()
            .map(|r| uuid_col(r, "user_id"))
            .collect::<sqlx::Result<_>>()?;
        users.sort();
        users.dedup();
        Ok(users)
    }

    /// The provider a session came from, if it came from one.
    pub async fn session_provider(&self, session_id: Uuid) -> sqlx::Result<Option<String>> {
        Ok(
            sqlx::query("SELECT idp_provider FROM sessions WHERE id = $1")
                .bind(session_id.to_string())
                .fetch_optional(&self.pool)
                .await?
                .map(|row| row.try_get::<Option<String>, _>("idp_provider"))
                .transpose()?
                .flatten(),
        )
    }
}
