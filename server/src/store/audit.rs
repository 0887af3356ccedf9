//! The audit trail: who did what to whom, when, and how many sessions it ended.
//!
//! Invariant: an entry is written inside the transaction of the change it records
//! ([`insert_audit`] takes that transaction), so there is no change without its entry
//! and no entry without its change.

use curfew::api::{ActorKind, AdminUser, AuditAction, AuditEntry, ClientKind};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::db::{enum_col, from_millis, parse_uuid, uuid_col, Store, Tx};

/// The administrator a forced action is recorded against.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user, or the service token's id.
    pub user_id: Uuid,
    /// The username, or the service token's name.
    pub username: String,
    /// The session acted through (a service token's id for a token).
    pub session_id: Uuid,
    /// Whether the actor is a service token rather than a person.
    pub service_token: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    pub at: i64,
    pub id: String,
}

/// One audit entry: what an actor did at a moment, to whom, with what effect.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    pub at: i64,
    pub actor: &'a Actor,
    pub action: AuditAction,
    pub target: Option<&'a AdminUser>,
    /// The name to record when there is no such user (a throttled name nobody has).
    pub target_name: Option<String>,
    pub sessions_revoked: i64,
    pub users_affected: i64,
    /// For logout-all: whether administrators were spared.
    pub keep_admins: Option<bool>,
    /// For sign-ins: where from, which client, and why it failed.
    pub address: Option<String>,
    pub client: Option<ClientKind>,
    pub reason: Option<&'static str>,
    /// A reason in words, when it is not a fixed code ("role member → admin").
    pub reason_text: Option<String>,
    /// The maintenance window it concerns.
    pub window_id: Option<Uuid>,
    /// An action on several users: whom, by username (at most
    /// `limits::BULK_AUDIT_NAMES_MAX`), kept beside the entry in `audit_names`.
    pub named: Vec<String>,
}

impl<'a> AuditRecord<'a> {
    /// An entry with no target and no sessions ended.
    pub fn new(at: i64, actor: &'a Actor, action: AuditAction) -> Self {
        AuditRecord {
            at,
            actor,
            action,
            target: None,
            target_name: None,
            sessions_revoked: 0,
            users_affected: 0,
            keep_admins: None,
            address: None,
            client: None,
            reason: None,
            reason_text: None,
            window_id: None,
            named: Vec::new(),
        }
    }

    /// The user it was done to.
    pub fn target(mut self, target: &'a AdminUser) -> Self {
        self.target = Some(target);
        self
    }

    /// The maintenance window it concerns.
    pub fn window(mut self, window_id: Uuid) -> Self {
        self.window_id = Some(window_id);
        self
    }

    /// The users an action on several users names.
    pub fn naming(mut self, names: Vec<String>) -> Self {
        self.named = names;
        self
    }

    /// How many sessions of how many users it ended.
    pub fn ended(mut self, sessions: i64, users: i64) -> Self {
        self.sessions_revoked = sessions;
        self.users_affected = users;
        self
    }
}

impl Store {
    /// Writes one entry on its own (for events that change nothing else: sign-ins).
    pub async fn record(&self, record: &AuditRecord<'_>) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_audit(&mut tx, record).await?;
        tx.commit().await
    }

