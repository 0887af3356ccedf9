//! A Curfew user as a SCIM User resource, both ways: rendered with `meta` (its
//! `version` is a hash of what the resource says, so it changes exactly when the resource
//! does) and read from a POST or PUT body into the user it asks for.
//!
//! What is kept: `userName`, `displayName` (else `name.formatted`, else given and family
//! names), the primary or first email, `active`, `externalId`, the role from
//! `roles[].value` (admin, support or member: the primary one, else the first), and a
//! `password` on creation. Other attributes of the core and enterprise User schemas are
//! accepted and not kept; an attribute of no schema is refused (`invalidSyntax`).

use curfew::api::{Role, UserStatus};
use curfew::scim::{USERS, USER_SCHEMA};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::error::ScimError;
use crate::store::from_millis;
use crate::store::scim::ScimUserRow;

/// The enterprise extension Entra sends (department, manager…): accepted, not kept.
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Core User attributes that are accepted and not kept.
const IGNORED: &[&str] = &[
    "name",
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "phonenumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "x509certificates",
    "meta",
    "id",
];

/// The user a resource asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub active: bool,
    pub external_id: Option<String>,
    pub password: Option<String>,
}

impl Desired {
    pub fn of(row: &ScimUserRow) -> Self {
        Desired {
            username: row.username.clone(),
            display_name: row.display_name.clone(),
            email: row.email.clone(),
            role: row.role,
            active: row.status == UserStatus::Active,
            external_id: row.external_id.clone(),
            password: None,
        }
    }
}

/// The resource, with `meta`, as `GET /Users/{id}` answers it.
pub fn render(row: &ScimUserRow) -> Value {
    let mut resource = json!({
        "schemas": [USER_SCHEMA],
        "id": row.id.to_string(),
        "userName": row.username,
        "displayName": row.display_name,
        "name": { "formatted": row.display_name },
        "active": row.status == UserStatus::Active,
        "roles": [{ "value": row.role.as_str(), "primary": true }],
    });
    if let Some(external_id) = &row.external_id {
        resource["externalId"] = json!(external_id);
    }
    if let Some(email) = &row.email {
        resource["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
    }
    let version = version(&resource);
    resource["meta"] = json!({
        "resourceType": "User",
        "created": from_millis(row.created_at).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "lastModified": from_millis(row.modified_at.max(row.created_at)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "location": format!("{USERS}/{}", row.id),
        "version": version,
    });
    resource
}

/// A weak ETag of what the resource says (without `meta`).
fn version(resource: &Value) -> String {
    let digest = Sha256::digest(resource.to_string().as_bytes());
    format!("W/\"{}\"", hex::encode(&digest[..8]))
}

/// The version `render` gives `row`.
pub fn version_of(row: &ScimUserRow) -> String {
    render(row)["meta"]["version"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A boolean, also as Entra's strings "True" and "False".
pub fn boolean(value: &Value, attribute: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value(format!(
            "{attribute} must be true or false, not {value}."
        ))),
    }
}

pub fn string(value: &Value, attribute: &str) -> Result<String, ScimError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ScimError::invalid_value(format!("{attribute} must be a string.")))
}

/// The primary email of a SCIM `emails` array, else the first; `None` for an empty one.
pub fn email(value: &Value) -> Result<Option<String>, ScimError> {
    let Some(emails) = value.as_array() else {
        return Err(ScimError::invalid_value(
            "emails must be an array of {value, type, primary}.",
        ));
    };
    let primary = emails
        .iter()
        .find(|e| {
            e.get("primary")
                .is_some_and(|p| boolean(p, "primary").unwrap_or(false))
        })
        .or_else(|| emails.first());
    primary
        .map(|e| string(e.get("value").unwrap_or(&Value::Null), "emails.value"))
        .transpose()
}

/// The role of a SCIM `roles` array (the primary, else the first); `None` for none.
pub fn role(value: &Value) -> Result<Option<Role>, ScimError> {
    let Some(roles) = value.as_array() else {
        return Err(ScimError::invalid_value(
            "roles must be an array of {value, primary}.",
        ));
    };
    let chosen = roles
        .iter()
        .find(|r| {
            r.get("primary")
                .is_some_and(|p| boolean(p, "primary").unwrap_or(false))
        })
        .or_else(|| roles.first());
    chosen
        .map(|r| role_value(r.get("value").unwrap_or(r)))
        .transpose()
}

pub fn role_value(value: &Value) -> Result<Role, ScimError> {
    let name = string(value, "roles.value")?.to_ascii_lowercase();
    Role::parse(&name).ok_or_else(|| {
        ScimError::invalid_value(format!(
            "The role {name} is not one of Curfew's: admin, support or member."
        ))
    })
}

