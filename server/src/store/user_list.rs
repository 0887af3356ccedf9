//! The administrators' users list: its pages in three orders, the counts behind its filter
//! chips, and the one `WHERE` a search, a filter and a role make (which bulk actions use
//! too, so "all matching" means what the list shows).
//!
//! Invariant: every order ends with the username (unique), so a page starts strictly
//! after the last row of the one before and no user is shown twice or skipped while the
//! keys do not change. The sessions order pages through one index on each user's live
//! sessions (their counts, migration 0016; settled first, so exact), then name.

use curfew::api::{AdminUser, Role, UserCounts, UserFilter, UserSort};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};
use uuid::Uuid;

use super::db::Store;
use super::live_counts::LIVE_SESSIONS;
use super::users::{admin_user_columns, admin_user_row, like_contains};

/// Which users: a search (already checked), a status filter, a role, or explicit ids.
#[derive(Debug, Clone, Default)]
pub struct UserMatching {
    pub search: Option<String>,
    pub status: Option<UserFilter>,
    pub role: Option<Role>,
    /// Only these users (a bulk action's explicit selection).
    pub ids: Option<Vec<Uuid>>,
}

/// Where a page starts: after the row these keys belong to (each order reads its own).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserCursor {
    pub sort_key: String,
    pub username: String,
    /// `last_seen_at`, or -1 for never.
    pub last_active: i64,
    /// Live sessions.
    pub sessions: i64,
}

/// A value bound to a numbered parameter.
#[derive(Debug, Clone)]
pub(super) enum Bind {
    Int(i64),
    Text(String),
}

/// Parameters numbered from `$2` (`$1` is always now), with their values.
#[derive(Debug, Default)]
pub(super) struct Params {
    values: Vec<Bind>,
}

impl Params {
    /// The placeholder of a new parameter holding `value`.
    pub(super) fn push(&mut self, value: Bind) -> String {
        self.values.push(value);
        format!("${}", self.values.len() + 1)
    }

    /// `sql` with now as `$1` and every parameter bound in order.
    pub(super) fn bind<'q>(&self, sql: &'q str, now: i64) -> Query<'q, Any, AnyArguments<'q>> {
        let mut q = sqlx::query(sql).bind(now);
        for value in &self.values {
            q = match value {
                Bind::Int(n) => q.bind(*n),
                Bind::Text(s) => q.bind(s.clone()),
            };
        }
        q
    }
}

/// Whether user `u` has a live session, from the user's counts: exact once the sessions
/// whose time ran out by now are settled ([`Store::settle_expired`]), which every read
/// that uses it does first.
pub(super) const ONLINE: &str = "(u.live_app_sessions + u.live_web_sessions) > 0";

/// The conditions on `users u` that `matching` makes (none: every user).
pub(super) fn conditions(matching: &UserMatching, params: &mut Params) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(search) = &matching.search {
        let p = params.push(Bind::Text(like_contains(search)));
        out.push(format!("u.search_key LIKE {p} ESCAPE '\\'"));
    }
    if let Some(status) = matching.status {
        out.push(status_condition(status).to_owned());
    }
    if let Some(role) = matching.role {
        // A role's name is one of three fixed words.
        out.push(format!("u.role = '{}'", role.as_str()));
    }
    if let Some(ids) = &matching.ids {
        let list: Vec<String> = ids
            .iter()
            .map(|id| params.push(Bind::Text(id.to_string())))
            .collect();
        out.push(if list.is_empty() {
            "1 = 0".to_owned()
        } else {
            format!("u.id IN ({})", list.join(", "))
        });
    }
    out
}

fn status_condition(status: UserFilter) -> &'static str {
    match status {
        UserFilter::Active => "u.status = 'active'",
        UserFilter::Deactivated => "u.status = 'deactivated'",
        UserFilter::Online => ONLINE,
    }
}

/// ` WHERE a AND b`, or nothing.
pub(super) fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// The last-active key of `users u`: never active sorts after every moment.
const LAST_ACTIVE: &str = "COALESCE(u.last_seen_at, -1)";

