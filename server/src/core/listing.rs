//! What administrators read: pages of users (the audit's are in [`super::audit`]), the counts behind every
//! confirmation, the maintenance windows.
//!
//! Invariant: a page cursor is opaque to clients and only ever one this server gave out;
//! anything else is refused (`invalid_cursor`) before the database sees it.

use base64::Engine;
use curfew::api::{
    AdminUser, SessionSummary,
    UserPage, UserQuery,
};
use uuid::Uuid;

use super::{validate, AppError, AppResult, AppState};
use crate::store::UserCursor;

impl AppState {
    /// A page of users with their live sessions per client, in display-name order.
    pub async fn users_page(&self, query: &UserQuery) -> AppResult<UserPage> {
        let limit = validate::page_limit(query.limit)?;
        let search = validate::search(query.q.as_deref())?;
        let after = match query.cursor.as_deref() {
            Some(cursor) => {
                let mut parts = decode_cursor(cursor)?;
                let username = parts.pop().unwrap_or_default();
                let sort_key = parts.pop().unwrap_or_default();
                Some(UserCursor { sort_key, username })
            }
            None => None,
        };
        let mut rows = self
            .store
            .list_users(
                search.as_deref(),
                query.status,
                after.as_ref(),
                limit + 1,
                crate::now_ms(),
            )
            .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = more
            .then(|| rows.last())
            .flatten()
            .map(|(_, c)| encode_cursor(&[&c.sort_key, &c.username]));
        let mut users: Vec<AdminUser> = rows.into_iter().map(|(user, _)| user).collect();
        self.with_providers(&mut users).await?;
        Ok(UserPage { users, next_cursor })
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

pub(super) fn decode_cursor(cursor: &str) -> Result<Vec<String>, AppError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Vec<String>>(&bytes).ok())
        .filter(|parts| parts.len() == 2)
        // No value this server gives out holds a control character, and PostgreSQL text
        // cannot hold NUL.
        .filter(|parts| !parts.iter().any(|p| p.chars().any(char::is_control)))
        .ok_or_else(|| {
            AppError::bad_request(
                "invalid_cursor",
                "The page cursor is not one this server gave out. Start again from the first page.",
            )
        })
}
