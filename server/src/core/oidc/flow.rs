//! The authorization code flow, both legs: sending a browser to the provider (PKCE,
//! `state`, `nonce`, kept server-side and bound to that browser) and taking it back (the
//! code exchanged once, the ID token verified, the person found or refused, a Curfew
//! session opened).

use std::net::IpAddr;

use base64::Engine;
use curfew::api::{AuditAction, ClientKind, LoginResponse, Role, UserStatus};
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    Scope,
};
use serde_json::{Map, Value};

use super::identity::ProviderUser;
use super::runtime::{Oidc, Provider, PENDING_FOR_MS, PENDING_MAX};
use crate::core::auth::Attempt;
use crate::core::secrets::{hash_token, new_token};
use crate::core::{AppError, AppResult, AppState, ErrorKind};
use crate::store::oidc::PendingLogin;
use crate::store::sessions::IdpSession;
use crate::store::{Actor, NewUser, UserRecord};

/// A sign-in sent to the provider: where to send the browser, and the secret its cookie
/// keeps (the callback must bring it back).
pub struct Started {
    pub authorize_url: String,
    pub browser_secret: String,
}

/// A sign-in back from the provider.
pub struct CallbackOutcome {
    pub login: LoginResponse,
    pub return_to: String,
}

fn refused(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::bad_request(code, message)
}