impl Store {
    /// One page of the users `matching` picks, in `sort` order, after `after`.
    pub async fn list_users(
        &self,
        matching: &UserMatching,
        sort: UserSort,
        after: Option<&UserCursor>,
        limit: u32,
        now: i64,
    ) -> sqlx::Result<Vec<(AdminUser, UserCursor)>> {
        self.settle_expired(now).await?;
        match sort {
            UserSort::Name => self.page_by_name(matching, after, limit, now).await,
            UserSort::LastActive => {
                let mut params = Params::default();
                let mut conds = conditions(matching, &mut params);
                if let Some(after) = after {
                    let a = params.push(Bind::Int(after.last_active));
                    let b = params.push(Bind::Text(after.username.clone()));
                    conds.push(format!(
                        "({LAST_ACTIVE} < {a} OR ({LAST_ACTIVE} = {a} AND u.username > {b}))"
                    ));
                }
                let l = params.push(Bind::Int(i64::from(limit)));
                let sql = format!(
                    "SELECT {} FROM users u{} ORDER BY {LAST_ACTIVE} DESC, u.username LIMIT {l}",
                    admin_user_columns(),
                    where_clause(&conds)
                );
                self.user_rows(&sql, &params, now).await
            }
            UserSort::Sessions => {
                // Most live sessions first, then by name: the users with none come last,
                // by name. One range of the index users_by_live_sessions.
                let mut params = Params::default();
                let mut conds = conditions(matching, &mut params);
                if let Some(after) = after {
                    let a = params.push(Bind::Int(after.sessions));
                    let b = params.push(Bind::Text(after.sort_key.clone()));
                    let c = params.push(Bind::Text(after.username.clone()));
                    conds.push(format!(
                        "{LIVE_SESSIONS} <= {a} AND ({LIVE_SESSIONS} < {a} OR u.sort_key > {b} \
                         OR (u.sort_key = {b} AND u.username > {c}))"
                    ));
                }
                let l = params.push(Bind::Int(i64::from(limit)));
                let sql = format!(
                    "SELECT {} FROM users u{} ORDER BY {LIVE_SESSIONS} DESC, u.sort_key, \
                     u.username LIMIT {l}",
                    admin_user_columns(),
                    where_clause(&conds)
                );
                self.user_rows(&sql, &params, now).await
            }
        }
    }

    /// A page in name order.
    async fn page_by_name(
        &self,
        matching: &UserMatching,
        after: Option<&UserCursor>,
        limit: u32,
        now: i64,
    ) -> sqlx::Result<Vec<(AdminUser, UserCursor)>> {
        let mut params = Params::default();
        let mut conds = conditions(matching, &mut params);
        if let Some(after) = after {
            let a = params.push(Bind::Text(after.sort_key.clone()));
            let b = params.push(Bind::Text(after.username.clone()));
            conds.push(format!(
                "(u.sort_key > {a} OR (u.sort_key = {a} AND u.username > {b}))"
            ));
        }
        let l = params.push(Bind::Int(i64::from(limit)));
        let sql = format!(
            "SELECT {} FROM users u{} ORDER BY u.sort_key, u.username LIMIT {l}",
            admin_user_columns(),
            where_clause(&conds)
        );
        self.user_rows(&sql, &params, now).await
    }

    async fn user_rows(
        &self,
        sql: &str,
        params: &Params,
        now: i64,
    ) -> sqlx::Result<Vec<(AdminUser, UserCursor)>> {
        let rows = params.bind(sql, now).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let user = admin_user_row(row)?;
                let cursor = UserCursor {
                    sort_key: row.try_get("sort_key")?,
                    username: user.username.clone(),
                    last_active: user.last_seen_at.map_or(-1, |t| t.timestamp_millis()),
                    sessions: user.app_sessions + user.web_sessions,
                };
                Ok((user, cursor))
            })
            .collect()
    }

    /// How many users match, and the count on each chip: a status chip with the search
    /// and the role, a role chip with the search and the status. One pass.
    pub async fn user_counts(&self, matching: &UserMatching, now: i64) -> sqlx::Result<UserCounts> {
        self.settle_expired(now).await?;
        let mut params = Params::default();
        let searched = conditions(
            &UserMatching {
                search: matching.search.clone(),
                ..UserMatching::default()
            },
            &mut params,
        );
        let role_ok = matching
            .role
            .map_or("1 = 1".to_owned(), |r| format!("x.role = '{}'", r.as_str()));
        let status_ok = match matching.status {
            None => "1 = 1",
            Some(UserFilter::Active) => "x.status = 'active'",
            Some(UserFilter::Deactivated) => "x.status = 'deactivated'",
            Some(UserFilter::Online) => "x.online = 1",
        };
        let count =
            |condition: &str| format!("COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)");
        let sql = format!(
            "SELECT {matching} AS matching, {all} AS all_statuses, {active} AS active, \
             {online} AS online, {deactivated} AS deactivated, {all_roles} AS all_roles, \
             {admin} AS admins, {support} AS support, {member} AS members \
             FROM (SELECT u.role, u.status, CASE WHEN {ONLINE} THEN 1 ELSE 0 END AS online \
             FROM users u{searched}) x",
            matching = count(&format!("{role_ok} AND {status_ok}")),
            all = count(&role_ok),
            active = count(&format!("{role_ok} AND x.status = 'active'")),
            online = count(&format!("{role_ok} AND x.online = 1")),
            deactivated = count(&format!("{role_ok} AND x.status = 'deactivated'")),
            all_roles = count(status_ok),
            admin = count(&format!("{status_ok} AND x.role = 'admin'")),
            support = count(&format!("{status_ok} AND x.role = 'support'")),
            member = count(&format!("{status_ok} AND x.role = 'member'")),
            searched = where_clause(&searched),
        );
        let row = params.bind(&sql, now).fetch_one(&self.pool).await?;
        Ok(UserCounts {
            matching: row.try_get("matching")?,
            all: row.try_get("all_statuses")?,
            active: row.try_get("active")?,
            online: row.try_get("online")?,
            deactivated: row.try_get("deactivated")?,
            all_roles: row.try_get("all_roles")?,
            admin: row.try_get("admins")?,
            support: row.try_get("support")?,
            member: row.try_get("members")?,
        })
    }
}
