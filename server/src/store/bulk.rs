//! Bulk actions on a selection of users, and signing out idle sessions: each change is one
//! statement per table, committed with its one audit entry, and each has a dry run that
//! counts with the same conditions (so a confirmation says what the action will do).
//!
//! Invariants: the actor's own session is never ended and the actor's own account never
//! deactivated; a deactivation that would leave no active administrator is rolled back
//! whole; the sessions ended carry one revocation id, which the streams are told.

use curfew::api::AuditAction;
use sqlx::Row;

use super::accounts::{active_admins, lock_admins};
use super::audit::{insert_audit, Actor, AuditRecord};
use super::db::{Store, Tx};
use super::sessions::MassRevocation;
use super::user_list::{conditions, where_clause, Bind, Params, UserMatching};

/// What a bulk action did, or would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOutcome {
    /// Known users the selection names.
    pub selected: i64,
    /// Users signed out, or deactivated.
    pub users: i64,
    pub sessions: i64,
    /// The actor's own account is in the selection (and spared).
    pub own_account: bool,
    /// The sessions ended (absent on a dry run or when none ended).
    pub revocation: Option<MassRevocation>,
    /// The users concerned by username, at most `limits::BULK_AUDIT_NAMES_MAX`.
    pub names: Vec<String>,
}

impl BulkOutcome {
    /// The outcome of a selection of `selected` users: `users` and `sessions` ended (or,
    /// on a dry run, without `revocation_id`, only counted), and the names to audit.
    fn new(
        (selected, own_account): (i64, bool),
        users: i64,
        sessions: i64,
        revocation_id: Option<i64>,
        names: Vec<String>,
    ) -> Self {
        BulkOutcome {
            selected,
            users,
            sessions,
            own_account,
            revocation: revocation_id
                .filter(|_| sessions > 0)
                .map(|id| MassRevocation {
                    id,
                    sessions,
                    users,
                }),
            names,
        }
    }
}

/// What signing out idle sessions did, or would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleOutcome {
    pub sessions: i64,
    pub users: i64,
    pub revocation: Option<MassRevocation>,
}

/// A bulk deactivation can end in a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkDeactivation {
    Done(BulkOutcome),
    /// It would have left no active administrator; nothing changed.
    LastAdmin,
}

/// `SELECT u.id FROM users u WHERE …`: the selection as a subquery.
fn selected_ids(matching: &UserMatching, params: &mut Params, extra: &[String]) -> String {
    let mut conds = conditions(matching, params);
    conds.extend_from_slice(extra);
    format!("SELECT u.id FROM users u{}", where_clause(&conds))
}

fn names_limit() -> i64 {
    curfew::limits::BULK_AUDIT_NAMES_MAX as i64
}

/// "3 users: alice, bob and carol", or "1,155 users: alice, bob and 1,153 others" past
/// the names listed (the Activity view shows it beside the action).
pub fn names_in_words(names: &[String], total: i64) -> String {
    let list = name_list(names, total);
    if list.is_empty() {
        return "no user".to_owned();
    }
    format!(
        "{} user{}: {list}",
        thousands(total),
        if total == 1 { "" } else { "s" }
    )
}

