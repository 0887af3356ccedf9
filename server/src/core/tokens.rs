//! Service tokens: who may make them, what they open, and how they are checked.
//!
//! Invariants: a token is `cft_` and 256 random bits, answered once and stored only as its
//! SHA-256; it authenticates only the administrator routes its scopes open
//! (`curfew::api::tokens::scope_for`), never the end users' routes, the desktop app's
//! event stream or the tokens themselves; a revoked or expired token is refused at its
//! very next request; its last use is written at most once a minute (or when its address
//! changes), so checks stay reads; everything it changes is audited under its name.

use std::collections::BTreeSet;
use std::net::IpAddr;

use curfew::api::tokens::{scope_for, SERVICE_TOKEN_PREFIX, TOKEN_EXPIRY_DAYS_MAX, TOKEN_NAME_MAX};
use curfew::api::{
    AuditAction, CreatedServiceToken, NewServiceToken, Role, ServiceToken, ServiceTokenList,
    TokenScope,
};
use curfew::routes::Route;
use uuid::Uuid;

use super::caller::{not_for_people, Caller, TOUCH_EVERY_MS};
use super::secrets::{hash_token, new_token};
use super::{AppError, AppResult, AppState};
use crate::store::{from_millis, Actor, NewServiceTokenRow, TokenStoreError};

/// A token's name: 1 to 64 of letters, digits, spaces and `. _ - @`, not starting with a
/// space or ending with one (the OpenAPI pattern says the same).
pub fn valid_name(name: &str) -> Result<&str, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '@');
    if name.is_empty() || name.chars().count() > TOKEN_NAME_MAX {
        return Err(format!(
            "A token's name is 1 to {TOKEN_NAME_MAX} characters; give it a name that says \
             what uses it (\"nightly logout\")."
        ));
    }
    if !name.chars().all(allowed)
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || name.ends_with(' ')
    {
        return Err(
            "A token's name may contain letters, digits, spaces and . _ - @, and starts with \
             a letter or a digit."
                .into(),
        );
    }
    Ok(name)
}

impl Caller {
    /// Whether this caller may call `route` (the route the request matched, if any). A
    /// person's session passes here (their role is checked by the route's extractor); a
    /// service token needs the scope the route names, and routes without one refuse it.
    pub fn permit_route(&self, route: Option<Route>) -> AppResult<()> {
        let Some(scopes) = &self.scopes else {
            return Ok(());
        };
        let Some(needed) = route.and_then(scope_for) else {
            return Err(not_for_people());
        };
        if scopes.contains(&needed) {
            return Ok(());
        }
        Err(AppError::forbidden(
            "missing_scope",
            format!(
                "The service token {} does not have the {} scope this route needs. Make a \
                 token with that scope (Settings › Service tokens, or curfewd token create).",
                self.username,
                needed.as_str()
            ),
        ))
    }
}

impl AppState {
    /// The caller of a request to `route` (the contract's route it matched, if any): a
    /// person's session, or a service token whose scopes open that route.
    pub async fn authenticate_for_route(
        &self,
        token: &str,
        address: Option<IpAddr>,
        route: Option<Route>,
    ) -> AppResult<Caller> {
        if !token.starts_with(SERVICE_TOKEN_PREFIX) {
            return self.authenticate(token, address).await;
        }
        let caller = self.authenticate_service_token(token, address).await?;
        caller.permit_route(route)?;
        Ok(caller)
    }

    /// The service token `token`, if it is live and has `scope`: for routes outside the
    /// contract (SCIM), which only service tokens may call.
    pub async fn authenticate_with_scope(
        &self,
        token: &str,
        address: Option<IpAddr>,
        scope: TokenScope,
    ) -> AppResult<Caller> {
        if !token.starts_with(SERVICE_TOKEN_PREFIX) {
            return Err(AppError::unauthorized(
                "service_token_required",
                format!(
                    "This route takes a service token with the {} scope, not a person's \
                     sign-in. Make one in Settings › Service tokens or with curfewd token create.",
                    scope.as_str()
                ),
            ));
        }
        let caller = self.authenticate_service_token(token, address).await?;
        if caller.scopes.as_ref().is_some_and(|s| s.contains(&scope)) {
            return Ok(caller);
        }
        Err(AppError::forbidden(
            "missing_scope",
            format!(
                "The service token {} does not have the {} scope this route needs. Make a \
                 token with that scope (Settings › Service tokens, or curfewd token create).",
                caller.username,
                scope.as_str()
            ),
        ))
    }