    /// A page of the entries `selection` picks, newest first, after `after`. Each
    /// condition has an index that leads with its column and ends with `(at, id)`, so
    /// a page reads only the rows it returns, whatever the table's size (migration 0013).
    pub async fn audit_page(
        &self,
        selection: &AuditSelection,
        after: Option<&AuditCursor>,
        limit: u32,
    ) -> sqlx::Result<Vec<AuditEntry>> {
        let mut sql = String::from(
            "SELECT id, at, actor_id, actor_username, action, target_user_id, \
             target_username, sessions_revoked, users_affected, keep_admins, address, \
             client, reason, window_id, actor_kind, (SELECT w.starts_at FROM maintenance_windows w \
             WHERE w.id = audit.window_id) AS window_starts_at FROM audit WHERE action IN (",
        );
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let placeholders: Vec<String> = selection.actions.iter().map(|_| next()).collect();
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
        if !selection.actor.is_empty() {
            let list: Vec<String> = selection.actor.iter().map(|_| next()).collect();
            sql.push_str(&format!(" AND actor_username IN ({})", list.join(", ")));
        }
        if !selection.target.is_empty() {
            // The one user an entry is about, or one of those an entry on several names
            // (each list has its index: audit_by_target_name, audit_names_by_username).
            let list: Vec<String> = selection.target.iter().map(|_| next()).collect();
            let names: Vec<String> = selection.target.iter().map(|_| next()).collect();
            sql.push_str(&format!(
                " AND (target_username IN ({}) OR id IN (SELECT audit_id FROM audit_names \
                 WHERE username IN ({})))",
                list.join(", "),
                names.join(", ")
            ));
        }
        if selection.since.is_some() {
            sql.push_str(&format!(" AND at >= {}", next()));
        }
        if selection.until.is_some() {
            sql.push_str(&format!(" AND at < {}", next()));
        }
        if after.is_some() {
            let (at, id) = (next(), next());
            sql.push_str(&format!(" AND (at < {at} OR (at = {at} AND id < {id}))"));
        }
        sql.push_str(&format!(" ORDER BY at DESC, id DESC LIMIT {}", next()));
        let mut q = sqlx::query(&sql);
        for action in &selection.actions {
            q = q.bind(action.as_str());
        }
        for name in selection
            .actor
            .iter()
            .chain(&selection.target)
            .chain(&selection.target)
        {
            q = q.bind(name.clone());
        }
        for moment in [selection.since, selection.until].into_iter().flatten() {
            q = q.bind(moment);
        }
        if let Some(after) = after {
            q = q.bind(after.at).bind(after.id.clone());
        }
        let rows = q.bind(i64::from(limit)).fetch_all(&self.pool).await?;
        let mut entries = rows
            .iter()
            .map(entry_of)
            .collect::<sqlx::Result<Vec<_>>>()?;
        self.add_names(&mut entries).await?;
        Ok(entries)
    }

    /// The names of each entry on several users, from `audit_names`, in order.
    async fn add_names(&self, entries: &mut [AuditEntry]) -> sqlx::Result<()> {
        let named: Vec<String> = entries
            .iter()
            .filter(|e| NAMES_MANY.contains(&e.action))
            .map(|e| e.id.to_string())
            .collect();
        if named.is_empty() {
            return Ok(());
        }
        let placeholders: Vec<String> = (1..=named.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT audit_id, username FROM audit_names WHERE audit_id IN ({}) \
             ORDER BY audit_id, username",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in &named {
            q = q.bind(id.clone());
        }
        let mut names: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
        for row in q.fetch_all(&self.pool).await? {
            names
                .entry(uuid_col(&row, "audit_id")?)
                .or_default()
                .push(row.try_get("username")?);
        }
        for entry in entries {
            if let Some(list) = names.remove(&entry.id) {
                entry.target_usernames = list;
            }
        }
        Ok(())
    }
}

/// The actions whose entries name several users (in `audit_names`).
const NAMES_MANY: [AuditAction; 3] = [
    AuditAction::LogoutSelected,
    AuditAction::DeactivateSelected,
    AuditAction::LogoutIdle,
];

/// Which entries to read: each field narrows the selection (the store applies it as
/// given; what it means is the core's).
#[derive(Debug, Clone, Default)]
pub struct AuditSelection {
    pub actions: Vec<AuditAction>,
    /// Who acted: any of these names (none: anyone).
    pub actor: Vec<String>,
    /// Whom it was done to: any of these names (none: anyone).
    pub target: Vec<String>,
    /// Milliseconds since the epoch: at or after.
    pub since: Option<i64>,
    /// Milliseconds since the epoch: before.
    pub until: Option<i64>,
}

