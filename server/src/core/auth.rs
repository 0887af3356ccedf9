//! Signing in and out: who may start a session, and what ending one tells.
//!
//! Rules kept here: a sign-in is throttled per account and per address before any
//! password is hashed; a wrong username and a wrong password look the same (and cost the
//! same, see [`secrets::verify_password`]); a deactivated account cannot sign in; during a
//! maintenance freeze only administrators can; a user keeps at most `sessions_per_user`
//! live sessions, a new one ending the oldest in the same transaction.

use std::net::IpAddr;

use curfew::api::{LoginRequest, LoginResponse, Notice, RevocationReason, Session, UserStatus};
use uuid::Uuid;

use super::signal::Signal;
use super::{maintenance, notices, secrets, validate, AppError, AppResult, AppState};
use crate::store::from_millis;

impl AppState {
    /// Checks the credentials and opens a session for `request.client`.
    pub async fn login(&self, request: LoginRequest, address: IpAddr) -> AppResult<LoginResponse> {
        validate::login_fields(&request.username, &request.password)?;
        let username = request.username.trim().to_lowercase();
        if let Err(wait) = self.limiter.check(address, &username) {
            return Err(AppError::rate_limited(
                wait,
                format!(
                    "Too many sign-in attempts for this account or from this address. \
                     Wait {wait} seconds and try again."
                ),
            ));
        }
        let user = self.store.user_by_username(&username).await?;
        let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
        let verified = self.hashing.verify(request.password, stored_hash).await?;
        let user = match user {
            Some(user) if verified => user,
            _ => {
                return Err(AppError::unauthorized(
                    "invalid_credentials",
                    "Wrong username or password. Check both and try again.",
                ))
            }
        };
        if user.status == UserStatus::Deactivated {
            return Err(AppError::forbidden(
                "account_deactivated",
                "This account has been deactivated. Ask your administrator to reactivate it.",
            ));
        }
        let now = crate::now_ms();
        maintenance::refuse_if_frozen(self, user.role, now).await?;
        let (token, token_hash) = secrets::new_token();
        let expires_at = now + self.config.session_ttl.as_millis() as i64;
        let (session_id, ended) = self
            .store
            .insert_session(
                user.id,
                request.client,
                &token_hash,
                now,
                expires_at,
                self.config.sessions_per_user,
            )
            .await?;
        tracing::info!(user = %user.username, session = %session_id, client = request.client.as_str(), "signed in");
        if ended > 0 {
            tracing::info!(user = %user.username, sessions = ended, limit = self.config.sessions_per_user, "ended the oldest sessions past the limit");
            self.publish(Signal::SessionsEnded {
                user: Some(user.id),
            })
            .await?;
        }
        Ok(LoginResponse {
            token,
            session: Session {
                id: session_id,
                user_id: user.id,
                username: user.username,
                display_name: user.display_name,
                role: user.role,
                client: request.client,
                created_at: from_millis(now),
                expires_at: from_millis(expires_at),
            },
        })
    }

    /// Ends the caller's own session and tells its open streams.
    pub async fn logout_own(&self, session_id: Uuid) -> AppResult<()> {
        let now = crate::now_ms();
        self.store.end_own_session(session_id, now).await?;
        self.publish(Signal::SessionEnded {
            session: session_id,
            reason: RevocationReason::SignedOut,
            at: now,
        })
        .await?;
        Ok(())
    }

    /// The notices in force now: warnings of windows announced and not yet started, with
    /// the time left as of now.
    pub async fn current_notices(&self) -> AppResult<Vec<Notice>> {
        let now = crate::now_ms();
        Ok(self
            .store
            .announced_windows(now)
            .await?
            .into_iter()
            .map(|(id, message, starts_at, ends_at)| {
                notices::warning(id, &message, starts_at, ends_at, now)
            })
            .collect())
    }
}
