//! What administrators read and do to users: the list, counts, forced logouts, sessions,
//! sign-in throttles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

#[allow(unused_imports)]
use super::*;

/// Which users `GET /admin/users` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserFilter {
    Active,
    Deactivated,
    /// Users with at least one live session.
    Online,
}

/// The order of `GET /admin/users`; every order ends with the username, so it is total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserSort {
    /// By display name (case-insensitive), then username: the default.
    #[default]
    Name,
    /// Most recently active first; never active last.
    LastActive,
    /// Most live sessions first, then by name.
    Sessions,
}

/// Query of `GET /admin/users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UserQuery {
    /// Case-insensitive substring of the username or the display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::search))]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<UserFilter>,
    /// Only users of this role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// `name` when absent. A cursor belongs to the order it was given for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<UserSort>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::cursor))]
    pub cursor: Option<String>,
    /// 1 to 500; 50 when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::page_limit))]
    pub limit: Option<u32>,
}

/// Which users a search, a filter and a role pick: the query of `GET /admin/users/counts`,
/// and a selection of "all matching".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams, ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct UserMatch {
    /// Case-insensitive substring of the username or the display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = schemas::search), schema(schema_with = schemas::search))]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// `GET /admin/users/counts`: how many users match, and the count on each filter chip.
/// A status chip counts the search and the role; a role chip counts the search and the
/// status; `matching` counts all three (what the list shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserCounts {
    pub matching: i64,
    /// Status chips: every status, then each.
    pub all: i64,
    pub active: i64,
    pub online: i64,
    pub deactivated: i64,
    /// Role chips: every role, then each.
    pub all_roles: i64,
    pub admin: i64,
    pub support: i64,
    pub member: i64,
}

/// The users a bulk action applies to: explicit ids, or every user matching a search
/// and filter (as the list shows them, loaded or not). Exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserSelection {
    /// 1 to `limits::BULK_IDS_MAX` ids; unknown ids are skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::bulk_ids))]
    pub ids: Option<Vec<Uuid>>,
    /// An object (a sequence, which serde would also read as one, is refused).
    #[serde(
        default,
        deserialize_with = "object_only",
        skip_serializing_if = "Option::is_none"
    )]
    pub matching: Option<UserMatch>,
}

/// `matching` as a JSON object or `null`, never another shape.
fn object_only<'de, D>(deserializer: D) -> Result<Option<UserMatch>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None => Ok(None),
        Some(value @ serde_json::Value::Object(_)) => UserMatch::deserialize(value)
            .map(Some)
            .map_err(D::Error::custom),
        Some(_) => Err(D::Error::custom(
            "`matching` must be an object: {\"q\", \"status\", \"role\"}",
        )),
    }
}

/// `POST /admin/users/logout` and `POST /admin/users/deactivate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::user_selection))]
    pub selection: UserSelection,
    /// Count what it would do, and change nothing (for the confirmation).
    #[serde(default)]
    pub dry_run: bool,
}

/// What a bulk action did (or, with `dry_run`, would do now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BulkResult {
    /// Users the selection names (known ones).
    pub selected: i64,
    /// Users signed out (logout), or deactivated (deactivate).
    pub users_affected: i64,
    pub sessions_revoked: i64,
    /// The caller's own account was in the selection: their session stays (logout), the
    /// account stays active (deactivate).
    pub own_account_spared: bool,
    pub dry_run: bool,
}

/// `POST /admin/sessions/logout-idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IdleLogoutRequest {
    /// Sessions not used for more than this many days end.
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::idle_days))]
    pub days: u32,
    /// Count what it would end, and change nothing (for the confirmation).
    #[serde(default)]
    pub dry_run: bool,
}

/// What signing out idle sessions did (or, with `dry_run`, would do now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IdleLogoutResult {
    pub days: u32,
    pub sessions_revoked: i64,
    pub users_affected: i64,
    pub dry_run: bool,
}

/// A user as administrators see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AdminUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    /// Live sessions from the mobile app.
    pub app_sessions: i64,
    /// Live sessions from the web.
    pub web_sessions: i64,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub email: Option<String>,
    /// Whether the account has a Curfew password (without one it signs in only through
    /// an identity provider).
    #[serde(default)]
    pub has_password: bool,
    /// The identity providers it signs in through, by the name their sign-in button shows.
    #[serde(default)]
    pub providers: Vec<String>,
}

