//! Schemas of the constrained fields, built from [`crate::limits`] so that the document
//! states the limits the server enforces. Text is checked after trimming white space
//! (Rust's `char::is_whitespace`, spelled out below so that every regex engine agrees).

use crate::limits::{
    DISPLAY_NAME_MAX, FREEZE_BEFORE_MAX, MESSAGE_MAX, PAGE_MAX, PASSWORD_MAX, PASSWORD_MIN,
    SEARCH_MAX, USERNAME_MAX, WARNINGS_MAX, WARN_BEFORE_MAX,
};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr, Schema};

/// Rust's white space, which `trim` removes.
pub const WHITE_SPACE: &str =
    r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Control characters (Unicode category Cc).
pub const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";

fn visible() -> String {
    format!("[^{CONTROL}{WHITE_SPACE}]")
}

/// Text that, trimmed, is 1 to `max` characters (any number when `None`) with no
/// control character but those in `allowed_controls` (a class body such as `\n`);
/// `optional`: or only white space.
fn trimmed_text(max: Option<usize>, allowed_controls: &str, optional: bool) -> String {
    let inner = if allowed_controls.is_empty() {
        format!("[^{CONTROL}]")
    } else {
        format!("(?:[^{CONTROL}]|[{allowed_controls}])")
    };
    let v = visible();
    let repeat = match max {
        Some(max) => format!("{{0,{}}}", max.saturating_sub(2)),
        None => "*".to_owned(),
    };
    let body = format!("{v}(?:{inner}{repeat}{v})?");
    let body = if optional {
        format!("(?:{body})?")
    } else {
        body
    };
    format!("^[{WHITE_SPACE}]*{body}[{WHITE_SPACE}]*$")
}

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// `LoginRequest.username`.
pub fn login_username() -> Schema {
    string(&format!(
        "1 to {USERNAME_MAX} characters, not only white space. Compared in lower case."
    ))
    .min_length(Some(1))
    .max_length(Some(USERNAME_MAX))
    .pattern(Some(format!("[^{WHITE_SPACE}]")))
    .into()
}

/// `LoginRequest.password`.
pub fn login_password() -> Schema {
    string(&format!(
        "Not empty, at most {PASSWORD_MAX} bytes in UTF-8 (so at most {PASSWORD_MAX} \
         characters; fewer when they are not ASCII)."
    ))
    .min_length(Some(1))
    .max_length(Some(PASSWORD_MAX))
    .into()
}

/// `ClearThrottle.username`.
pub fn throttled_username() -> Schema {
    string("As the throttle list shows it: not only white space, no control character.")
        .pattern(Some(trimmed_text(None, "", false)))
        .into()
}

/// `MaintenanceRequest.message`.
pub fn message() -> Schema {
    string(&format!(
        "What users are told: 1 to {MESSAGE_MAX} characters once white space at either end \
         is trimmed; no control character but line breaks (\\n)."
    ))
    .min_length(Some(1))
    .pattern(Some(trimmed_text(Some(MESSAGE_MAX), r"\n", false)))
    .into()
}

/// `MaintenanceRequest.starts_at`.
pub fn starts_at() -> Schema {
    string(&format!(
        "In the future, at most {} days ({} s) from now (not expressible in JSON Schema; \
         refused with 400 `starts_in_past` or `starts_too_late`).",
        crate::limits::STARTS_AHEAD_MAX / 86400,
        crate::limits::STARTS_AHEAD_MAX
    ))
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
    .into()
}

/// `LoginRequest.device_name`.
pub fn device_name() -> Schema {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .description(Some(format!(
            "The device in the user's words (\"Maria's iPhone\"), shown to administrators \
             beside the session: absent or null, or 1 to {} characters once white space at \
             either end is trimmed, no control character.",
            crate::limits::DEVICE_NAME_MAX
        )))
        .pattern(Some(trimmed_text(
            Some(crate::limits::DEVICE_NAME_MAX),
            "",
            false,
        )))
        .into()
}

/// `MaintenanceRequest.ends_at`.
pub fn ends_at() -> Schema {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .description(Some(format!(
            "Absent or null: the window lasts until an administrator ends it. Otherwise \
             after `starts_at` and at most {} days ({} s) after it (not expressible in JSON \
             Schema; refused with 400 `ends_before_start` or `window_too_long`).",
            crate::limits::WINDOW_LENGTH_MAX / 86400,
            crate::limits::WINDOW_LENGTH_MAX
        )))
        .into()
}

