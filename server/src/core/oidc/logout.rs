//! OpenID Connect Back-Channel Logout 1.0: the provider posts a signed logout token and
//! the Curfew sessions of that provider session (its `sid`), or of that user (`sub`), end
//! at once, their open pages told. And RP-initiated logout: where to send a browser that
//! signed out of Curfew so it signs out at the provider too.
//!
//! A logout token is accepted only when signed by a key of the provider (asymmetric
//! algorithms only), for this client, from this issuer, recent, with the back-channel
//! logout event, a `sid` or `sub`, no `nonce`, and a `jti` not seen before.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use uuid::Uuid;

use super::runtime::{Discovered, Provider};
use crate::core::signal::Signal;
use crate::core::{AppError, AppResult, AppState};

pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Logout tokens older than this are refused (clocks differ a little).
const MAX_AGE_SECS: i64 = 300;
/// Recent `jti`s remembered against replays.
const SEEN_MAX: usize = 10_000;

#[derive(Debug, Deserialize)]
pub struct LogoutClaims {
    pub sub: Option<String>,
    pub sid: Option<String>,
    pub iat: i64,
    pub jti: Option<String>,
    #[serde(default)]
    pub events: HashMap<String, serde_json::Value>,
    pub nonce: Option<serde_json::Value>,
}

fn invalid(why: impl std::fmt::Display) -> AppError {
    AppError::bad_request(
        "invalid_logout_token",
        format!("The logout token was refused: {why}."),
    )
}

/// Verifies `token` against `discovered`'s keys for `provider`; `Err(None)` when no key
/// matches (the caller may fetch the keys again).
pub fn verify(
    token: &str,
    provider: &Provider,
    discovered: &Discovered,
    now: i64,
) -> Result<LogoutClaims, Option<AppError>> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| Some(invalid(e)))?;
    let asymmetric = matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::EdDSA
    );
    if !asymmetric {
        return Err(Some(invalid(format!(
            "{:?} is not an algorithm Curfew accepts",
            header.alg
        ))));
    }
    let jwk = match &header.kid {
        Some(kid) => discovered.keys.find(kid),
        None if discovered.keys.keys.len() == 1 => discovered.keys.keys.first(),
        None => None,
    };
    let Some(jwk) = jwk else {
        return Err(None);
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| Some(invalid(e)))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[discovered.metadata.issuer().as_str()]);
    validation.set_audience(&[&provider.config.client_id]);
    validation.set_required_spec_claims(&["iss", "aud", "iat"]);
    validation.leeway = 60;
    // The spec makes exp optional in older drafts; when present it is checked.
    validation.validate_exp = true;
    let claims = jsonwebtoken::decode::<LogoutClaims>(token, &key, &validation)
        .map_err(|e| Some(invalid(e)))?
        .claims;
    if !claims.events.contains_key(LOGOUT_EVENT) {
        return Err(Some(invalid("it is not a back-channel logout event")));
    }
    if claims.nonce.is_some() {
        return Err(Some(invalid(
            "it carries a nonce, so it is an ID token, not a logout token",
        )));
    }
    if claims.sid.is_none() && claims.sub.is_none() {
        return Err(Some(invalid(
            "it names neither a session (sid) nor a user (sub)",
        )));
    }
    if (now / 1000 - claims.iat).abs() > MAX_AGE_SECS {
        return Err(Some(invalid("it is too old")));
    }
    Ok(claims)
}

impl AppState {
    /// Ends the sessions a provider's logout token names; returns how many users.
    pub async fn backchannel_logout(&self, provider_name: &str, token: &str) -> AppResult<usize> {
        let provider = self.oidc.provider(provider_name)?;
        // Not even a JWT: refused before anything reaches out to the provider.
        jsonwebtoken::decode_header(token).map_err(invalid)?;
        let now = crate::now_ms();
        let discovered = self.oidc.discovered(provider, false).await?;
        let claims = match verify(token, provider, &discovered, now) {
            Ok(claims) => claims,
            Err(Some(refused)) => return Err(refused),
            Err(None) => {
                let fresh = self.oidc.discovered(provider, true).await?;
                verify(token, provider, &fresh, now)
                    .map_err(|e| e.unwrap_or_else(|| invalid("no key of the provider signed it")))?
            }
        };
        if let Some(jti) = &claims.jti {
            let mut seen = self
                .oidc
                .seen_logouts
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if seen.contains(jti) {
                return Err(invalid("it was already used"));
            }
            if seen.len() >= SEEN_MAX {
                seen.pop_front();
            }
            seen.push_back(jti.clone());
        }
        let users = self
            .store
            .end_provider_sessions(
                &provider.config.name,
                claims.sid.as_deref(),
                claims.sub.as_deref(),
                now,
            )
            .await?;
        for user in &users {
            self.publish(Signal::SessionsEnded { user: Some(*user) })
                .await?;
        }
        tracing::info!(provider = %provider.config.name, sid = ?claims.sid, users = users.len(), "the identity provider ended sessions");
        Ok(users.len())
    }

    /// The provider's name and where to send a browser whose gate session `session_id` ended, to sign out at its
    /// provider too (when that provider has `rp_logout` and an end-session endpoint).
    pub async fn provider_sign_out_url(
        &self,
        session_id: Uuid,
        post_logout_redirect: &str,
    ) -> AppResult<Option<(String, String)>> {
        let Some(name) = self.store.session_provider(session_id).await? else {
            return Ok(None);
        };
        let Ok(provider) = self.oidc.provider(&name) else {
            return Ok(None);
        };
        if !provider.config.rp_logout {
            return Ok(None);
        }
        let discovered = self.oidc.discovered(provider, false).await?;
        let Some(endpoint) = discovered
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()
        else {
            return Ok(None);
        };
        let mut request = openidconnect::LogoutRequest::from(endpoint).set_client_id(
            openidconnect::ClientId::new(provider.config.client_id.clone()),
        );
        if let Ok(back) = openidconnect::PostLogoutRedirectUrl::new(post_logout_redirect.to_owned())
        {
            request = request.set_post_logout_redirect_uri(back);
        }
        Ok(Some((
            provider.config.display_name.clone(),
            request.http_get_url().to_string(),
        )))
    }
}