    /// The service token `token` is, if it is live; 401 with why it is not.
    async fn authenticate_service_token(
        &self,
        token: &str,
        address: Option<IpAddr>,
    ) -> AppResult<Caller> {
        let record = if token.len() > 256 {
            None
        } else {
            self.store.service_token_by_hash(&hash_token(token)).await?
        };
        let Some(record) = record else {
            return Err(AppError::unauthorized(
                "invalid_token",
                "This service token is not known to the server. Check that it was copied \
                 whole, or make a new one.",
            ));
        };
        let now = crate::now_ms();
        if let Some(at) = record.revoked_at {
            return Err(AppError::unauthorized(
                "token_revoked",
                format!(
                    "The service token {} was revoked on {}. Make a new one and give it to \
                     the script.",
                    record.name,
                    from_millis(at).format("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
        if let Some(at) = record.expires_at.filter(|at| *at <= now) {
            return Err(AppError::unauthorized(
                "token_expired",
                format!(
                    "The service token {} expired on {}. Make a new one and give it to the \
                     script.",
                    record.name,
                    from_millis(at).format("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
        let address = address.map(|a| a.to_string());
        let moved = address.is_some() && address != record.last_used_address;
        let stale = record
            .last_used_at
            .is_none_or(|at| now - at >= TOUCH_EVERY_MS);
        if moved || stale {
            let store = self.store.clone();
            let id = record.id;
            tokio::spawn(async move {
                if let Err(e) = store.touch_service_token(id, now, address).await {
                    tracing::warn!(error = ?e, "could not record service token use");
                }
            });
        }
        Ok(Caller {
            session_id: record.id,
            user_id: record.id,
            username: record.name.clone(),
            display_name: record.name,
            email: None,
            role: Role::Member,
            client: curfew::api::ClientKind::App,
            created_at: now,
            expires_at: record.expires_at.unwrap_or(i64::MAX),
            scopes: Some(record.scopes),
        })
    }

    /// Makes a token; the answer holds the token, which is never shown again.
    pub async fn create_service_token(
        &self,
        actor: &Actor,
        request: &NewServiceToken,
    ) -> AppResult<CreatedServiceToken> {
        let name = valid_name(&request.name)
            .map_err(|m| AppError::bad_request("invalid_name", m))?
            .to_owned();
        if request.scopes.is_empty() {
            return Err(AppError::bad_request(
                "invalid_scopes",
                "Give the token at least one scope: scim, read, force_logout or maintenance.",
            ));
        }
        let unique: BTreeSet<TokenScope> = request.scopes.iter().copied().collect();
        if unique.len() != request.scopes.len() {
            return Err(AppError::bad_request(
                "invalid_scopes",
                "A scope is listed twice; list each scope once.",
            ));
        }
        let now = crate::now_ms();
        let expires_at = match request.expires_in_days {
            None => None,
            Some(days) if (1..=TOKEN_EXPIRY_DAYS_MAX).contains(&days) => {
                Some(now + i64::from(days) * 86_400_000)
            }
            Some(_) => {
                return Err(AppError::bad_request(
                    "invalid_expiry",
                    format!(
                        "expires_in_days is 1 to {TOKEN_EXPIRY_DAYS_MAX}; leave it out for a \
                         token that works until it is revoked."
                    ),
                ))
            }
        };
        let (secret, token_hash) = new_token();
        let token = format!("{SERVICE_TOKEN_PREFIX}{secret}");
        let token_hash = {
            drop(token_hash);
            hash_token(&token)
        };
        let row = NewServiceTokenRow {
            id: Uuid::new_v4(),
            name: name.clone(),
            token_hash,
            scopes: unique.into_iter().collect(),
            expires_at,
        };
        let stored = match self.store.insert_service_token(actor, &row, now).await {
            Ok(stored) => stored,
            Err(TokenStoreError::NameTaken(name)) => {
                return Err(AppError::conflict(
                    "token_name_taken",
                    format!(
                        "A service token named {name} exists. Choose another name, or revoke \
                         that token first."
                    ),
                ))
            }
            Err(TokenStoreError::Database(e)) => return Err(e.into()),
        };
        tracing::info!(actor = %actor.username, token = %stored.name, id = %stored.id, "made a service token");
        self.audited(AuditAction::CreateServiceToken).await;
        Ok(CreatedServiceToken {
            token,
            service_token: stored,
        })
    }

    pub async fn service_tokens(&self) -> AppResult<ServiceTokenList> {
        Ok(ServiceTokenList {
            tokens: self.store.service_tokens().await?,
        })
    }

    /// Revokes a token: its next request is refused. Revoking a revoked token changes
    /// nothing and answers it as it is.
    pub async fn revoke_service_token(&self, actor: &Actor, id: Uuid) -> AppResult<ServiceToken> {
        if let Some(token) = self
            .store
            .revoke_service_token(actor, id, crate::now_ms())
            .await?
        {
            tracing::info!(actor = %actor.username, token = %token.name, id = %token.id, "revoked a service token");
            self.audited(AuditAction::RevokeServiceToken).await;
            return Ok(token);
        }
        self.store.service_token(id).await?.ok_or_else(|| {
            AppError::not_found(
                "token_not_found",
                format!("No service token has the id {id}. Refresh the list of tokens."),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_are_plain_text() {
        assert!(valid_name("nightly logout").is_ok());
        assert!(valid_name("okta-scim@acme").is_ok());
        for bad in [
            "",
            " lead",
            "trail ",
            "new\nline",
            "emoji 🙂",
            &"x".repeat(65),
        ] {
            assert!(valid_name(bad).is_err(), "{bad:?}");
        }
    }
}
