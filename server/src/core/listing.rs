//! What administrators read: pages of users (the audit's are in [`super::audit`]), the counts behind every
//! confirmation, the maintenance windows.
//!
//! Invariant: a page cursor is opaque to clients and only ever one this server gave out;
//! anything else is refused (`invalid_cursor`) before the database sees it.

use base64::Engine;
use curfew::api::{
    AdminUser, SessionSummary, UserCounts, UserMatch, UserPage, UserQuery, UserSort,
};
use uuid::Uuid;

use super::{validate, AppError, AppResult, AppState};
use crate::store::{UserCursor, UserMatching};

impl AppState {
    /// A page of users with their live sessions per client, in the order asked for.
    pub async fn users_page(&self, query: &UserQuery) -> AppResult<UserPage> {
        let limit = validate::page_limit(query.limit)?;
        let matching = UserMatching {
            search: validate::search(query.q.as_deref())?,
            status: query.status,
            role: query.role,
            ids: None,
        };
        let sort = query.sort.unwrap_or_default();
        let after = query
            .cursor
            .as_deref()
            .map(|cursor| user_cursor(sort, cursor))
            .transpose()?;
        let mut rows = self
            .store
            .list_users(&matching, sort, after.as_ref(), limit + 1, crate::now_ms())
            .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = more
            .then(|| rows.last())
            .flatten()
            .map(|(_, c)| match sort {
                UserSort::Name => encode_cursor(&[&c.sort_key, &c.username]),
                UserSort::LastActive => {
                    encode_cursor(&["last_active", &c.last_active.to_string(), &c.username])
                }
                UserSort::Sessions => encode_cursor(&[
                    "sessions",
                    &c.sessions.to_string(),
                    &c.sort_key,
                    &c.username,
                ]),
            });
        let mut users: Vec<AdminUser> = rows.into_iter().map(|(user, _)| user).collect();
        self.with_providers(&mut users).await?;
        Ok(UserPage { users, next_cursor })
    }

    /// How many users match a search, filter and role, and the count on each chip.
    pub async fn user_counts(&self, query: &UserMatch) -> AppResult<UserCounts> {
        let matching = UserMatching {
            search: validate::search(query.q.as_deref())?,
            status: query.status,
            role: query.role,
            ids: None,
        };
        Ok(self.store.user_counts(&matching, crate::now_ms()).await?)
    }

    /// Fills in the identity providers each user signs in through, by the names their
    /// buttons show (a provider no longer configured keeps its short name).
    pub(crate) async fn with_providers(&self, users: &mut [AdminUser]) -> AppResult<()> {
        let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        for (user_id, provider) in self.store.identities_of(&ids).await? {
            let shown = self
                .oidc
                .providers
                .iter()
                .find(|p| p.config.name == provider)
                .map(|p| p.config.display_name.clone())
                .unwrap_or(provider);
            if let Some(user) = users.iter_mut().find(|u| u.id == user_id) {
                user.providers.push(shown);
            }
        }
        Ok(())
    }

    /// Counts for confirmations; `caller_session` is the session a logout-all spares.
    pub async fn session_summary(&self, caller_session: Uuid) -> AppResult<SessionSummary> {
        Ok(self
            .store
            .session_summary(crate::now_ms(), Some(caller_session))
            .await?)
    }
}

pub(super) fn encode_cursor(parts: &[&str]) -> String {
    let json = serde_json::to_vec(parts).expect("strings serialise");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

pub(super) fn invalid_cursor() -> AppError {
    AppError::bad_request(
        "invalid_cursor",
        "The page cursor is not one this server gave out. Start again from the first page.",
    )
}

/// A users-list cursor, which belongs to one order: another order's is refused.
fn user_cursor(sort: UserSort, cursor: &str) -> AppResult<UserCursor> {
    let parts = cursor_parts(cursor)?;
    let number = |s: &str| s.parse::<i64>().map_err(|_| invalid_cursor());
    match (sort, parts.as_slice()) {
        (UserSort::Name, [sort_key, username]) => Ok(UserCursor {
            sort_key: sort_key.clone(),
            username: username.clone(),
            ..UserCursor::default()
        }),
        (UserSort::LastActive, [tag, at, username]) if tag == "last_active" => Ok(UserCursor {
            last_active: number(at)?,
            username: username.clone(),
            ..UserCursor::default()
        }),
        (UserSort::Sessions, [tag, n, sort_key, username]) if tag == "sessions" => Ok(UserCursor {
            sessions: number(n)?,
            sort_key: sort_key.clone(),
            username: username.clone(),
            ..UserCursor::default()
        }),
        _ => Err(invalid_cursor()),
    }
}

/// The two parts of a cursor this server gave out.
pub(super) fn decode_cursor(cursor: &str) -> Result<Vec<String>, AppError> {
    cursor_parts(cursor)
        .ok()
        .filter(|parts| parts.len() == 2)
        .ok_or_else(invalid_cursor)
}

/// The parts of a cursor this server gave out.
fn cursor_parts(cursor: &str) -> Result<Vec<String>, AppError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Vec<String>>(&bytes).ok())
        // No value this server gives out holds a control character, and PostgreSQL text
        // cannot hold NUL.
        .filter(|parts| !parts.iter().any(|p| p.chars().any(char::is_control)))
        .ok_or_else(invalid_cursor)
}
