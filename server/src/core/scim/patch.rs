//! SCIM PATCH (RFC 7644 §3.5.2) as Okta and Entra send it, applied to the user it
//! changes. Every operation is checked before anything is written: the result is one
//! whole user, which the store writes in one transaction, or a refusal and no change.
//!
//! Forms handled: `replace` with a path (`active`, `userName`, `displayName`,
//! `externalId`, `name.formatted`, `emails[type eq "work"].value`, `roles`…) and without
//! one (Okta's `{"op": "replace", "value": {"active": false}}`); `add` like `replace`;
//! `remove` of what may be absent; Entra's capitalised op names and string booleans.

use curfew::api::Role;
use curfew::scim::{MAX_OPERATIONS, PATCH_OP, USER_SCHEMA};
use serde_json::Value;

use super::error::ScimError;
use super::resource::{self, Desired, ENTERPRISE_SCHEMA};

/// `user` after the operations of a PatchOp `body`.
pub fn apply(body: &Value, mut user: Desired) -> Result<Desired, ScimError> {
    let schemas_ok = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|s| s == PATCH_OP));
    if !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "A PATCH body is a PatchOp: schemas must include {PATCH_OP}."
        )));
    }
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("A PatchOp needs an Operations array."))?;
    if operations.is_empty() || operations.len() > MAX_OPERATIONS {
        return Err(ScimError::invalid_syntax(format!(
            "A PatchOp carries from 1 to {MAX_OPERATIONS} operations, not {}.",
            operations.len()
        )));
    }
    for operation in operations {
        let op = operation
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let path = operation.get("path").and_then(Value::as_str);
        let value = operation.get("value");
        match (op.as_str(), path) {
            ("add" | "replace", Some(path)) => {
                let value = value.ok_or_else(|| {
                    ScimError::invalid_value(format!("The {op} of {path} has no value."))
                })?;
                set(&mut user, path, value)?;
            }
            ("add" | "replace", None) => {
                let Some(object) = value.and_then(Value::as_object) else {
                    return Err(ScimError::invalid_value(format!(
                        "An {op} without a path needs an object of attributes as its value."
                    )));
                };
                for (path, value) in object {
                    set(&mut user, path, value)?;
                }
            }
            ("remove", Some(path)) => remove(&mut user, path)?,
            ("remove", None) => {
                return Err(ScimError::new(
                    400,
                    Some("noTarget"),
                    "A remove needs a path naming what to remove.",
                ))
            }
            _ => {
                return Err(ScimError::invalid_syntax(format!(
                    "The operation {op:?} is not add, replace or remove."
                )))
            }
        }
    }
    Ok(user)
}

/// The attribute a path names, lower case, without the User schema's URN.
fn attribute(path: &str) -> String {
    path.strip_prefix(USER_SCHEMA)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(path)
        .to_ascii_lowercase()
}

fn ignored(path: &str, lower: &str) -> bool {
    path.starts_with(ENTERPRISE_SCHEMA)
        || lower.starts_with("name.")
        || matches!(
            lower.split(['.', '[']).next().unwrap_or_default(),
            "name"
                | "nickname"
                | "title"
                | "locale"
                | "timezone"
                | "preferredlanguage"
                | "usertype"
                | "phonenumbers"
                | "addresses"
                | "groups"
                | "photos"
                | "ims"
                | "entitlements"
                | "profileurl"
        )
}

fn unknown(path: &str) -> ScimError {
    ScimError::new(
        400,
        Some("invalidPath"),
        format!("The path {path} is not an attribute Curfew supports (see /scim/v2/Schemas)."),
    )
}

