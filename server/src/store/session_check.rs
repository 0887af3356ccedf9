//! The session check's one statement: a session by its token's hash, with its owner. It
//! runs on every authenticated request and on every request the gate is asked about, so
//! on SQLite it does not go through the pool.
//!
//! Why: sqlx runs each SQLite statement on a thread of its connection's own and hands the
//! row back through channels and the `Any` driver's conversions. For a point lookup on a
//! unique index those hops cost ten times the lookup (the gate's check was bound by them,
//! see the README's gate figures). Here the same statement runs on a few rusqlite
//! connections to the same file, inline on the caller's thread (`check_reads`).
//!
//! Invariant: both paths run the same statement and read it through the same conversion,
//! and neither holds a snapshot between checks, so a revocation committed by any process
//! is seen by the very next check whichever path answers it.

use curfew::api::{ClientKind, RevocationReason, Role, UserStatus};
use sqlx::Row;

use super::check_reads::CheckReads;
use super::db::{parse_uuid, Store};
use super::sessions::SessionRecord;

const BY_TOKEN_HASH: &str = "SELECT s.id, s.user_id, s.client, s.created_at, s.last_seen_at, \
     s.expires_at, s.revoked_at, s.revoked_reason, s.last_address, u.username, \
     u.display_name, u.email, u.role, u.status \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1";

/// The statement's columns as stored, before they are checked and parsed: both paths fill
/// it, one conversion reads it.
struct Columns {
    id: String,
    user_id: String,
    client: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
    last_address: Option<String>,
    username: String,
    display_name: String,
    email: Option<String>,
    role: String,
    status: String,
}

impl Columns {
    fn into_record(self) -> Result<SessionRecord, String> {
        fn parsed<T>(column: &str, text: &str, parse: fn(&str) -> Option<T>) -> Result<T, String> {
            parse(text).ok_or_else(|| format!("unexpected value {text:?} in column {column}"))
        }
        Ok(SessionRecord {
            id: parse_uuid(&self.id).map_err(|e| e.to_string())?,
            user_id: parse_uuid(&self.user_id).map_err(|e| e.to_string())?,
            role: parsed("role", &self.role, Role::parse)?,
            user_status: parsed("status", &self.status, UserStatus::parse)?,
            client: parsed("client", &self.client, ClientKind::parse)?,
            username: self.username,
            display_name: self.display_name,
            email: self.email,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            revoked_reason: self
                .revoked_reason
                .as_deref()
                .and_then(RevocationReason::parse),
            last_address: self.last_address,
        })
    }
}

impl Store {
    pub async fn session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> sqlx::Result<Option<SessionRecord>> {
        if let Some(found) = self
            .check_reads
            .as_deref()
            .and_then(|r| read_here(r, token_hash))
        {
            return Ok(found);
        }
        self.session_by_token_hash_pooled(token_hash).await
    }

