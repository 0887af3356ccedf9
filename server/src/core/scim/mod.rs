//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): Okta and Microsoft Entra create, update,
//! deactivate and delete Curfew users, authenticated by a service token with the `scim`
//! scope, and every change is audited under that token's name.
//!
//! Rules kept here: a request is checked whole before anything is written, and written in
//! one transaction ([`crate::store::scim`]); `active: false` deactivates the user and ends
//! every session in that transaction, the audit saying "deprovisioned by <token>"; the
//! same rules as the console's apply (valid usernames and emails, the last active
//! administrator stays); a conditional request (`If-Match`) whose version is stale changes
//! nothing (412). Errors are [`ScimError`]s: SCIM's own shape and `scimType`, which is
//! protocol data, so the status travels with them.

pub mod error;
pub mod filter;
pub mod patch;
pub mod resource;

use curfew::api::{AuditAction, UserStatus};
use curfew::scim::{LIST_RESPONSE, MAX_RESULTS};
use serde_json::{json, Value};
use uuid::Uuid;

use super::signal::Signal;
use super::{accounts, validate, AppState};
pub use crate::store::scim::ScimUserRow;
use crate::store::scim::{ScimChange, ScimQuery, ScimStoreError};
use crate::store::{Actor, NewUser};
pub use error::ScimError;
use resource::Desired;

fn store_error(error: ScimStoreError, desired: &Desired) -> ScimError {
    match error {
        ScimStoreError::UsernameTaken => ScimError::new(
            409,
            Some("uniqueness"),
            format!(
                "A user with the userName {} already exists.",
                desired.username
            ),
        ),
        ScimStoreError::ExternalIdTaken => ScimError::new(
            409,
            Some("uniqueness"),
            format!(
                "Another user already has the externalId {}.",
                desired.external_id.as_deref().unwrap_or_default()
            ),
        ),
        ScimStoreError::LastAdmin => ScimError::new(
            409,
            None,
            "This would leave Curfew with no active administrator. Make another user an \
             administrator first.",
        ),
        ScimStoreError::Database(e) => e.into(),
    }
}

/// The username, display name and email of `desired`, checked as the console checks them.
fn checked(mut desired: Desired) -> Result<Desired, ScimError> {
    let invalid = |m: String| ScimError::invalid_value(m);
    desired.username = validate::normalize_username(&desired.username).map_err(invalid)?;
    desired.display_name = validate::display_name(&desired.display_name).map_err(invalid)?;
    desired.email = desired.email.as_deref().map(accounts::email).transpose()?;
    if let Some(external_id) = &desired.external_id {
        if external_id.is_empty() || external_id.chars().count() > 256 {
            return Err(ScimError::invalid_value(
                "externalId must be from 1 to 256 characters.",
            ));
        }
    }
    if let Some(password) = &desired.password {
        validate::new_password(password).map_err(invalid)?;
    }
    Ok(desired)
}

/// `If-Match`: the version the client last saw; `*` matches any.
fn precondition(if_match: Option<&str>, row: &ScimUserRow) -> Result<(), ScimError> {
    let Some(wanted) = if_match else {
        return Ok(());
    };
    let now = resource::version_of(row);
    let matches = wanted.split(',').map(str::trim).any(|v| {
        v == "*" || v == now || v.trim_start_matches("W/") == now.trim_start_matches("W/")
    });
    if matches {
        Ok(())
    } else {
        Err(ScimError::new(
            412,
            None,
            format!(
                "The user changed since version {wanted}; it is now {now}. Read it again, \
                 then send the change."
            ),
        ))
    }
}

