//! Accounts, as administrators manage them and as users keep their own password.
//!
//! Rules kept here: usernames, names, emails and passwords are checked against the
//! contract's limits before anything is written; nobody can remove the last active
//! administrator (by a role change or a deletion; checked inside the store's transaction);
//! nobody deletes their own account or changes their own role (an administrator who
//! demoted themselves would lose the console mid-task); a role change takes effect at the user's next
//! request, and a demoted administrator's event streams end at once; a password reset
//! signs the user out everywhere unless asked not to, and is never of one's own password
//! (that takes the current one); changing one's own password ends one's other sessions;
//! a generated password is answered once and never stored.

use curfew::api::{
    AdminUser, AuditAction, NewUserRequest, PasswordChange, PasswordReset, PasswordResetResult,
    RevocationReason, UserDeleted, UserStatus, UserUpdate,
};
use rand::Rng;
use uuid::Uuid;

use super::caller::Caller;
use super::signal::Signal;
use super::{secrets, validate, AppError, AppResult, AppState};
use crate::store::{AccountOutcome, Actor, NewUser, StoreError, UserChange};

/// The alphabet of generated passwords: no 0/O, 1/l/I.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A new password to read aloud or paste: four groups of five, about 116 bits.
pub fn generate_password() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..4)
        .map(|_| {
            (0..5)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn bad(code: &'static str) -> impl Fn(String) -> AppError {
    move |message| AppError::bad_request(code, message)
}

/// An email address as far as the server checks it: one `@`, something on each side, no
/// space or control character, at most 254 characters.
pub(crate) fn email(input: &str) -> AppResult<String> {
    let well_formed = input.chars().count() <= curfew::limits::EMAIL_MAX;
    let email = input.trim();
    let well_formed = well_formed
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if !well_formed {
        return Err(AppError::bad_request(
            "invalid_email",
            format!(
                "{email:?} is not an email address: write it as name@example.com, at most {} characters.",
                curfew::limits::EMAIL_MAX
            ),
        ));
    }
    Ok(email.to_owned())
}

pub(crate) fn last_admin() -> AppError {
    AppError::conflict(
        "last_admin",
        "This would leave no active administrator. Make another user an administrator first.",
    )
}

impl AppState {
    /// Hashes a password on the bounded hashing threads.
    pub(crate) async fn hash(&self, password: String) -> AppResult<String> {
        self.hashing
            .run(move || secrets::hash_password(&password))
            .await?
            .map_err(AppError::Internal)
    }

    /// Creates an account; without a password it signs in only through an identity
    /// provider (or once one is set).
    pub async fn create_user(
        &self,
        actor: &Actor,
        request: &NewUserRequest,
    ) -> AppResult<AdminUser> {
        let username =
            validate::normalize_username(&request.username).map_err(bad("invalid_username"))?;
        let display_name =
            validate::display_name(request.display_name.as_deref().unwrap_or(&username))
                .map_err(bad("invalid_display_name"))?;
        let email = request.email.as_deref().map(email).transpose()?;
        let password_hash = match &request.password {
            Some(password) => {
                validate::new_password(password).map_err(bad("invalid_password"))?;
                self.hash(password.clone()).await?
            }
            None => String::new(),
        };
        let user = NewUser {
            username,
            display_name,
            email,
            role: request.role,
            status: UserStatus::Active,
            password_hash,
        };
        let id = match self.store.create_user(actor, &user, crate::now_ms()).await {
            Ok(id) => id,
            Err(StoreError::UsernameTaken(name)) => {
                return Err(AppError::conflict(
                    "username_taken",
                    format!("The username {name} is taken. Choose another one."),
                ))
            }
            Err(StoreError::Database(e)) => return Err(e.into()),
        };
        tracing::info!(actor = %actor.username, username = %user.username, role = user.role.as_str(), "created an account");
        self.users_changed(actor, AuditAction::CreateUser, Some(id), 1, 0)
            .await;
        self.target_user(id).await
    }

    /// Changes an account's display name, email or role.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: Uuid,
        update: &UserUpdate,
    ) -> AppResult<AdminUser> {
        let target = self.target_user(id).await?;
        let mut change = UserChange::default();
        let mut what = Vec::new();
        if let Some(name) = &update.display_name {
            let name = validate::display_name(name).map_err(bad("invalid_display_name"))?;
            if name != target.display_name {
                what.push(format!("display name {:?} → {name:?}", target.display_name));
                change.display_name = Some(name);
            }
        }
        if let Some(new_email) = &update.email {
            let new_email = new_email.as_deref().map(email).transpose()?;
            if new_email != target.email {
                what.push("email".to_owned());
                change.email = Some(new_email);
            }
        }
        if let Some(role) = update.role.filter(|r| *r != target.role) {
            if id == actor.user_id {
                return Err(AppError::conflict(
                    "cannot_change_own_role",
                    "You cannot change your own role; ask another administrator.",
                ));
            }
            what.push(format!("role {} → {}", target.role.as_str(), role.as_str()));
            change.role = Some(role);
        }
        if what.is_empty() {
            return Ok(target);
        }
        let what = what.join(", ");
        match self
            .store
            .update_user(actor, &target, &change, &what, crate::now_ms())
            .await?
        {
            AccountOutcome::Done(()) => {}
            AccountOutcome::LastAdmin => return Err(last_admin()),
        }
        if change.role.is_some_and(|r| !r.is_administrator()) && target.role.is_administrator() {
            // Refused on admin routes from the next request; its event streams end now.
            self.publish(Signal::NoLongerAdministrator { user: id })
                .await?;
        }
        tracing::info!(actor = %actor.username, target = %target.username, %what, "changed an account");
        self.users_changed(actor, AuditAction::UpdateUser, Some(id), 1, 0)
            .await;
        self.target_user(id).await
    }

    /// Sets a new password (typed, or generated and answered once); signs the user out
    /// everywhere unless `sign_out` is false. The caller's own session stays.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        id: Uuid,
        reset: &PasswordReset,
    ) -> AppResult<PasswordResetResult> {
        if id == actor.user_id {
            // Without the current password, a stolen administrator's token could lock
            // its owner out.
            return Err(AppError::conflict(
                "own_password",
                "Change your own password with your current one (POST /auth/password), not by a reset.",
            ));
        }
        let target = self.target_user(id).await?;
        let (password, generated) = match &reset.password {
            Some(password) => {
                validate::new_password(password).map_err(bad("invalid_password"))?;
                (password.clone(), None)
            }
            None => {
                let password = generate_password();
                (password.clone(), Some(password))
            }
        };
        let hash = self.hash(password).await?;
        let end = reset.sign_out.then_some(Some(actor.session_id));
        let revoked = self
            .store
            .set_password(
                actor,
                &target,
                &hash,
                end,
                AuditAction::ResetPassword,
                crate::now_ms(),
            )
            .await?;
        if revoked > 0 {
            self.publish(Signal::SessionsEnded { user: Some(id) })
                .await?;
        }
        tracing::info!(actor = %actor.username, target = %target.username, sessions = revoked, "reset a password");
        self.users_changed(actor, AuditAction::ResetPassword, Some(id), 1, revoked)
            .await;
        Ok(PasswordResetResult {
            generated_password: generated,
            sessions_revoked: revoked,
        })
    }

    /// Deletes an account and ends its sessions; the audit keeps its username.
    pub async fn delete_user(&self, actor: &Actor, id: Uuid) -> AppResult<UserDeleted> {
        if id == actor.user_id {
            return Err(AppError::conflict(
                "cannot_delete_self",
                "You cannot delete your own account; ask another administrator.",
            ));
        }
        let target = self.target_user(id).await?;
        let now = crate::now_ms();
        let ended = match self.store.delete_user(actor, &target, now).await? {
            AccountOutcome::Done(ended) => ended,
            AccountOutcome::LastAdmin => return Err(last_admin()),
        };
        for session in &ended {
            self.publish(Signal::SessionEnded {
                session: *session,
                reason: RevocationReason::Deleted,
                at: now,
            })
            .await?;
        }
        tracing::info!(actor = %actor.username, target = %target.username, sessions = ended.len(), "deleted an account");
        self.users_changed(
            actor,
            AuditAction::DeleteUser,
            Some(id),
            1,
            ended.len() as i64,
        )
        .await;
        Ok(UserDeleted {
            username: target.username,
            sessions_revoked: ended.len() as i64,
        })
    }

    /// Changes the caller's own password; their other sessions end. A wrong current
    /// password counts as a failed sign-in of the account.
    pub async fn change_own_password(
        &self,
        caller: &Caller,
        change: &PasswordChange,
        address: std::net::IpAddr,
    ) -> AppResult<()> {
        if let Err(wait) = self.limiter.check(address, &caller.username) {
            return Err(AppError::rate_limited(
                wait,
                format!(
                    "Too many wrong passwords for this account. Wait {wait} seconds and try again."
                ),
            ));
        }
        let stored = self
            .store
            .user_by_username(&caller.username)
            .await?
            .map(|u| u.password_hash);
        let stored = stored.filter(|h| !h.is_empty());
        if !self
            .hashing
            .verify(change.current_password.clone(), stored)
            .await?
        {
            self.limiter.record_failure(address, &caller.username);
            return Err(AppError::forbidden(
                "wrong_password",
                "The current password is not right. Type it again.",
            ));
        }
        validate::new_password(&change.new_password).map_err(bad("invalid_password"))?;
        let target = self.target_user(caller.user_id).await?;
        let hash = self.hash(change.new_password.clone()).await?;
        let actor = caller.actor();
        let revoked = self
            .store
            .set_password(
                &actor,
                &target,
                &hash,
                Some(Some(caller.session_id)),
                AuditAction::ChangePassword,
                crate::now_ms(),
            )
            .await?;
        if revoked > 0 {
            self.publish(Signal::SessionsEnded {
                user: Some(caller.user_id),
            })
            .await?;
        }
        tracing::info!(username = %caller.username, sessions = revoked, "changed their own password");
        self.audited(AuditAction::ChangePassword).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_unambiguous() {
        let a = generate_password();
        assert_eq!(a.len(), 23);
        assert!(a.chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        assert_ne!(a, generate_password());
    }

    #[test]
    fn emails_are_checked_loosely_but_surely() {
        assert_eq!(email(" ann@example.com ").unwrap(), "ann@example.com");
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "a n@example.com",
            "a@b@c.d",
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
        assert!(email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
