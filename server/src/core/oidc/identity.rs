//! Who a provider's user is in Curfew, decided from the verified ID token's claims.
//!
//! Rules: a (provider, subject) already linked is that user; otherwise, with
//! `link_by_email`, the one Curfew user with that email, if the provider says the email is
//! verified (an unverified email links nobody: anyone can type any address at some
//! providers); otherwise, with `create_users`, a new user; otherwise nobody. With a
//! `role_claim`, the role is the highest one the claim's values map to, or member when
//! none does, at every sign-in (so leaving the admins' group demotes at the next one).

use curfew::api::Role;
use serde_json::{Map, Value};

use super::config::ProviderConfig;

/// What a verified ID token says about its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderUser {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    /// The provider's session, for back-channel logout.
    pub sid: Option<String>,
    /// The values of the role claim (a string or a list of strings).
    pub role_values: Vec<String>,
}

impl ProviderUser {
    /// Reads the claims of a token whose signature, issuer, audience, expiry and nonce
    /// were already verified.
    pub fn from_claims(config: &ProviderConfig, claims: &Map<String, Value>) -> Option<Self> {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let role_values = match config.role_claim.as_deref().and_then(|c| claims.get(c)) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(values)) => values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        Some(ProviderUser {
            subject: text("sub")?,
            email: text("email"),
            email_verified: matches!(claims.get("email_verified"), Some(Value::Bool(true)))
                || matches!(claims.get("email_verified"), Some(Value::String(s)) if s == "true"),
            name: text("name"),
            preferred_username: text("preferred_username"),
            sid: text("sid"),
            role_values,
        })
    }

    /// The email that may link this user to a Curfew account, if any.
    pub fn linkable_email(&self, config: &ProviderConfig) -> Option<&str> {
        (config.link_by_email && self.email_verified)
            .then_some(self.email.as_deref())
            .flatten()
    }

    /// The role the provider gives, when roles come from a claim.
    pub fn role(&self, config: &ProviderConfig) -> Option<Role> {
        config.role_claim.as_ref()?;
        let rank = |r: Role| match r {
            Role::Admin => 2,
            Role::Support => 1,
            Role::Member => 0,
        };
        Some(
            self.role_values
                .iter()
                .filter_map(|v| config.roles.get(v).copied())
                .max_by_key(|r| rank(*r))
                .unwrap_or(Role::Member),
        )
    }

    /// The username a new user gets: the verified email, else the preferred username,
    /// else the subject.
    pub fn new_username(&self) -> String {
        self.email
            .clone()
            .filter(|_| self.email_verified)
            .or_else(|| self.preferred_username.clone())
            .unwrap_or_else(|| self.subject.clone())
            .to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use serde_json::json;

    fn config(link: bool) -> ProviderConfig {
        ProviderConfig {
            name: "idp".into(),
            display_name: "IdP".into(),
            issuer: "https://idp.example.org".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            link_by_email: link,
            create_users: false,
            role_claim: Some("groups".into()),
            roles: BTreeMap::from([
                ("admins".to_owned(), Role::Admin),
                ("helpdesk".to_owned(), Role::Support),
            ]),
            rp_logout: false,
            scopes: vec![],
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn roles_map_to_the_highest_and_default_to_member() {
        let c = config(true);
        let user = |groups: Value| {
            ProviderUser::from_claims(&c, &claims(json!({ "sub": "1", "groups": groups }))).unwrap()
        };
        assert_eq!(
            user(json!(["staff", "helpdesk", "admins"])).role(&c),
            Some(Role::Admin)
        );
        assert_eq!(user(json!("helpdesk")).role(&c), Some(Role::Support));
        assert_eq!(
            user(json!(["staff"])).role(&c),
            Some(Role::Member),
            "leaving the group demotes"
        );
        let mut no_claim = c.clone();
        no_claim.role_claim = None;
        assert_eq!(
            user(json!(["admins"])).role(&no_claim),
            None,
            "no claim: the role stays Curfew's"
        );
    }

    #[test]
    fn only_a_verified_email_links_and_only_when_asked() {
        let verified =
            claims(json!({ "sub": "1", "email": "M@example.org", "email_verified": true }));
        let unverified =
            claims(json!({ "sub": "1", "email": "m@example.org", "email_verified": false }));
        let c = config(true);
        assert_eq!(
            ProviderUser::from_claims(&c, &verified)
                .unwrap()
                .linkable_email(&c),
            Some("M@example.org")
        );
        assert_eq!(
            ProviderUser::from_claims(&c, &unverified)
                .unwrap()
                .linkable_email(&c),
            None
        );
        let off = config(false);
        assert_eq!(
            ProviderUser::from_claims(&off, &verified)
                .unwrap()
                .linkable_email(&off),
            None
        );
        assert!(
            ProviderUser::from_claims(&c, &claims(json!({ "email": "x" }))).is_none(),
            "no subject"
        );
    }

    #[test]
    fn new_usernames_prefer_a_verified_email() {
        let c = config(false);
        let u = |v: Value| {
            ProviderUser::from_claims(&c, &claims(v))
                .unwrap()
                .new_username()
        };
        assert_eq!(
            u(
                json!({ "sub": "9", "email": "Ana@Example.org", "email_verified": true, "preferred_username": "ana" })
            ),
            "ana@example.org"
        );
        assert_eq!(
            u(json!({ "sub": "9", "email": "ana@example.org", "preferred_username": "Ana" })),
            "ana"
        );
        assert_eq!(u(json!({ "sub": "AbC9" })), "abc9");
    }
}