/// The payload of a compact JWT already verified by `openidconnect`, as JSON.
fn payload(jwt: &str) -> Option<Map<String, Value>> {
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl AppState {
    /// Starts a sign-in at `provider`, coming back to `redirect_uri`, then to `rd`.
    pub async fn oidc_start(
        &self,
        provider: &str,
        rd: Option<&str>,
        redirect_uri: &str,
    ) -> AppResult<Started> {
        let provider = self.oidc.provider(provider)?;
        let return_to = self.return_to(rd)?;
        let now = crate::now_ms();
        self.store
            .prune_pending_logins(now - PENDING_FOR_MS)
            .await?;
        if self.store.pending_logins().await? >= PENDING_MAX {
            return Err(AppError::retry(
                ErrorKind::Unavailable,
                "busy",
                "Too many sign-ins are on their way through the identity provider right now. \
                 Try again in a minute.",
                60,
            ));
        }
        let discovered = self.oidc.discovered(provider, false).await?;
        let client = Oidc::rp_client(provider, &discovered, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in provider.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let (browser_secret, browser_hash) = new_token();
        self.store
            .add_pending_login(&PendingLogin {
                state_hash: hash_token(state.secret()),
                browser_hash,
                provider: provider.config.name.clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                return_to,
                created_at: now,
            })
            .await?;
        Ok(Started {
            authorize_url: url.to_string(),
            browser_secret,
        })
    }

    /// Finishes a sign-in: `state` must name a sign-in this browser (`browser_secret`)
    /// started at `provider`, not yet used.
    #[allow(clippy::too_many_arguments)]
    pub async fn oidc_callback(
        &self,
        provider_name: &str,
        code: &str,
        state: &str,
        browser_secret: Option<&str>,
        redirect_uri: &str,
        address: IpAddr,
        user_agent: Option<&str>,
    ) -> AppResult<CallbackOutcome> {
        let provider = self.oidc.provider(provider_name)?;
        let again = "Start again from the sign-in page.";
        let Some(pending) = self.store.take_pending_login(&hash_token(state)).await? else {
            return Err(refused(
                "unknown_state",
                format!("This sign-in link was already used, or has expired. {again}"),
            ));
        };
        let now = crate::now_ms();
        let same_browser = browser_secret.is_some_and(|s| hash_token(s) == pending.browser_hash);
        if pending.provider != provider.config.name || !same_browser {
            return Err(refused(
                "other_browser",
                format!("This sign-in was started in another browser, so it does not sign you in here. {again}"),
            ));
        }
        if now - pending.created_at > PENDING_FOR_MS {
            return Err(refused(
                "expired_state",
                format!("This sign-in took too long. {again}"),
            ));
        }
        let who = self
            .verified_user(provider, code, &pending, redirect_uri)
            .await?;
        let user = self.person_for(provider, &who, address).await?;
        let attempt = Attempt {
            username: &user.username,
            address,
            client: ClientKind::Web,
        };
        self.may_open_session(&user, &attempt).await?;
        let login = self
            .open_session(
                &user,
                &attempt,
                user_agent,
                None,
                Some(IdpSession {
                    provider: provider.config.name.clone(),
                    subject: who.subject.clone(),
                    sid: who.sid.clone(),
                }),
            )
            .await?;
        Ok(CallbackOutcome {
            login,
            return_to: pending.return_to,
        })
    }

    /// Exchanges the code and verifies the ID token (keys fetched again once when the
    /// token names one not known yet).
    async fn verified_user(
        &self,
        provider: &Provider,
        code: &str,
        pending: &PendingLogin,
        redirect_uri: &str,
    ) -> AppResult<ProviderUser> {
        let name = &provider.config.display_name;
        let failed = |what: String| {
            tracing::warn!(provider = %provider.config.name, error = %what, "sign-in through the identity provider failed");
            // The library's reason goes to the log; the person reads one plain sentence.
            AppError::new(
                ErrorKind::Unauthenticated,
                "provider_refused",
                format!("Curfew could not confirm with {name} who you are. Start again from the sign-in page; if it keeps happening, tell your administrator."),
            )
        };
        let discovered = self.oidc.discovered(provider, false).await?;
        let client = Oidc::rp_client(provider, &discovered, redirect_uri)?;
        let http = self.oidc.client();
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| failed(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|e| failed(format!("the code exchange failed: {e}")))?;
        let Some(id_token) = openidconnect::TokenResponse::id_token(&tokens) else {
            return Err(failed("no ID token came back".into()));
        };
        let nonce = Nonce::new(pending.nonce.clone());
        let verified = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(_) => Ok(()),
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                // Perhaps the provider rolled its keys: fetch them again, once.
                let fresh = self.oidc.discovered(provider, true).await?;
                let client = Oidc::rp_client(provider, &fresh, redirect_uri)?;
                let verifier = client.id_token_verifier();
                let checked = id_token
                    .claims(&verifier, &nonce)
                    .map(|_| ())
                    .map_err(|e| failed(format!("the ID token is not valid: {e}")));
                checked
            }
            Err(e) => Err(failed(format!("the ID token is not valid: {e}"))),
        };
        verified?;
        let mut claims =
            payload(&id_token.to_string()).ok_or_else(|| failed("unreadable claims".into()))?;
        let missing = provider
            .config
            .role_claim
            .iter()
            .map(String::as_str)
            .chain(["email"])
            .any(|c| !claims.contains_key(c));
        if missing {
            // Some providers (Okta, oidc-provider by default) keep claims like groups for
            // userinfo only: fill in what the ID token left out, for the same subject.
            if let Some(extra) = self
                .oidc
                .user_info(&discovered, tokens.access_token().secret())
                .await
            {
                if extra.get("sub") == claims.get("sub") {
                    for (name, value) in extra {
                        claims.entry(name).or_insert(value);
                    }
                }
            }
        }
        ProviderUser::from_claims(&provider.config, &claims)
            .ok_or_else(|| failed("the ID token names no subject".into()))
    }

    /// The Curfew user `who` is: linked, linked now by verified email, created, or
    /// refused. With a role claim, the role follows it.
    async fn person_for(
        &self,
        provider: &Provider,
        who: &ProviderUser,
        address: IpAddr,
    ) -> AppResult<UserRecord> {
        let config = &provider.config;
        let actor = Actor {
            user_id: uuid::Uuid::nil(),
            username: format!("{} sign-in", config.display_name),
            session_id: uuid::Uuid::nil(),
            service_token: false,
        };
        let now = crate::now_ms();
        let mut user = match self
            .store
            .user_by_identity(&config.name, &who.subject)
            .await?
        {
            Some(user) => user,
            None => {
                self.link_or_create(provider, who, &actor, address, now)
                    .await?
            }
        };
        if let Some(role) = who.role(config).filter(|r| *r != user.role) {
            let update = curfew::api::UserUpdate {
                role: Some(role),
                ..Default::default()
            };
            match self.update_user(&actor, user.id, &update).await {
                Ok(_) => user.role = role,
                Err(e) => {
                    tracing::warn!(user = %user.username, error = ?e, "the provider's role was not applied")
                }
            }
        }
        Ok(user)
    }

    async fn link_or_create(
        &self,
        provider: &Provider,
        who: &ProviderUser,
        actor: &Actor,
        address: IpAddr,
        now: i64,
    ) -> AppResult<UserRecord> {
        let config = &provider.config;
        if let Some(email) = who.linkable_email(config) {
            let candidates = self.store.users_to_link(&config.name, email).await?;
            if let [user] = candidates.as_slice() {
                self.store
                    .link_identity(&config.name, &who.subject, user.id, now)
                    .await?;
                tracing::info!(provider = %config.name, user = %user.username, "linked a provider account by its verified email");
                return Ok(user.clone());
            }
        }
        if config.create_users {
            let username = crate::core::validate::normalize_username(&who.new_username())
                .map_err(|m| AppError::forbidden("unknown_person", format!("Curfew cannot make an account for you ({m}). Ask your administrator to add you.")))?;
            let user = NewUser {
                username: username.clone(),
                display_name: who.name.clone().unwrap_or_else(|| username.clone()),
                email: who.email.clone().filter(|_| who.email_verified),
                role: who.role(config).unwrap_or(Role::Member),
                status: UserStatus::Active,
                password_hash: String::new(),
            };
            let id = match self.store.create_user(actor, &user, now).await {
                Ok(id) => id,
                Err(crate::store::StoreError::UsernameTaken(name)) => {
                    return Err(AppError::conflict(
                        "username_taken",
                        format!("A Curfew user named {name} exists but is not linked to your {} account. Ask your administrator.", config.display_name),
                    ))
                }
                Err(crate::store::StoreError::Database(e)) => return Err(e.into()),
            };
            self.store
                .link_identity(&config.name, &who.subject, id, now)
                .await?;
            self.users_changed(actor, AuditAction::CreateUser, Some(id), 1, 0)
                .await;
            if let Some(user) = self.store.user_by_username(&username).await? {
                return Ok(user);
            }
        }
        tracing::warn!(provider = %config.name, subject = %who.subject, %address, "an unknown person signed in at the provider");
        Err(AppError::forbidden(
            "unknown_person",
            match who.email.as_deref() {
                Some(email) => format!(
                    "{} knows you as {email}, but Curfew has no account for you yet. Ask your \
                     administrator to add you with that email address.",
                    config.display_name
                ),
                None => format!(
                    "{} knows you, but Curfew has no account for you yet. Ask your \
                     administrator to add you.",
                    config.display_name
                ),
            },
        ))
    }
}
