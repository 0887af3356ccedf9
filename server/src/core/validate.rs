//! Checks of what clients and operators send against the contract's limits
//! (`curfew::limits`), with the sentence that explains each refusal.
//!
//! Invariant: the limits are read from `curfew::limits`, never restated here.

pub use curfew::limits::{
    DISPLAY_NAME_MAX, PAGE_DEFAULT, PAGE_MAX, PASSWORD_MAX, PASSWORD_MIN, SEARCH_MAX, USERNAME_MAX,
};

use super::AppError;

/// Usernames are lower-case ASCII so that look-ups are exact on every database.
pub fn normalize_username(input: &str) -> Result<String, String> {
    // Checked before lower-casing: some non-ASCII letters lower-case into ASCII ones (the
    // Kelvin sign into k), and a username is what was typed.
    let username = input.trim();
    if username.is_empty() {
        return Err("The username is empty.".into());
    }
    if username.chars().count() > USERNAME_MAX {
        return Err(format!(
            "The username is longer than {USERNAME_MAX} characters."
        ));
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(
            "A username may contain only letters a-z, digits and . _ - @ characters.".into(),
        );
    }
    Ok(username.to_ascii_lowercase())
}

pub fn display_name(input: &str) -> Result<String, String> {
    let name = input.trim();
    if name.is_empty() {
        return Err("The display name is empty.".into());
    }
    if name.chars().count() > DISPLAY_NAME_MAX {
        return Err(format!(
            "The display name is longer than {DISPLAY_NAME_MAX} characters."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("The display name contains control characters.".into());
    }
    Ok(name.to_owned())
}

pub fn new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < PASSWORD_MIN {
        return Err(format!(
            "The password must have at least {PASSWORD_MIN} characters."
        ));
    }
    if password.len() > PASSWORD_MAX {
        return Err(format!("The password is longer than {PASSWORD_MAX} bytes."));
    }
    Ok(())
}

/// The login form: shape checks only, so a bad attempt costs no password hashing.
pub fn login_fields(username: &str, password: &str) -> Result<(), AppError> {
    if username.trim().is_empty() || password.is_empty() {
        return Err(AppError::bad_request(
            "missing_credentials",
            "Enter both a username and a password.",
        ));
    }
    if username.chars().count() > USERNAME_MAX {
        return Err(AppError::bad_request(
            "invalid_username",
            format!("The username is longer than {USERNAME_MAX} characters; check what you typed."),
        ));
    }
    if password.len() > PASSWORD_MAX {
        return Err(AppError::bad_request(
            "invalid_password",
            format!("The password is longer than {PASSWORD_MAX} bytes."),
        ));
    }
    Ok(())
}

pub fn page_limit(limit: Option<u32>) -> Result<u32, AppError> {
    match limit {
        None => Ok(PAGE_DEFAULT),
        Some(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
        Some(n) => Err(AppError::bad_request(
            "invalid_limit",
            format!("The page limit {n} is out of range: ask for 1 to {PAGE_MAX} entries."),
        )),
    }
}

pub fn search(q: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if q.chars().count() > SEARCH_MAX {
        return Err(AppError::bad_request(
            "search_too_long",
            format!("The search text is longer than {SEARCH_MAX} characters; shorten it."),
        ));
    }
    if q.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_search",
            "The search text contains control characters; search for letters, digits or punctuation.",
        ));
    }
    Ok(Some(q.to_owned()))
}

/// The device name an app may send at sign-in: absent, or 1 to 100 plain characters.
pub fn device_name(name: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(name) = name else {
        return Ok(None);
    };
    let name = name.trim();
    if name.is_empty() || name.chars().count() > curfew::limits::DEVICE_NAME_MAX {
        return Err(AppError::bad_request(
            "invalid_device_name",
            format!(
                "The device name must be 1 to {} characters, or left out.",
                curfew::limits::DEVICE_NAME_MAX
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_device_name",
            "The device name contains control characters; send plain text.",
        ));
    }
    Ok(Some(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_folded_and_checked() {
        assert_eq!(
            normalize_username("  Alice.Martin ").unwrap(),
            "alice.martin"
        );
        assert!(normalize_username("").is_err());
        assert!(normalize_username("a b").is_err());
        assert!(normalize_username("zoë").is_err());
        assert!(normalize_username(&"a".repeat(65)).is_err());
        assert!(normalize_username(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn display_names_allow_any_script() {
        assert_eq!(display_name(" Zoë Åström ").unwrap(), "Zoë Åström");
        assert!(display_name("山田 太郎").is_ok());
        assert!(display_name("a\u{7}b").is_err());
        assert!(display_name(&"é".repeat(101)).is_err());
    }

    #[test]
    fn page_limits() {
        assert_eq!(page_limit(None).unwrap(), 50);
        assert_eq!(page_limit(Some(500)).unwrap(), 500);
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(501)).is_err());
    }
}