/// A page of users; `next_cursor` is absent on the last page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserPage {
    pub users: Vec<AdminUser>,
    pub next_cursor: Option<String>,
}

/// `GET /admin/sessions/summary`: the numbers a logout-all confirmation names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionSummary {
    pub users: i64,
    pub deactivated_users: i64,
    /// Users with at least one live session.
    pub online_users: i64,
    pub app_sessions: i64,
    pub web_sessions: i64,
    /// Of the online users, how many are administrators (admin or support).
    pub online_administrators: i64,
    /// Live sessions that belong to administrators.
    pub administrator_sessions: i64,
    /// What `logout-all` would end now for the caller (their own session always stays).
    pub logout_all: LogoutPreview,
    /// The same with `keep_admins: true`.
    pub logout_all_keep_admins: LogoutPreview,
}

/// Sessions and users a logout-all would end, for its confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LogoutPreview {
    pub users: i64,
    pub sessions: i64,
    pub app_sessions: i64,
    pub web_sessions: i64,
}

/// `POST /admin/logout-all`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogoutAllRequest {
    /// Also spare every other administrator (admin and support roles).
    pub keep_admins: bool,
}

/// What a forced logout did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LogoutResult {
    pub sessions_revoked: i64,
    pub users_affected: i64,
}

/// What deactivating or activating a user did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserStatusChange {
    pub user: AdminUser,
    pub sessions_revoked: i64,
}

/// One live session of a user, as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AdminSession {
    pub id: Uuid,
    pub client: ClientKind,
    /// The device in words: "Firefox 132 on Windows 10", or the app's device name first.
    pub device: String,
    /// The name the organisation's app sent at sign-in, if any.
    pub device_name: Option<String>,
    /// The address it signed in from (through trusted proxies only).
    pub address: Option<String>,
    /// The address it was last used from.
    pub last_address: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The session making this request.
    pub current: bool,
}

/// `GET /admin/users/{id}/sessions`: a user's live sessions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserSessions {
    pub user_id: Uuid,
    pub sessions: Vec<AdminSession>,
}

/// `GET /admin/sign-in-throttles`: accounts with failed sign-ins in the last minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignInThrottles {
    /// Most attempts first; at most 100.
    pub accounts: Vec<ThrottledAccount>,
    /// Failed sign-ins a minute after which an account is throttled.
    pub failures_allowed: u32,
}

/// One account's failed sign-ins in the last minute (on the instance that answered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ThrottledAccount {
    /// As typed (folded to lower case); it may name no user.
    pub username: String,
    /// The user it names, if any.
    pub user_id: Option<Uuid>,
    /// Wrong passwords in the last minute.
    pub failures: u32,
    /// Attempts refused (429) while throttled, in the last minute.
    pub refused: u32,
    /// Distinct addresses the failures came from.
    pub addresses: u32,
    /// Seconds until it may try again; absent when it is not throttled now.
    pub throttled_for_seconds: Option<u64>,
    pub last_attempt_at: DateTime<Utc>,
}

/// `POST /admin/sign-in-throttles/clear`: let an account try again at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClearThrottle {
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::throttled_username))]
    pub username: String,
}

/// `POST /admin/users`: a new account. Without a password it can sign in only through the
/// organisation's identity provider, or once an administrator sets one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::new_username))]
    pub username: String,
    /// Defaults to the username.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::display_name))]
    pub display_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::email))]
    pub email: Option<String>,
    pub role: Role,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::account_password))]
    pub password: Option<String>,
}

/// `PATCH /admin/users/{id}`: the fields to change; absent fields stay. `email: null`
/// removes the address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::display_name))]
    pub display_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::email))]
    pub email: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A field that is present, even as `null` (then `Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `POST /admin/users/{id}/password`: a new password, typed or generated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// Absent: the server generates one and answers it once.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::reset_password))]
    pub password: Option<String>,
    /// Also end every session of the user (default: yes).
    #[serde(default = "yes")]
    pub sign_out: bool,
}

fn yes() -> bool {
    true
}

/// What a password reset did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PasswordResetResult {
    /// The generated password, shown this once; absent when one was given.
    pub generated_password: Option<String>,
    pub sessions_revoked: i64,
}

/// `POST /auth/password`: change one's own password; one's other sessions end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = super::schemas::new_password))]
    pub new_password: String,
}

/// What deleting a user did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserDeleted {
    pub username: String,
    pub sessions_revoked: i64,
}