fn set(user: &mut Desired, path: &str, value: &Value) -> Result<(), ScimError> {
    let lower = attribute(path);
    match lower.as_str() {
        "active" => user.active = resource::boolean(value, "active")?,
        "username" => user.username = resource::string(value, "userName")?,
        "displayname" => user.display_name = resource::string(value, "displayName")?,
        "externalid" => user.external_id = Some(resource::string(value, "externalId")?),
        "password" => user.password = Some(resource::string(value, "password")?),
        "name.formatted" => user.display_name = resource::string(value, "name.formatted")?,
        "name" => {
            if let Some(words) = resource::name_in_words(Some(value)) {
                user.display_name = words;
            }
        }
        "emails" => {
            // `add` of one email object is common too.
            let list = if value.is_object() {
                Value::Array(vec![value.clone()])
            } else {
                value.clone()
            };
            if let Some(email) = resource::email(&list)? {
                user.email = Some(email);
            }
        }
        p if p.starts_with("emails[") && p.ends_with("].value") => {
            user.email = Some(resource::string(value, path)?)
        }
        "roles" => {
            let list = if value.is_object() {
                Value::Array(vec![value.clone()])
            } else {
                value.clone()
            };
            if let Some(role) = resource::role(&list)? {
                user.role = role;
            }
        }
        p if p.starts_with("roles[") && p.ends_with("].value") => {
            user.role = resource::role_value(value)?
        }
        "schemas" | "id" | "meta" => {}
        _ if ignored(path, &lower) => {}
        _ => return Err(unknown(path)),
    }
    Ok(())
}

fn remove(user: &mut Desired, path: &str) -> Result<(), ScimError> {
    let lower = attribute(path);
    match lower.as_str() {
        "externalid" => user.external_id = None,
        "emails" => user.email = None,
        p if p.starts_with("emails[") => user.email = None,
        "displayname" => user.display_name = user.username.clone(),
        "roles" => user.role = Role::Member,
        p if p.starts_with("roles[") => user.role = Role::Member,
        "active" | "username" => {
            return Err(ScimError::new(
                400,
                Some("mutability"),
                format!("{path} is required and cannot be removed; replace it instead."),
            ))
        }
        _ if ignored(path, &lower) => {}
        _ => return Err(unknown(path)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn maria() -> Desired {
        Desired {
            username: "maria".into(),
            display_name: "Maria".into(),
            email: Some("maria@example.org".into()),
            role: Role::Member,
            active: true,
            external_id: Some("00u1".into()),
            password: None,
        }
    }

    fn patch(operations: Value) -> Value {
        json!({ "schemas": [PATCH_OP], "Operations": operations })
    }

    #[test]
    fn oktas_deactivation_without_a_path_and_entras_with_a_string() {
        let okta = apply(
            &patch(json!([{ "op": "replace", "value": { "active": false } }])),
            maria(),
        )
        .unwrap();
        assert!(!okta.active);
        let entra = apply(
            &patch(json!([{ "op": "Replace", "path": "active", "value": "False" }])),
            maria(),
        )
        .unwrap();
        assert!(!entra.active);
        let back = apply(
            &patch(json!([{ "op": "replace", "path": "active", "value": "True" }])),
            entra,
        )
        .unwrap();
        assert!(back.active);
    }

    #[test]
    fn entras_attribute_updates() {
        let changed = apply(
            &patch(json!([
                { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "m.chen@example.org" },
                { "op": "Replace", "path": "displayName", "value": "Maria Chen" },
                { "op": "Replace", "path": "name.givenName", "value": "Maria" },
                { "op": "Add", "path": "roles", "value": [{ "value": "support", "primary": true }] },
                { "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales" },
                { "op": "Remove", "path": "externalId" }
            ])),
            maria(),
        )
        .unwrap();
        assert_eq!(changed.email.as_deref(), Some("m.chen@example.org"));
        assert_eq!(changed.display_name, "Maria Chen");
        assert_eq!(changed.role, Role::Support);
        assert_eq!(changed.external_id, None);
    }

    #[test]
    fn bad_operations_are_refused_whole() {
        for (operations, scim_type) in [
            (
                json!([{ "op": "replace", "path": "favouriteColour", "value": "x" }]),
                "invalidPath",
            ),
            (
                json!([{ "op": "move", "path": "active", "value": true }]),
                "invalidSyntax",
            ),
            (
                json!([{ "op": "replace", "path": "active", "value": "maybe" }]),
                "invalidValue",
            ),
            (json!([{ "op": "remove" }]), "noTarget"),
            (
                json!([{ "op": "remove", "path": "userName" }]),
                "mutability",
            ),
            (json!([]), "invalidSyntax"),
        ] {
            let err = apply(&patch(operations.clone()), maria()).unwrap_err();
            assert_eq!(
                err.scim_type,
                Some(scim_type),
                "{operations}: {}",
                err.detail
            );
        }
        let err = apply(&json!({ "Operations": [] }), maria()).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidSyntax"));
    }
}