fn entry_of(row: &AnyRow) -> sqlx::Result<AuditEntry> {
    Ok(AuditEntry {
        id: uuid_col(row, "id")?,
        at: from_millis(row.try_get("at")?),
        actor_id: uuid_col(row, "actor_id")?,
        actor_username: row.try_get("actor_username")?,
        actor_kind: match row.try_get::<Option<String>, _>("actor_kind")?.as_deref() {
            Some("service_token") => ActorKind::ServiceToken,
            _ => ActorKind::User,
        },
        action: enum_col(row, "action", AuditAction::parse)?,
        target_user_id: row
            .try_get::<Option<String>, _>("target_user_id")?
            .map(|s| parse_uuid(&s))
            .transpose()?,
        target_username: row.try_get("target_username")?,
        target_usernames: Vec::new(),
        sessions_revoked: row.try_get("sessions_revoked")?,
        users_affected: row.try_get("users_affected")?,
        keep_admins: row
            .try_get::<Option<i64>, _>("keep_admins")?
            .map(|v| v != 0),
        address: row.try_get("address")?,
        client: row
            .try_get::<Option<String>, _>("client")?
            .and_then(|c| ClientKind::parse(&c)),
        reason: row.try_get("reason")?,
        window_id: row
            .try_get::<Option<String>, _>("window_id")?
            .map(|s| parse_uuid(&s))
            .transpose()?,
        window_starts_at: row
            .try_get::<Option<i64>, _>("window_starts_at")?
            .map(from_millis),
    })
}

/// Writes many entries inside the transaction of the changes they record (an import's),
/// `per_statement` rows per statement (15 parameters each): the batch form of
/// [`insert_audit`], same columns, for entries on one user or none (their `named` is not
/// written). Ids are time-ordered in the order given.
pub async fn insert_audits(
    tx: &mut Tx,
    records: &[AuditRecord<'_>],
    per_statement: usize,
) -> sqlx::Result<()> {
    for chunk in records.chunks(per_statement.max(1)) {
        let mut sql = String::from(
            "INSERT INTO audit (id, at, actor_id, actor_username, action, target_user_id, \
             target_username, sessions_revoked, users_affected, keep_admins, address, client, \
             reason, window_id, actor_kind) VALUES ",
        );
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=15).map(|k| format!("${}", i * 15 + k)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        sql.push_str(&rows.join(", "));
        let mut q = sqlx::query(&sql);
        for record in chunk {
            q = q
                .bind(Uuid::now_v7().to_string())
                .bind(record.at)
                .bind(record.actor.user_id.to_string())
                .bind(record.actor.username.clone())
                .bind(record.action.as_str())
                .bind(record.target.map(|t| t.id.to_string()))
                .bind(
                    record
                        .target
                        .map(|t| t.username.clone())
                        .or_else(|| record.target_name.clone()),
                )
                .bind(record.sessions_revoked)
                .bind(record.users_affected)
                .bind(record.keep_admins.map(i64::from))
                .bind(record.address.clone())
                .bind(record.client.map(|c| c.as_str()))
                .bind(
                    record
                        .reason
                        .map(str::to_owned)
                        .or_else(|| record.reason_text.clone()),
                )
                .bind(record.window_id.map(|w| w.to_string()))
                .bind(record.actor.service_token.then_some("service_token"));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes `record` inside the transaction of the change it records.
pub async fn insert_audit(tx: &mut Tx, record: &AuditRecord<'_>) -> sqlx::Result<()> {
    // Time-ordered ids keep entries of the same millisecond in the order they happened.
    let id = Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO audit (id, at, actor_id, actor_username, action, target_user_id, \
         target_username, sessions_revoked, users_affected, keep_admins, address, client, \
         reason, window_id, actor_kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(id.clone())
    .bind(record.at)
    .bind(record.actor.user_id.to_string())
    .bind(record.actor.username.clone())
    .bind(record.action.as_str())
    .bind(record.target.map(|t| t.id.to_string()))
    .bind(
        record
            .target
            .map(|t| t.username.clone())
            .or_else(|| record.target_name.clone()),
    )
    .bind(record.sessions_revoked)
    .bind(record.users_affected)
    .bind(record.keep_admins.map(i64::from))
    .bind(record.address.clone())
    .bind(record.client.map(|c| c.as_str()))
    .bind(
        record
            .reason
            .map(str::to_owned)
            .or_else(|| record.reason_text.clone()),
    )
    .bind(record.window_id.map(|w| w.to_string()))
    .bind(record.actor.service_token.then_some("service_token"))
    .execute(&mut **tx)
    .await?;
    insert_names(tx, &id, &record.named).await
}

/// The users an entry on several users names, a few hundred rows per statement.
async fn insert_names(tx: &mut Tx, audit_id: &str, names: &[String]) -> sqlx::Result<()> {
    for chunk in names.chunks(500) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${})", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO audit_names (audit_id, username) VALUES {}",
            rows.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(audit_id.to_owned());
        for name in chunk {
            q = q.bind(name.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