/// `MaintenanceRequest.warn_before`.
pub fn warn_before() -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(1))
                .maximum(Some(WARN_BEFORE_MAX))
                .into(),
        ))
        .max_items(Some(WARNINGS_MAX))
        .description(Some(format!(
            "Seconds before the start at which to warn, each 1 to {WARN_BEFORE_MAX}; at \
             most {WARNINGS_MAX}; default 3600, 900, 300, 60."
        )))
        .into()
}

/// `MaintenanceRequest.freeze_before`.
pub fn freeze_before() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(FREEZE_BEFORE_MAX))
        .description(Some(format!(
            "Seconds before the start from which non-administrators cannot sign in, 0 to \
             {FREEZE_BEFORE_MAX}; default 300."
        )))
        .into()
}

/// `limit` of the users list and the audit.
pub fn page_limit() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(PAGE_MAX))
        .description(Some(format!(
            "1 to {PAGE_MAX}; {} when absent.",
            crate::limits::PAGE_DEFAULT
        )))
        .into()
}

/// `q` of the users list.
pub fn search() -> Schema {
    string(&format!(
        "Case-insensitive substring of the username or the display name: at most \
         {SEARCH_MAX} characters once white space at either end is trimmed, no control \
         character; empty means no search."
    ))
    .pattern(Some(trimmed_text(Some(SEARCH_MAX), "", true)))
    .into()
}

/// `cursor` of the users list and the audit.
pub fn cursor() -> Schema {
    string(
        "The `next_cursor` of the previous page, as this server gave it; any other value \
         is refused with 400 `invalid_cursor` (not expressible in JSON Schema).",
    )
    .into()
}

/// `MaintenanceStep.detail`.
pub fn step_detail() -> Schema {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Object,
            Type::Null,
        ]))
        .description(Some(
            "What the step did (sessions reached or revoked), or why it was skipped; null \
             when there is nothing to tell.",
        ))
        .into()
}

fn nullable_string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .description(Some(description))
}

/// `NewUserRequest.username`: the characters usernames may have, in either case.
pub fn new_username() -> Schema {
    string(&format!(
        "1 to {USERNAME_MAX} of the letters a-z (either case: it is stored in lower case), \
         digits and . _ - @, with white space at either end trimmed."
    ))
    .pattern(Some(format!(
        "^[{WHITE_SPACE}]*[A-Za-z0-9._@-]{{1,{USERNAME_MAX}}}[{WHITE_SPACE}]*$"
    )))
    .into()
}

/// A display name given or changed: absent or null (unchanged, or the username), or 1
/// to 100 characters once trimmed, no control character.
pub fn display_name() -> Schema {
    nullable_string(&format!(
        "Absent or null: unchanged (for a new account, the username). Otherwise 1 to \
         {DISPLAY_NAME_MAX} characters once white space at either end is trimmed, no control \
         character."
    ))
    .pattern(Some(trimmed_text(Some(DISPLAY_NAME_MAX), "", false)))
    .into()
}

/// An email address given or changed.
pub fn email() -> Schema {
    let not = format!("[^{CONTROL}{WHITE_SPACE}@]");
    nullable_string(&format!(
        "Absent: unchanged; null: none. Otherwise name@domain with a dot in the domain, \
         no white space or control character inside, at most {} characters.",
        crate::limits::EMAIL_MAX
    ))
    .max_length(Some(crate::limits::EMAIL_MAX))
    .pattern(Some(format!(
        "^[{WHITE_SPACE}]*{not}+@{not}*\\.{not}*[{WHITE_SPACE}]*$"
    )))
    .into()
}

/// A new password (set by an administrator, or one's own).
pub fn new_password() -> Schema {
    string(&format!(
        "At least {PASSWORD_MIN} characters and at most {PASSWORD_MAX} bytes in UTF-8."
    ))
    .min_length(Some(PASSWORD_MIN))
    .max_length(Some(PASSWORD_MAX))
    .into()
}

/// `PasswordReset.password`: absent or null for a generated one.
pub fn reset_password() -> Schema {
    nullable_string(&format!(
        "Absent or null: the server generates one and answers it once. Otherwise at least \
         {PASSWORD_MIN} characters and at most {PASSWORD_MAX} bytes in UTF-8."
    ))
    .min_length(Some(PASSWORD_MIN))
    .max_length(Some(PASSWORD_MAX))
    .into()
}