impl AppState {
    /// `GET /Users`: a page of users matching `filter`, SCIM's 1-based `startIndex`.
    pub async fn scim_list(
        &self,
        filter: Option<&str>,
        start_index: Option<i64>,
        count: Option<i64>,
    ) -> Result<Value, ScimError> {
        let query = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(filter) => filter::parse(filter).map_err(|filter::FilterError(detail)| {
                ScimError::new(400, Some("invalidFilter"), detail)
            })?,
            None => ScimQuery::default(),
        };
        let start = start_index.unwrap_or(1).max(1);
        let count = count.unwrap_or(100).clamp(0, MAX_RESULTS as i64);
        let (total, rows) = self.store.scim_users(&query, start - 1, count).await?;
        let resources: Vec<Value> = rows.iter().map(resource::render).collect();
        Ok(json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }))
    }

    pub async fn scim_user(&self, id: &str) -> Result<ScimUserRow, ScimError> {
        let Ok(uuid) = Uuid::parse_str(id) else {
            return Err(ScimError::not_found(id));
        };
        self.store
            .scim_user(uuid)
            .await?
            .ok_or_else(|| ScimError::not_found(id))
    }

    /// `POST /Users`.
    pub async fn scim_create(&self, actor: &Actor, body: &Value) -> Result<ScimUserRow, ScimError> {
        let desired = checked(resource::read(body, None)?)?;
        let password_hash = match &desired.password {
            Some(password) => self.hash(password.clone()).await?,
            None => String::new(),
        };
        let user = NewUser {
            username: desired.username.clone(),
            display_name: desired.display_name.clone(),
            email: desired.email.clone(),
            role: desired.role,
            status: if desired.active {
                UserStatus::Active
            } else {
                UserStatus::Deactivated
            },
            password_hash,
        };
        let id = self
            .store
            .scim_create(
                actor,
                &user,
                desired.external_id.as_deref(),
                crate::now_ms(),
            )
            .await
            .map_err(|e| store_error(e, &desired))?;
        tracing::info!(actor = %actor.username, username = %user.username, "provisioned an account");
        self.users_changed(actor, AuditAction::CreateUser, Some(id), 1, 0)
            .await;
        self.scim_user(&id.to_string()).await
    }

    /// `PUT /Users/{id}`: the body replaces the user.
    pub async fn scim_replace(
        &self,
        actor: &Actor,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<ScimUserRow, ScimError> {
        let row = self.scim_user(id).await?;
        precondition(if_match, &row)?;
        let desired = resource::read(body, Some(&Desired::of(&row)))?;
        self.scim_write(actor, &row, desired).await
    }

    /// `PATCH /Users/{id}`: the operations, applied whole or not at all.
    pub async fn scim_patch(
        &self,
        actor: &Actor,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<ScimUserRow, ScimError> {
        let row = self.scim_user(id).await?;
        precondition(if_match, &row)?;
        let desired = patch::apply(body, Desired::of(&row))?;
        self.scim_write(actor, &row, desired).await
    }

    /// `DELETE /Users/{id}`: as the console's Delete (sessions end, the audit keeps the
    /// username).
    pub async fn scim_delete(
        &self,
        actor: &Actor,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        let row = self.scim_user(id).await?;
        precondition(if_match, &row)?;
        self.delete_user(actor, row.id).await?;
        Ok(())
    }

    /// Writes what changed between `row` and `desired` in one transaction.
    async fn scim_write(
        &self,
        actor: &Actor,
        row: &ScimUserRow,
        desired: Desired,
    ) -> Result<ScimUserRow, ScimError> {
        let desired = checked(desired)?;
        if desired.password.is_some() {
            return Err(ScimError::new(
                400,
                Some("mutability"),
                "Curfew takes a password from the identity provider only when it creates the \
                 user; reset it in Curfew, or have people sign in through the provider.",
            ));
        }
        let before = Desired::of(row);
        let mut change = ScimChange::default();
        let mut what = Vec::new();
        if desired.username != before.username {
            what.push(format!(
                "username {} → {}",
                before.username, desired.username
            ));
            change.username = Some(desired.username.clone());
        }
        if desired.display_name != before.display_name {
            what.push(format!(
                "display name {:?} → {:?}",
                before.display_name, desired.display_name
            ));
            change.display_name = Some(desired.display_name.clone());
        }
        if desired.email != before.email {
            what.push("email".to_owned());
            change.email = Some(desired.email.clone());
        }
        if desired.role != before.role {
            what.push(format!(
                "role {} → {}",
                before.role.as_str(),
                desired.role.as_str()
            ));
            change.role = Some(desired.role);
        }
        if desired.external_id != before.external_id {
            what.push("externalId".to_owned());
            change.external_id = Some(desired.external_id.clone());
        }
        if desired.active != before.active {
            change.status = Some(if desired.active {
                UserStatus::Active
            } else {
                UserStatus::Deactivated
            });
            change.reason = if desired.active {
                format!("reactivated by {}", actor.username)
            } else {
                format!("deprovisioned by {}", actor.username)
            };
        }
        if what.is_empty() && change.status.is_none() {
            return Ok(row.clone());
        }
        change.what = what.join(", ");
        let target = self.target_user(row.id).await?;
        let revoked = self
            .store
            .scim_update(actor, &target, &change, crate::now_ms())
            .await
            .map_err(|e| store_error(e, &desired))?;
        if change.status.is_some() {
            self.publish(Signal::SessionsEnded { user: Some(row.id) })
                .await?;
        }
        if change.role.is_some_and(|r| !r.is_administrator()) && before.role.is_administrator() {
            self.publish(Signal::NoLongerAdministrator { user: row.id })
                .await?;
        }
        tracing::info!(actor = %actor.username, target = %row.username, what = %change.what, status = ?change.status, sessions = revoked, "provisioning changed an account");
        let action = match change.status {
            Some(UserStatus::Deactivated) => AuditAction::Deactivate,
            Some(UserStatus::Active) => AuditAction::Activate,
            None => AuditAction::UpdateUser,
        };
        self.users_changed(actor, action, Some(row.id), 1, revoked)
            .await;
        self.scim_user(&row.id.to_string()).await
    }
}