/// "alice, bob and carol", or "alice, bob and 1,153 others".
fn name_list(names: &[String], total: i64) -> String {
    let others = total - names.len() as i64;
    let mut parts: Vec<String> = names.to_vec();
    if others > 0 {
        parts.push(format!(
            "{} other{}",
            thousands(others),
            if others == 1 { "" } else { "s" }
        ));
    }
    match parts.len() {
        0 => String::new(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} and {last}", parts.join(", "))
        }
    }
}

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// How many known users the selection names, and whether the actor is one.
    async fn selection_size(
        &self,
        matching: &UserMatching,
        actor: &Actor,
        now: i64,
    ) -> sqlx::Result<(i64, bool)> {
        // The Online filter reads the users' counts: exact once settled at `now`.
        self.settle_expired(now).await?;
        let mut params = Params::default();
        let conds = conditions(matching, &mut params);
        let me = params.push(Bind::Text(actor.user_id.to_string()));
        let sql = format!(
            "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN u.id = {me} THEN 1 ELSE 0 END), 0) AS me \
             FROM users u{}",
            where_clause(&conds)
        );
        let row = params.bind(&sql, now).fetch_one(&self.pool).await?;
        Ok((row.try_get("n")?, row.try_get::<i64, _>("me")? > 0))
    }

    /// Ends every live session of the selected users but the actor's own, in one
    /// statement, with one audit entry naming them; `dry_run` only counts.
    pub async fn bulk_logout(
        &self,
        actor: &Actor,
        matching: &UserMatching,
        dry_run: bool,
        now: i64,
    ) -> sqlx::Result<BulkOutcome> {
        super::db::again_if_contended(|| self.bulk_logout_once(actor, matching, dry_run, now)).await
    }

    /// [`Self::bulk_logout`], tried once.
    async fn bulk_logout_once(
        &self,
        actor: &Actor,
        matching: &UserMatching,
        dry_run: bool,
        now: i64,
    ) -> sqlx::Result<BulkOutcome> {
        let (selected, own_account) = self.selection_size(matching, actor, now).await?;
        let mut params = Params::default();
        let ids = selected_ids(matching, &mut params, &[]);
        let mine = params.push(Bind::Text(actor.session_id.to_string()));
        let live = format!(
            "revoked_at IS NULL AND expires_at > $1 AND id <> {mine} AND user_id IN ({ids})"
        );
        if dry_run {
            let row = params
                .bind(
                    &format!(
                        "SELECT COUNT(*) AS sessions, COUNT(DISTINCT user_id) AS users \
                         FROM sessions WHERE {live}"
                    ),
                    now,
                )
                .fetch_one(&self.pool)
                .await?;
            return Ok(BulkOutcome::new(
                (selected, own_account),
                row.try_get("users")?,
                row.try_get("sessions")?,
                None,
                Vec::new(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        let id: i64 = rand::random::<i64>() & i64::MAX;
        let marker = params.push(Bind::Int(id));
        let sql = format!(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'admin_logout', \
             revocation_id = {marker} WHERE {live}"
        );
        let sessions = params
            .bind(&sql, now)
            .execute(&mut *tx)
            .await?
            .rows_affected() as i64;
        let (users, names) = revoked_users(&mut tx, id).await?;
        insert_audit(
            &mut tx,
            &AuditRecord {
                reason_text: Some(names_in_words(&names, users)),
                ..AuditRecord::new(now, actor, AuditAction::LogoutSelected)
                    .ended(sessions, users)
                    .naming(names.clone())
            },
        )
        .await?;
        tx.commit().await?;
        Ok(BulkOutcome::new(
            (selected, own_account),
            users,
            sessions,
            Some(id),
            names,
        ))
    }

    /// Deactivates the selected active users but the actor, and ends their sessions, in
    /// one transaction (one statement per table) with one audit entry naming them;
    /// `dry_run` only counts. Leaving no active administrator rolls it all back.
    pub async fn bulk_deactivate(
        &self,
        actor: &Actor,
        matching: &UserMatching,
        dry_run: bool,
        now: i64,
    ) -> sqlx::Result<BulkDeactivation> {
        super::db::again_if_contended(|| self.bulk_deactivate_once(actor, matching, dry_run, now))
            .await
    }

    /// [`Self::bulk_deactivate`], tried once.
    async fn bulk_deactivate_once(
        &self,
        actor: &Actor,
        matching: &UserMatching,
        dry_run: bool,
        now: i64,
    ) -> sqlx::Result<BulkDeactivation> {
        let (selected, own_account) = self.selection_size(matching, actor, now).await?;
        let mut params = Params::default();
        let me = params.push(Bind::Text(actor.user_id.to_string()));
        let ids = selected_ids(
            matching,
            &mut params,
            &["u.status = 'active'".to_owned(), format!("u.id <> {me}")],
        );
        if dry_run {
            let row = params
                .bind(
                    &format!(
                        "SELECT (SELECT COUNT(*) FROM ({ids}) d) AS users, \
                         (SELECT COUNT(*) FROM sessions s WHERE s.revoked_at IS NULL \
                         AND s.expires_at > $1 AND s.user_id IN ({ids})) AS sessions"
                    ),
                    now,
                )
                .fetch_one(&self.pool)
                .await?;
            return Ok(BulkDeactivation::Done(BulkOutcome::new(
                (selected, own_account),
                row.try_get("users")?,
                row.try_get("sessions")?,
                None,
                Vec::new(),
            )));
        }
        let mut tx = self.pool.begin().await?;
        lock_admins(self, &mut tx).await?;
        let id: i64 = rand::random::<i64>() & i64::MAX;
        let marker = params.push(Bind::Int(id));
        // The accounts first, marked, while the selection still reads as the list showed
        // it (an Online filter counts the sessions this transaction then ends).
        let sql = format!(
            "UPDATE users SET status = 'deactivated', status_change = {marker} WHERE id IN ({ids})"
        );
        let users = params
            .bind(&sql, now)
            .execute(&mut *tx)
            .await?
            .rows_affected() as i64;
        if active_admins(&mut tx).await? == 0 {
            tx.rollback().await?;
            return Ok(BulkDeactivation::LastAdmin);
        }
        let sessions = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'deactivated', \
             revocation_id = $2 WHERE revoked_at IS NULL AND expires_at > $1 AND user_id IN \
             (SELECT id FROM users WHERE status_change = $2)",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        let names: Vec<String> = sqlx::query(
            "SELECT username FROM users WHERE status_change = $1 ORDER BY username LIMIT $2",
        )
        .bind(id)
        .bind(names_limit())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get("username"))
        .collect::<sqlx::Result<_>>()?;
        insert_audit(
            &mut tx,
            &AuditRecord {
                reason_text: Some(names_in_words(&names, users)),
                ..AuditRecord::new(now, actor, AuditAction::DeactivateSelected)
                    .ended(sessions, users)
                    .naming(names.clone())
            },
        )
        .await?;
        tx.commit().await?;
        Ok(BulkDeactivation::Done(BulkOutcome::new(
            (selected, own_account),
            users,
            sessions,
            Some(id),
            names,
        )))
    }

    /// Ends every live session not used since `idle_since` but the actor's own, in one
    /// statement, audited with the number of days and the count; `dry_run` only counts.
    pub async fn logout_idle(
        &self,
        actor: &Actor,
        days: u32,
        idle_since: i64,
        dry_run: bool,
        now: i64,
    ) -> sqlx::Result<IdleOutcome> {
        super::db::again_if_contended(|| {
            self.logout_idle_once(actor, days, idle_since, dry_run, now)
        })
        .await
    }

    /// [`Self::logout_idle`], tried once.
    async fn logout_idle_once(
        &self,
        actor: &Actor,
        days: u32,
        idle_since: i64,
        dry_run: bool,
        now: i64,
    ) -> sqlx::Result<IdleOutcome> {
        let live = "revoked_at IS NULL AND expires_at > $1 AND last_seen_at < $2 AND id <> $3";
        if dry_run {
            let row = sqlx::query(&format!(
                "SELECT COUNT(*) AS sessions, COUNT(DISTINCT user_id) AS users FROM sessions \
                 WHERE {live}"
            ))
            .bind(now)
            .bind(idle_since)
            .bind(actor.session_id.to_string())
            .fetch_one(&self.pool)
            .await?;
            return Ok(IdleOutcome {
                sessions: row.try_get("sessions")?,
                users: row.try_get("users")?,
                revocation: None,
            });
        }
        let mut tx = self.pool.begin().await?;
        let id: i64 = rand::random::<i64>() & i64::MAX;
        let sessions = sqlx::query(&format!(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'admin_logout', \
             revocation_id = $4 WHERE {live}"
        ))
        .bind(now)
        .bind(idle_since)
        .bind(actor.session_id.to_string())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        let (users, names) = revoked_users(&mut tx, id).await?;
        insert_audit(
            &mut tx,
            &AuditRecord {
                reason_text: Some(format!(
                    "idle for more than {days} day{}",
                    if days == 1 { "" } else { "s" }
                )),
                ..AuditRecord::new(now, actor, AuditAction::LogoutIdle)
                    .ended(sessions, users)
                    .naming(names)
            },
        )
        .await?;
        tx.commit().await?;
        Ok(IdleOutcome {
            sessions,
            users,
            revocation: (sessions > 0).then_some(MassRevocation {
                id,
                sessions,
                users,
            }),
        })
    }
}

/// How many users one revocation touched, and the first of them by username.
async fn revoked_users(tx: &mut Tx, revocation: i64) -> sqlx::Result<(i64, Vec<String>)> {
    let users: i64 =
        sqlx::query("SELECT COUNT(DISTINCT user_id) AS n FROM sessions WHERE revocation_id = $1")
            .bind(revocation)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
    let names = sqlx::query(
        "SELECT u.username FROM users u WHERE u.id IN \
         (SELECT user_id FROM sessions WHERE revocation_id = $1) ORDER BY u.username LIMIT $2",
    )
    .bind(revocation)
    .bind(names_limit())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|row| row.try_get("username"))
    .collect::<sqlx::Result<_>>()?;
    Ok((users, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_a_sentence() {
        let names: Vec<String> = ["alice", "bob", "carol"].map(String::from).to_vec();
        assert_eq!(names_in_words(&names, 3), "3 users: alice, bob and carol");
        assert_eq!(names_in_words(&names[..1], 1), "1 user: alice");
        assert_eq!(
            names_in_words(&names[..2], 1155),
            "1,155 users: alice, bob and 1,153 others"
        );
        assert_eq!(names_in_words(&[], 0), "no user");
    }
}