    /// The same statement through the pool: PostgreSQL always, SQLite when the check's
    /// own connections could not answer.
    pub(crate) async fn session_by_token_hash_pooled(
        &self,
        token_hash: &str,
    ) -> sqlx::Result<Option<SessionRecord>> {
        let Some(row) = sqlx::query(BY_TOKEN_HASH)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let columns = Columns {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            client: row.try_get("client")?,
            created_at: row.try_get("created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
            revoked_reason: row.try_get("revoked_reason")?,
            last_address: row.try_get("last_address")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            email: row.try_get("email")?,
            role: row.try_get("role")?,
            status: row.try_get("status")?,
        };
        columns
            .into_record()
            .map(Some)
            .map_err(|e| sqlx::Error::Decode(e.into()))
    }
}

/// The statement on the check's own connections: `Some(None)` when there is no such
/// session, `None` when it was not read there.
fn read_here(reads: &CheckReads, token_hash: &str) -> Option<Option<SessionRecord>> {
    reads.read(|connection| {
        let mut statement = connection
            .prepare_cached(BY_TOKEN_HASH)
            .map_err(|e| e.to_string())?;
        let mut rows = statement.query([token_hash]).map_err(|e| e.to_string())?;
        let Some(row) = rows.next().map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let columns = (|| -> rusqlite::Result<Columns> {
            Ok(Columns {
                id: row.get(0)?,
                user_id: row.get(1)?,
                client: row.get(2)?,
                created_at: row.get(3)?,
                last_seen_at: row.get(4)?,
                expires_at: row.get(5)?,
                revoked_at: row.get(6)?,
                revoked_reason: row.get(7)?,
                last_address: row.get(8)?,
                username: row.get(9)?,
                display_name: row.get(10)?,
                email: row.get(11)?,
                role: row.get(12)?,
                status: row.get(13)?,
            })
        })()
        .map_err(|e| e.to_string())?;
        columns.into_record().map(Some)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewSession, NewUser};
    use std::path::Path;
    use uuid::Uuid;

    async fn store_with_session(dir: &Path, token_hash: &str) -> (Store, Uuid, Uuid) {
        let url = format!("sqlite://{}", dir.join("check.db").display());
        let store = Store::connect(&url, 4).await.unwrap();
        let maria = NewUser {
            username: "maria".into(),
            display_name: "Maria".into(),
            email: None,
            role: Role::Member,
            status: UserStatus::Active,
            password_hash: String::new(),
        };
        let user = store.insert_user(&maria, 1_000).await.unwrap();
        let session = Uuid::new_v4();
        store
            .insert_session(
                &NewSession {
                    id: session,
                    user_id: user,
                    client: ClientKind::Web,
                    token_hash,
                    at: 1_000,
                    expires_at: i64::MAX / 2,
                    address: None,
                    user_agent: None,
                    device_name: None,
                    idp: None,
                },
                10,
            )
            .await
            .unwrap();
        (store, user, session)
    }

    #[tokio::test]
    async fn reads_on_its_own_connections_what_the_pool_reads() {
        let dir = tempfile::tempdir().unwrap();
        let (store, user, session) = store_with_session(dir.path(), "hash-1").await;
        let reads = store
            .check_reads
            .as_ref()
            .expect("SQLite has its check reads");
        let direct = read_here(reads, "hash-1")
            .expect("read here")
            .expect("found");
        let pooled = store
            .session_by_token_hash_pooled("hash-1")
            .await
            .unwrap()
            .expect("found");
        assert_eq!((direct.id, direct.user_id), (session, user));
        assert_eq!(format!("{direct:?}"), format!("{pooled:?}"));
        assert!(matches!(read_here(reads, "no-such-hash"), Some(None)));
    }

    #[tokio::test]
    async fn a_revocation_by_another_process_is_seen_by_the_next_check() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _, session) = store_with_session(dir.path(), "hash-2").await;
        let reads = store.check_reads.as_ref().unwrap();
        // Every connection has read the live session before.
        for _ in 0..crate::store::check_reads::CONNECTIONS {
            assert!(read_here(reads, "hash-2")
                .unwrap()
                .unwrap()
                .revoked_at
                .is_none());
        }
        // Another Store on the same file: what the command line opens while curfewd
        // serves.
        let url = format!("sqlite://{}", dir.path().join("check.db").display());
        let other = Store::connect(&url, 1).await.unwrap();
        assert!(other.end_own_session(session, 2_000).await.unwrap());
        for _ in 0..crate::store::check_reads::CONNECTIONS {
            let seen = read_here(reads, "hash-2").unwrap().unwrap();
            assert_eq!(seen.revoked_at, Some(2_000));
            assert_eq!(seen.revoked_reason, Some(RevocationReason::SignedOut));
        }
    }

    #[tokio::test]
    async fn the_check_connections_never_write() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _, _) = store_with_session(dir.path(), "hash-3").await;
        let reads = store.check_reads.as_ref().unwrap();
        read_here(reads, "hash-3").unwrap();
        let opened = reads.each_open(|connection| {
            let refused = connection.execute("DELETE FROM sessions", []).unwrap_err();
            assert!(refused.to_string().contains("readonly"), "{refused}");
        });
        assert_eq!(opened, 1);
    }
}
