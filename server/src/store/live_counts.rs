//! Each user's live-session counts (`users.live_app_sessions`, `live_web_sessions`,
//! migration 0016), and the session summary read from them instead of from every session.
//!
//! Invariant: the counts are the user's sessions with `counted = 1 AND revoked_at IS
//! NULL`; the database's triggers change them in the very statement that inserts, revokes
//! or deletes a session, whichever statement it is. A session whose time runs out is
//! changed by no statement at that moment, so every read of the counts first calls
//! [`Store::settle_expired`] with the moment it reads at: afterwards a session counts
//! exactly when it is live then (`revoked_at IS NULL AND expires_at > now`).

use curfew::api::{ClientKind, LogoutPreview, SessionSummary};
use sqlx::Row;
use uuid::Uuid;

use super::db::{enum_col, Store};
use super::users::ADMINISTRATOR_ROLES;

/// A user's live sessions in SQL, on `users u`.
pub(super) const LIVE_SESSIONS: &str = "(u.live_app_sessions + u.live_web_sessions)";

impl Store {
    /// Stops counting the sessions whose time ran out by `now` (they were still counted),
    /// which lowers their users' counts (the triggers). A look-up on an index when there
    /// are none, which is nearly always: only then does it write. Returns how many.
    pub async fn settle_expired(&self, now: i64) -> sqlx::Result<u64> {
        // The soonest end of a counted session: the first entry of the partial index,
        // without a parameter (a prepared plan would not know how much `<= $1` matches).
        let soonest: Option<i64> =
            sqlx::query("SELECT MIN(expires_at) AS soonest FROM sessions WHERE counted = 1")
                .fetch_one(&self.pool)
                .await?
                .try_get("soonest")?;
        if soonest.is_none_or(|at| at > now) {
            return Ok(0);
        }
        Ok(
            sqlx::query("UPDATE sessions SET counted = 0 WHERE counted = 1 AND expires_at <= $1")
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Counts for confirmations, from the users' counts in one pass over the users.
    /// `caller_session` is the session that would survive a logout-all.
    pub async fn session_summary(
        &self,
        now: i64,
        caller_session: Option<Uuid>,
    ) -> sqlx::Result<SessionSummary> {
        self.settle_expired(now).await?;
        let admin = format!("u.role IN {ADMINISTRATOR_ROLES}");
        let member = format!("u.role NOT IN {ADMINISTRATOR_ROLES}");
        let online = format!("{LIVE_SESSIONS} > 0");
        // PostgreSQL sums BIGINTs as NUMERIC: each sum is cast back.
        let sum = |value: &str| format!("CAST(COALESCE(SUM({value}), 0) AS BIGINT)");
        let when = |condition: &str, value: &str| {
            format!(
                "CAST(COALESCE(SUM(CASE WHEN {condition} THEN {value} ELSE 0 END), 0) AS BIGINT)"
            )
        };
        let sql = format!(
            "SELECT COUNT(*) AS users, {deactivated} AS deactivated, {online_users} AS online_users, \
             {app} AS app_sessions, {web} AS web_sessions, \
             {admin_users} AS online_administrators, {admin_sessions} AS administrator_sessions, \
             {member_users} AS member_users, {member_app} AS member_app, {member_web} AS member_web \
             FROM users u",
            deactivated = when("u.status = 'deactivated'", "1"),
            online_users = when(&online, "1"),
            app = sum("u.live_app_sessions"),
            web = sum("u.live_web_sessions"),
            admin_users = when(&format!("{admin} AND {online}"), "1"),
            admin_sessions = when(&admin, LIVE_SESSIONS),
            member_users = when(&format!("{member} AND {online}"), "1"),
            member_app = when(&member, "u.live_app_sessions"),
            member_web = when(&member, "u.live_web_sessions"),
        );
        let row = sqlx::query(&sql).fetch_one(&self.pool).await?;
        let get = |column: &str| -> sqlx::Result<i64> { row.try_get(column) };
        // The caller's own session, if live: a logout-all leaves it, so its client's count
        // and (when it is its user's only one) its user are not in the previews.
        let caller = match caller_session {
            None => None,
            Some(id) => sqlx::query(&format!(
                "SELECT s.client, CAST(CASE WHEN {admin} THEN 1 ELSE 0 END AS BIGINT) AS administrator, \
                 {LIVE_SESSIONS} AS live FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2"
            ))
            .bind(id.to_string())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| -> sqlx::Result<(ClientKind, bool, i64)> {
                Ok((
                    enum_col(&r, "client", ClientKind::parse)?,
                    r.try_get::<i64, _>("administrator")? != 0,
                    r.try_get("live")?,
                ))
            })
            .transpose()?,
        };
        let less_caller = |users: i64, app: i64, web: i64, counted: bool| -> LogoutPreview {
            let (mut users, mut app, mut web) = (users, app, web);
            if let Some((client, _, live)) = caller.filter(|_| counted) {
                match client {
                    ClientKind::App => app -= 1,
                    ClientKind::Web => web -= 1,
                }
                if live == 1 {
                    users -= 1;
                }
            }
            LogoutPreview {
                users,
                sessions: app + web,
                app_sessions: app,
                web_sessions: web,
            }
        };
        let caller_is_member = caller.is_some_and(|(_, administrator, _)| !administrator);
        Ok(SessionSummary {
            users: get("users")?,
            deactivated_users: get("deactivated")?,
            online_users: get("online_users")?,
            app_sessions: get("app_sessions")?,
            web_sessions: get("web_sessions")?,
            online_administrators: get("online_administrators")?,
            administrator_sessions: get("administrator_sessions")?,
            logout_all: less_caller(
                get("online_users")?,
                get("app_sessions")?,
                get("web_sessions")?,
                true,
            ),
            logout_all_keep_admins: less_caller(
                get("member_users")?,
                get("member_app")?,
                get("member_web")?,
                caller_is_member,
            ),
        })
    }
}
