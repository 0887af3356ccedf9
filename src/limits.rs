//! The contract's limits, written once: curfewd enforces them, the OpenAPI document
//! states them, and the desktop app reads them (through a command) for its forms.
//! Lengths of text are in characters unless the name says bytes.

use serde::Serialize;

/// Request bodies are small JSON documents; anything larger is refused with 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// A CSV file of users to import (`POST /admin/users/import`) may be this large.
pub const IMPORT_BODY_LIMIT_BYTES: usize = 8 * 1024 * 1024;
/// A CSV import holds at most this many rows.
pub const IMPORT_ROWS_MAX: usize = 100_000;

/// A username, 1 to this many characters.
pub const USERNAME_MAX: usize = 64;
/// A display name, 1 to this many characters.
pub const DISPLAY_NAME_MAX: usize = 100;
/// A new password: at least this many characters.
pub const PASSWORD_MIN: usize = 8;
/// An email address, at most this many characters (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 254;
/// A device name an app sends at sign-in, 1 to this many characters.
pub const DEVICE_NAME_MAX: usize = 100;
/// Any password: at most this many bytes (argon2 hashes all of it).
pub const PASSWORD_MAX: usize = 1024;
/// Search text in the users list.
pub const SEARCH_MAX: usize = 100;
/// A bulk action names at most this many users by id (a larger selection is "all matching").
pub const BULK_IDS_MAX: usize = 1000;
/// A bulk action's audit entry names at most this many users (so a selection by ids is
/// always named in full); it counts all of them.
pub const BULK_AUDIT_NAMES_MAX: usize = BULK_IDS_MAX;
/// "Sign out sessions idle for more than N days": N is 1 to this.
pub const IDLE_DAYS_MAX: u32 = 365;
/// A page of users or audit entries when no `limit` is given.
pub const PAGE_DEFAULT: u32 = 50;
/// The largest page of users or audit entries.
pub const PAGE_MAX: u32 = 500;

/// A maintenance message users see, 1 to this many characters.
pub const MESSAGE_MAX: usize = 500;
/// At most this many warnings per window.
pub const WARNINGS_MAX: usize = 10;
/// A warning at most this many seconds (7 days) before the start.
pub const WARN_BEFORE_MAX: i64 = 7 * 24 * 3600;
/// Logins freeze at most this many seconds (24 hours) before the start.
pub const FREEZE_BEFORE_MAX: i64 = 24 * 3600;
/// A window starts at most this many seconds (366 days) from now.
pub const STARTS_AHEAD_MAX: i64 = 366 * 24 * 3600;
/// A window lasts at most this many seconds (30 days).
pub const WINDOW_LENGTH_MAX: i64 = 30 * 24 * 3600;
/// A repeating window's rule (an RRULE) is at most this many characters.
pub const REPEAT_RULE_MAX: usize = 200;
/// A repeating window happens at most this many times (its COUNT, or what its UNTIL gives).
pub const REPEAT_COUNT_MAX: usize = 100;
/// A repeating window's last occurrence is at most this many seconds (2 years) after its first.
pub const REPEAT_SPAN_MAX: i64 = 731 * 24 * 3600;
/// A repeating window's INTERVAL (every N weeks or months) is 1 to this.
pub const REPEAT_INTERVAL_MAX: u16 = 12;
/// How many of a series' next occurrences are listed.
pub const NEXT_OCCURRENCES_SHOWN: usize = 5;

/// The limits a form needs, as one document for the desktop app's UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FormLimits {
    pub username_max: usize,
    pub display_name_max: usize,
    pub password_min: usize,
    pub password_max: usize,
    pub search_max: usize,
    pub page_max: u32,
    pub message_max: usize,
    pub warnings_max: usize,
    pub warn_before_max: i64,
    pub freeze_before_max: i64,
    pub starts_ahead_max: i64,
    pub window_length_max: i64,
    pub repeat_rule_max: usize,
    pub repeat_count_max: usize,
    pub repeat_span_max: i64,
    pub repeat_interval_max: u16,
    pub bulk_ids_max: usize,
    pub idle_days_max: u32,
}

/// Every limit of [`FormLimits`], from the constants above.
pub const FORM_LIMITS: FormLimits = FormLimits {
    username_max: USERNAME_MAX,
    display_name_max: DISPLAY_NAME_MAX,
    password_min: PASSWORD_MIN,
    password_max: PASSWORD_MAX,
    search_max: SEARCH_MAX,
    page_max: PAGE_MAX,
    message_max: MESSAGE_MAX,
    warnings_max: WARNINGS_MAX,
    warn_before_max: WARN_BEFORE_MAX,
    freeze_before_max: FREEZE_BEFORE_MAX,
    starts_ahead_max: STARTS_AHEAD_MAX,
    window_length_max: WINDOW_LENGTH_MAX,
    repeat_rule_max: REPEAT_RULE_MAX,
    repeat_count_max: REPEAT_COUNT_MAX,
    repeat_span_max: REPEAT_SPAN_MAX,
    repeat_interval_max: REPEAT_INTERVAL_MAX,
    bulk_ids_max: BULK_IDS_MAX,
    idle_days_max: IDLE_DAYS_MAX,
};