/// `NewUserRequest.password`: absent or null for an account without a password.
pub fn account_password() -> Schema {
    nullable_string(&format!(
        "Absent or null: no password (the account signs in only through an identity \
         provider). Otherwise at least {PASSWORD_MIN} characters and at most {PASSWORD_MAX} \
         bytes in UTF-8."
    ))
    .min_length(Some(PASSWORD_MIN))
    .max_length(Some(PASSWORD_MAX))
    .into()
}

/// `NewServiceToken.name`.
pub fn token_name() -> Schema {
    use super::tokens::TOKEN_NAME_MAX;
    string(&format!(
        "1 to {TOKEN_NAME_MAX} of the letters, digits, spaces and . _ - @, starting and \
         ending with a letter or digit or . _ - @; unique among tokens not revoked."
    ))
    .pattern(Some(format!(
        "^[A-Za-z0-9](?:[A-Za-z0-9 ._@-]{{0,{}}}[A-Za-z0-9._@-])?$",
        TOKEN_NAME_MAX - 2
    )))
    .into()
}

/// `NewServiceToken.scopes`.
pub fn token_scopes() -> Schema {
    let names: Vec<&str> = super::TokenScope::ALL.iter().map(|s| s.as_str()).collect();
    ArrayBuilder::new()
        .items(RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names))
                .into(),
        ))
        .min_items(Some(1))
        .unique_items(true)
        .description(Some(
            "What the token may do, at least one, each once: scim, read, force_logout, \
             maintenance.",
        ))
        .into()
}

/// `NewServiceToken.expires_in_days`.
pub fn token_expiry() -> Schema {
    use super::tokens::TOKEN_EXPIRY_DAYS_MAX;
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Integer,
            Type::Null,
        ]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(TOKEN_EXPIRY_DAYS_MAX))
        .description(Some(format!(
            "Days until it stops working, 1 to {TOKEN_EXPIRY_DAYS_MAX}; absent or null: it \
             works until revoked."
        )))
        .into()
}

/// `UserSelection.ids`.
pub fn bulk_ids() -> Schema {
    let max = crate::limits::BULK_IDS_MAX;
    ArrayBuilder::new()
        .items(RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                .into(),
        ))
        .min_items(Some(1))
        .max_items(Some(max))
        .description(Some(format!(
            "1 to {max} user ids; ids of no user are skipped. More users: select them as \
             all matching a search."
        )))
        .into()
}

/// `IdleLogoutRequest.days`.
pub fn idle_days() -> Schema {
    let max = crate::limits::IDLE_DAYS_MAX;
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(max))
        .description(Some(format!(
            "1 to {max}: sessions not used for more than this many days end."
        )))
        .into()
}

/// `AuditFilter.actor` and `.target`: a username or a service token's name.
pub fn audit_name() -> Schema {
    string(&format!(
        "At most {USERNAME_MAX} characters with no control character: the exact username \
         or token name, trimmed, as given or in lower case; empty or only white space is no \
         filter."
    ))
    .max_length(Some(USERNAME_MAX))
    .pattern(Some(format!("^[^{CONTROL}]*$")))
    .into()
}

/// `BulkRequest.selection`: exactly one of `ids` (1 to `BULK_IDS_MAX`) and `matching` (a
/// search, a status filter and a role, each optional); the other may only be `null`.
pub fn user_selection() -> Schema {
    use utoipa::openapi::schema::{AdditionalProperties, OneOfBuilder};
    let null = || -> Schema { ObjectBuilder::new().schema_type(Type::Null).into() };
    let nullable =
        |schema: RefOr<Schema>| -> Schema { OneOfBuilder::new().item(null()).item(schema).into() };
    let reference = |name: &str| RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name));
    let closed = || Some(AdditionalProperties::FreeForm(false));
    let matching = ObjectBuilder::new()
        .property("q", nullable(RefOr::T(search())))
        .property("status", nullable(reference("UserFilter")))
        .property("role", nullable(reference("Role")))
        .additional_properties(closed())
        .description(Some(
            "Every user the search, the status filter and the role match, as \
             `GET /admin/users` lists them (loaded or not).",
        ));
    let by_ids = ObjectBuilder::new()
        .property("ids", bulk_ids())
        .property("matching", null())
        .required("ids")
        .additional_properties(closed());
    let by_matching = ObjectBuilder::new()
        .property("matching", matching)
        .property("ids", null())
        .required("matching")
        .additional_properties(closed());
    OneOfBuilder::new()
        .item(by_ids)
        .item(by_matching)
        .description(Some(
            "Exactly one of `ids` and `matching`; anything else is refused with 400 \
             `invalid_selection`.",
        ))
        .into()
}
