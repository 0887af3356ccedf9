//! Service tokens: their rows, looked up by the SHA-256 of the token.
//!
//! Invariants: only the token's hash is stored, never the token; making and revoking a
//! token commit with their audit entry; a revoked token is never live again (no statement
//! clears `revoked_at`); a name is unique among tokens not revoked (a partial unique
//! index), so two makers of one name cannot both succeed.

use curfew::api::{AuditAction, ServiceToken, TokenScope};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::audit::{insert_audit, Actor, AuditRecord};
use super::db::{from_millis, uuid_col, Store};

/// A token to store: its hash, never the token.
#[derive(Debug, Clone)]
pub struct NewServiceTokenRow {
    pub id: Uuid,
    pub name: String,
    pub token_hash: String,
    pub scopes: Vec<TokenScope>,
    pub expires_at: Option<i64>,
}

/// What the session check needs of a token.
#[derive(Debug, Clone)]
pub struct ServiceTokenRecord {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_address: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("a service token named {0:?} exists")]
    NameTaken(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

const COLUMNS: &str = "id, name, scopes, created_at, created_by, expires_at, last_used_at, \
                       last_used_address, revoked_at";

fn scopes_text(scopes: &[TokenScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn scopes_col(row: &AnyRow) -> sqlx::Result<Vec<TokenScope>> {
    let text: String = row.try_get("scopes")?;
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            TokenScope::parse(s).ok_or_else(|| {
                sqlx::Error::Decode(format!("unexpected scope {s:?} in service_tokens").into())
            })
        })
        .collect()
}

fn token_row(row: &AnyRow) -> sqlx::Result<ServiceToken> {
    Ok(ServiceToken {
        id: uuid_col(row, "id")?,
        name: row.try_get("name")?,
        scopes: scopes_col(row)?,
        created_at: from_millis(row.try_get("created_at")?),
        created_by: row.try_get("created_by")?,
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")?
            .map(from_millis),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(from_millis),
        last_used_address: row.try_get("last_used_address")?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_millis),
    })
}

impl Store {
    /// Stores a new token (its hash) and audits it under `actor`.
    pub async fn insert_service_token(
        &self,
        actor: &Actor,
        token: &NewServiceTokenRow,
        now: i64,
    ) -> Result<ServiceToken, TokenStoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO service_tokens (id, name, token_hash, scopes, created_at, created_by, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.id.to_string())
        .bind(&token.name)
        .bind(&token.token_hash)
        .bind(scopes_text(&token.scopes))
        .bind(now)
        .bind(&actor.username)
        .bind(token.expires_at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(TokenStoreError::NameTaken(token.name.clone()))
            }
            Err(e) => return Err(e.into()),
        }
        insert_audit(
            &mut tx,
            &AuditRecord {
                reason_text: Some(format!("{} ({})", token.name, scopes_text(&token.scopes))),
                ..AuditRecord::new(now, actor, AuditAction::CreateServiceToken)
            },
        )
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM service_tokens WHERE id = $1"
        ))
        .bind(token.id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let stored = token_row(&row)?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Every token, those not revoked first, newest first.
    pub async fn service_tokens(&self) -> sqlx::Result<Vec<ServiceToken>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM service_tokens \
             ORDER BY CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_row)
        .collect()
    }

    /// The token with this hash, live or not.
    pub async fn service_token_by_hash(
        &self,
        token_hash: &str,
    ) -> sqlx::Result<Option<ServiceTokenRecord>> {
        sqlx::query(
            "SELECT id, name, scopes, expires_at, revoked_at, last_used_at, last_used_address \
             FROM service_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| {
            Ok(ServiceTokenRecord {
                id: uuid_col(&row, "id")?,
                name: row.try_get("name")?,
                scopes: scopes_col(&row)?,
                expires_at: row.try_get("expires_at")?,
                revoked_at: row.try_get("revoked_at")?,
                last_used_at: row.try_get("last_used_at")?,
                last_used_address: row.try_get("last_used_address")?,
            })
        })
        .transpose()
    }

    /// Records a token's use; callers throttle it so that checks stay reads.
    pub async fn touch_service_token(
        &self,
        id: Uuid,
        now: i64,
        address: Option<String>,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE service_tokens SET last_used_at = $1, \
             last_used_address = COALESCE($2, last_used_address) \
             WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(address)
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revokes a token not yet revoked and audits it; `None` if there is no such token or
    /// it was revoked already (then nothing is written).
    pub async fn revoke_service_token(
        &self,
        actor: &Actor,
        id: Uuid,
        now: i64,
    ) -> sqlx::Result<Option<ServiceToken>> {
        let mut tx = self.pool.begin().await?;
        let revoked = sqlx::query(
            "UPDATE service_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if revoked == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM service_tokens WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let token = token_row(&row)?;
        insert_audit(
            &mut tx,
            &AuditRecord {
                reason_text: Some(token.name.clone()),
                ..AuditRecord::new(now, actor, AuditAction::RevokeServiceToken)
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(token))
    }
}

impl Store {
    /// One token by id, live or not.
    pub async fn service_token(&self, id: Uuid) -> sqlx::Result<Option<ServiceToken>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM service_tokens WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| token_row(&row))
        .transpose()
    }
}
