//! Importing users from a CSV file (`POST /admin/users/import`): what a preview and an
//! applied import report. The columns and their values are written here once.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// The columns an import file may have, by header name; `username` is required.
pub const IMPORT_COLUMNS: [&str; 5] = ["username", "display_name", "email", "role", "active"];

/// Values of the `active` column (case does not matter) that keep or make an account active.
pub const ACTIVE_TRUE: [&str; 4] = ["true", "yes", "1", "active"];
/// Values of the `active` column that deactivate an account (and end its sessions).
pub const ACTIVE_FALSE: [&str; 5] = ["false", "no", "0", "inactive", "deactivated"];

/// Query of `POST /admin/users/import`; the body is the CSV file itself (`text/csv`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ImportQuery {
    /// Only preview: report what would change and change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What one row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportRowKind {
    /// A username nobody has: the account is created (without a password).
    New,
    /// An existing account whose name, email, role or status differs.
    Changed,
}

/// A row that creates or changes an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportRowChange {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    pub username: String,
    pub kind: ImportRowKind,
    /// What changes, in words ("role member → admin, deactivated").
    pub what: String,
}

/// A row that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportRowError {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// A sentence: what is wrong and how to fix it.
    pub reason: String,
}

/// A preview, or what an applied import did. An import with any error applies nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportReport {
    /// True when the changes were made; false for a preview.
    pub applied: bool,
    /// Rows in the file, the header not counted.
    pub rows: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Of the new and changed rows, those that deactivate an account.
    pub deactivated: u64,
    /// Sessions ended by deactivations (0 in a preview).
    pub sessions_revoked: i64,
    /// Every new and changed row, in file order.
    pub changes: Vec<ImportRowChange>,
    /// Every row in error, in file order; empty when the file can be applied.
    pub errors: Vec<ImportRowError>,
}