/// The user a POST (`base: None`) or PUT (`base`: the user now) body asks for. A PUT
/// replaces what the body names and clears `emails` and `externalId` when absent; the
/// role and `active` stay when absent (a PUT that forgot them must not demote or
/// deactivate anyone).
pub fn read(body: &Value, base: Option<&Desired>) -> Result<Desired, ScimError> {
    let Some(object) = body.as_object() else {
        return Err(ScimError::invalid_syntax(
            "The body must be a SCIM User object.",
        ));
    };
    check_schemas(object)?;
    let get = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    for key in object.keys() {
        let lower = key.to_ascii_lowercase();
        let known = matches!(
            lower.as_str(),
            "schemas"
                | "username"
                | "displayname"
                | "emails"
                | "active"
                | "externalid"
                | "roles"
                | "password"
        ) || IGNORED.contains(&lower.as_str())
            || key.starts_with(ENTERPRISE_SCHEMA);
        if !known {
            return Err(ScimError::invalid_syntax(format!(
                "The attribute {key} is not part of the User schema Curfew supports (see \
                 /scim/v2/Schemas)."
            )));
        }
    }
    let username = match get("userName") {
        Some(v) => string(v, "userName")?,
        None => {
            return Err(ScimError::invalid_value(
                "userName is required: the name the person signs in with.",
            ))
        }
    };
    let display_name = match get("displayName").filter(|v| !v.is_null()) {
        Some(v) => string(v, "displayName")?,
        None => name_in_words(get("name")).unwrap_or_else(|| username.clone()),
    };
    let email = match get("emails").filter(|v| !v.is_null()) {
        Some(v) => email(v)?,
        None => None,
    };
    let role = match get("roles").filter(|v| !v.is_null()) {
        Some(v) => role(v)?.or(base.map(|b| b.role)).unwrap_or(Role::Member),
        None => base.map(|b| b.role).unwrap_or(Role::Member),
    };
    let active = match get("active").filter(|v| !v.is_null()) {
        Some(v) => boolean(v, "active")?,
        None => base.map(|b| b.active).unwrap_or(true),
    };
    let external_id = get("externalId")
        .filter(|v| !v.is_null())
        .map(|v| string(v, "externalId"))
        .transpose()?;
    let password = get("password")
        .filter(|v| !v.is_null())
        .map(|v| string(v, "password"))
        .transpose()?;
    Ok(Desired {
        username,
        display_name,
        email,
        role,
        active,
        external_id,
        password,
    })
}

/// `name.formatted`, else "given family".
pub fn name_in_words(name: Option<&Value>) -> Option<String> {
    let name = name?.as_object()?;
    let part = |k: &str| {
        name.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if let Some(formatted) = part("formatted") {
        return Some(formatted.to_owned());
    }
    let words: Vec<&str> = [part("givenName"), part("familyName")]
        .into_iter()
        .flatten()
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// A body's `schemas`, when present, must name the User schema.
fn check_schemas(object: &Map<String, Value>) -> Result<(), ScimError> {
    match object.get("schemas") {
        None => Ok(()),
        Some(Value::Array(schemas)) if schemas.iter().any(|s| s == USER_SCHEMA) => Ok(()),
        Some(_) => Err(ScimError::invalid_syntax(format!(
            "schemas must include {USER_SCHEMA}."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_okta_create_reads_whole() {
        let body = json!({
            "schemas": [USER_SCHEMA],
            "userName": "maria@example.org",
            "name": { "givenName": "Maria", "familyName": "Chen" },
            "emails": [{ "primary": true, "value": "maria@example.org", "type": "work" }],
            "displayName": "Maria Chen",
            "locale": "en-US",
            "externalId": "00u1abcd",
            "groups": [],
            "password": "a long enough password",
            "active": true
        });
        let desired = read(&body, None).unwrap();
        assert_eq!(desired.username, "maria@example.org");
        assert_eq!(desired.display_name, "Maria Chen");
        assert_eq!(desired.email.as_deref(), Some("maria@example.org"));
        assert_eq!(desired.role, Role::Member);
        assert!(desired.active);
        assert_eq!(desired.external_id.as_deref(), Some("00u1abcd"));
    }

    #[test]
    fn names_fall_back_and_unknown_attributes_are_refused() {
        let body = json!({ "userName": "x", "name": { "givenName": "Ana", "familyName": "Lima" }, "active": "False" });
        let desired = read(&body, None).unwrap();
        assert_eq!(desired.display_name, "Ana Lima");
        assert!(!desired.active);
        let err = read(&json!({ "userName": "x", "favouriteColour": "blue" }), None).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidSyntax"));
        assert!(err.detail.contains("favouriteColour"));
        let err = read(
            &json!({ "userName": "x", "roles": [{ "value": "root" }] }),
            None,
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some("invalidValue"));
    }
}
