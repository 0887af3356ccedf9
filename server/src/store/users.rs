//! Users: accounts, their search and sort keys, the administrators' list.
//!
//! Invariant: `search_key` and `sort_key` are always [`fold`]ed from the username and
//! display name by the one statement that writes a user ([`insert_user_in`], and its
//! batch form [`insert_users_in`] for imports), so search and order are the same on every
//! database.

use curfew::api::{AdminUser, Role, UserStatus};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::db::{enum_col, from_millis, uuid_col, Store, Tx};

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

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub status: UserStatus,
    /// Empty: no password (the account signs in only through an identity provider).
    pub password_hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The lower-cased form search and ordering use, the same on every database.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// `%needle%` for `LIKE … ESCAPE '\'`, with the pattern characters of the needle escaped
/// so that a search for `50%_off` finds exactly that text.
pub(super) fn like_contains(needle: &str) -> String {
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

/// The roles that count as administrators in SQL (see `Role::is_administrator`).
pub(crate) const ADMINISTRATOR_ROLES: &str = "('admin', 'support')";

/// Writes one user row inside `tx`: with [`insert_users_in`], the only `INSERT INTO users`.
pub async fn insert_user_in(
    tx: &mut Tx,
    id: Uuid,
    user: &NewUser,
    now: i64,
    last_seen_at: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, username, display_name, search_key, sort_key, role, status, \
         password_hash, created_at, last_seen_at, email) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
    .bind(last_seen_at)
    .bind(user.email.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes many user rows inside `tx`, `per_statement` rows per statement (11 parameters
/// each): the batch form of [`insert_user_in`] (same columns, same folding), for imports.
pub async fn insert_users_in(
    tx: &mut Tx,
    users: &[(Uuid, &NewUser)],
    now: i64,
    per_statement: usize,
) -> sqlx::Result<()> {
    for chunk in users.chunks(per_statement.max(1)) {
        let mut sql = String::from(
            "INSERT INTO users (id, username, display_name, search_key, sort_key, role, status, \
             password_hash, created_at, last_seen_at, email) VALUES ",
        );
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=11).map(|k| format!("${}", i * 11 + k)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        sql.push_str(&rows.join(", "));
        let mut q = sqlx::query(&sql);
        for (id, user) in chunk {
            q = q
                .bind(id.to_string())
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(fold(&format!("{} {}", user.username, user.display_name)))
                .bind(fold(&user.display_name))
                .bind(user.role.as_str())
                .bind(user.status.as_str())
                .bind(&user.password_hash)
                .bind(now)
                .bind(None::<i64>)
                .bind(user.email.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Creates a user; a taken username is [`StoreError::UsernameTaken`].
    pub async fn insert_user(&self, user: &NewUser, now: i64) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        match insert_user_in(&mut tx, id, user, now, None).await {
            Ok(()) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::UsernameTaken(user.username.clone()))
            }
            Err(e) => return Err(StoreError::Database(e)),
        }
        tx.commit().await?;
        Ok(id)
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
}

/// The users columns with live session counts per client; `$1` is now.
fn admin_user_select() -> String {
    format!("SELECT {} FROM users u", admin_user_columns())
}

/// The columns [`admin_user_row`] reads, of `users u`; `$1` is now.
pub(super) fn admin_user_columns() -> &'static str {
    "u.id, u.username, u.display_name, u.sort_key, u.role, u.status, u.created_at, \
     u.last_seen_at, u.email, \
     CAST(CASE WHEN u.password_hash = '' THEN 0 ELSE 1 END AS BIGINT) AS has_password, \
     (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.client = 'app' \
        AND s.revoked_at IS NULL AND s.expires_at > $1) AS app_sessions, \
     (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.client = 'web' \
        AND s.revoked_at IS NULL AND s.expires_at > $1) AS web_sessions"
}

pub(super) fn admin_user_row(row: &AnyRow) -> sqlx::Result<AdminUser> {
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
        email: row.try_get("email")?,
        has_password: row.try_get::<i64, _>("has_password")? != 0,
        // Filled in by the core, which knows the providers' names.
        providers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("Ab"), "%ab%");
        assert_eq!(like_contains("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
