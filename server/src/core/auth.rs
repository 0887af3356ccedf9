//! Signing in and out: who may start a session, and what ending one tells.
//!
//! Rules kept here: a sign-in is throttled per account and per address before any
//! password is hashed; a wrong username and a wrong password look the same (and cost the
//! same, see [`secrets::verify_password`]); a deactivated account cannot sign in; during a
//! maintenance freeze only administrators can; a user keeps at most `sessions_per_user`
//! live sessions, a new one ending the oldest in the same transaction. Every sign-in and
//! every refusal is logged with the username and address (one line, documented in the
//! README for fail2ban) and audited; throttled attempts (429) are logged only, so that an
//! anonymous flood cannot grow the audit.

use std::net::IpAddr;

use curfew::api::{
    AuditAction, ClientKind, LoginRequest, LoginResponse, Notice, RevocationReason, Session,
    UserStatus,
};
use uuid::Uuid;

use super::signal::Signal;
use super::{devices, maintenance, notices, secrets, validate, AppError, AppResult, AppState};
use crate::store::sessions::IdpSession;
use crate::store::{from_millis, Actor, AuditRecord, NewSession, UserRecord};

/// Who tried to sign in, from where: what the log line and the audit entry record.
pub(crate) struct Attempt<'a> {
    /// As typed, folded; attacker-chosen, so logged with escapes (`?`).
    pub username: &'a str,
    pub address: IpAddr,
    pub client: ClientKind,
}

impl AppState {
    /// Checks the credentials and opens a session for `request.client`.
    pub async fn login(
        &self,
        request: LoginRequest,
        address: IpAddr,
        user_agent: Option<&str>,
    ) -> AppResult<LoginResponse> {
        validate::login_fields(&request.username, &request.password)?;
        let device_name = validate::device_name(request.device_name.as_deref())?;
        let username = request.username.trim().to_lowercase();
        if let Err(wait) = self.limiter.check(address, &username) {
            tracing::warn!(username = ?username, %address, client = request.client.as_str(), retry_after = wait, "sign-in throttled");
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
        let attempt = Attempt {
            username: &username,
            address,
            client: request.client,
        };
        let user = match user {
            Some(user) if verified => user,
            other => {
                let user_id = other.map(|u| u.id);
                return Err(self
                    .refused(
                        &attempt,
                        user_id,
                        AppError::unauthorized(
                            "invalid_credentials",
                            "Wrong username or password. Check both and try again.",
                        ),
                    )
                    .await);
            }
        };
        self.may_open_session(&user, &attempt).await?;
        self.open_session(&user, &attempt, user_agent, device_name, None)
            .await
    }

    /// Refuses (logged and audited) a user who proved who they are but may not have a
    /// session now: a deactivated account, or a non-administrator during a freeze.
    pub(crate) async fn may_open_session(
        &self,
        user: &UserRecord,
        attempt: &Attempt<'_>,
    ) -> AppResult<()> {
        if user.status == UserStatus::Deactivated {
            return Err(self
                .refused(
                    attempt,
                    Some(user.id),
                    AppError::forbidden(
                        "account_deactivated",
                        "This account has been deactivated. Ask your administrator to reactivate it.",
                    ),
                )
                .await);
        }
        if let Err(frozen) = maintenance::refuse_if_frozen(self, user.role, crate::now_ms()).await {
            return Err(self.refused(attempt, Some(user.id), frozen).await);
        }
        Ok(())
    }

    /// Opens a session for `user`, who proved who they are (a password here, or the
    /// organisation's identity provider, see [`super::oidc`]): the oldest sessions past
    /// the limit end in the same transaction; the sign-in is logged and audited.
    pub(crate) async fn open_session(
        &self,
        user: &UserRecord,
        attempt: &Attempt<'_>,
        user_agent: Option<&str>,
        device_name: Option<String>,
        idp: Option<IdpSession>,
    ) -> AppResult<LoginResponse> {
        let now = crate::now_ms();
        let (token, token_hash) = secrets::new_token();
        let expires_at = now + self.config.session_ttl.as_millis() as i64;
        let session_id = Uuid::new_v4();
        let ended = self
            .store
            .insert_session(
                &NewSession {
                    id: session_id,
                    user_id: user.id,
                    client: attempt.client,
                    token_hash: &token_hash,
                    at: now,
                    expires_at,
                    address: Some(attempt.address.to_string()),
                    user_agent: user_agent.map(|a| devices::plain(a, devices::USER_AGENT_MAX)),
                    device_name,
                    idp,
                },
                self.config.sessions_per_user,
            )
            .await?;
        tracing::info!(username = ?user.username, address = %attempt.address, client = attempt.client.as_str(), session = %session_id, "signed in");
        let actor = Actor {
            user_id: user.id,
            username: user.username.clone(),
            session_id,
            service_token: false,
        };
        self.record_attempt(attempt, &actor, AuditAction::SignIn, None)
            .await;
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
                username: user.username.clone(),
                display_name: user.display_name.clone(),
                role: user.role,
                client: attempt.client,
                created_at: from_millis(now),
                expires_at: from_millis(expires_at),
            },
        })
    }

    /// Logs and audits a refused sign-in, and gives back the refusal.
    pub(crate) async fn refused(
        &self,
        attempt: &Attempt<'_>,
        user_id: Option<Uuid>,
        error: AppError,
    ) -> AppError {
        let reason = match &error {
            AppError::Client { code, .. } => *code,
            AppError::Internal(_) => return error,
        };
        tracing::warn!(username = ?attempt.username, address = %attempt.address, client = attempt.client.as_str(), reason, "sign-in failed");
        if reason == "invalid_credentials" {
            self.limiter
                .record_failure(attempt.address, attempt.username);
        }
        let actor = Actor {
            user_id: user_id.unwrap_or(Uuid::nil()),
            // What was typed, minus control characters (PostgreSQL text cannot hold NUL).
            username: attempt
                .username
                .chars()
                .filter(|c| !c.is_control())
                .collect(),
            session_id: Uuid::nil(),
            service_token: false,
        };
        self.record_attempt(attempt, &actor, AuditAction::SignInFailed, Some(reason))
            .await;
        error
    }

    /// The audit entry of a sign-in attempt. Best effort: the answer to the client does
    /// not wait on it failing, and a failure is logged.
    async fn record_attempt(
        &self,
        attempt: &Attempt<'_>,
        actor: &Actor,
        action: AuditAction,
        reason: Option<&'static str>,
    ) {
        let record = AuditRecord {
            address: Some(attempt.address.to_string()),
            client: Some(attempt.client),
            reason,
            ..AuditRecord::new(crate::now_ms(), actor, action)
        };
        match self.store.record(&record).await {
            Ok(()) => self.audited(action).await,
            Err(e) => tracing::error!(error = ?e, "could not audit a sign-in attempt"),
        }
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
    /// the time left as of now; a window moved since its users were warned says so, in
    /// the words its move was announced in.
    pub async fn current_notices(&self) -> AppResult<Vec<Notice>> {
        let now = crate::now_ms();
        Ok(self
            .store
            .announced_windows(now)
            .await?
            .into_iter()
            .map(|w| match w.moved_from {
                Some(from) => notices::moved(w.id, &w.message, (w.starts_at, w.ends_at), from, now),
                None => notices::warning(w.id, &w.message, w.starts_at, w.ends_at, now),
            })
            .collect())
    }
}
