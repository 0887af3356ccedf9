//! The command line's token in the OS keychain, under the desktop app's service
//! (`dev.curfew.app`, account `<username>@<server url>`), on keyring-core directly.
//!
//! This is a small twin of `src-tauri/src/keychain.rs` (same service, same account
//! format, same stores); the two should later share one crate. "No entry" is `Ok(None)`;
//! every other failure is a sentence that names the keychain and what to do instead.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error as KeyringError};

pub const SERVICE: &str = "dev.curfew.app";

pub struct Keychain {
    store: Result<Arc<CredentialStore>, String>,
    name: &'static str,
}

impl Keychain {
    /// The platform's keychain, or one that explains on every call why there is none.
    pub fn platform() -> Keychain {
        #[cfg(target_os = "linux")]
        let (store, name) = (
            zbus_secret_service_keyring_store::store::Store::new()
                .map(|s| s as Arc<CredentialStore>),
            "system keyring (Secret Service: GNOME Keyring or KWallet)",
        );
        #[cfg(target_os = "macos")]
        let (store, name) = (
            apple_native_keyring_store::keychain::Store::new().map(|s| s as Arc<CredentialStore>),
            "macOS Keychain",
        );
        #[cfg(target_os = "windows")]
        let (store, name) = (
            windows_native_keyring_store::store::Store::new().map(|s| s as Arc<CredentialStore>),
            "Windows Credential Manager",
        );
        #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
        let (store, name): (Result<Arc<CredentialStore>, KeyringError>, _) = (
            Err(KeyringError::NotSupportedByStore(
                "no keychain on this platform".into(),
            )),
            "keychain",
        );
        Keychain {
            store: store.map_err(|e| describe(name, &e)),
            name,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The account name the desktop app uses too.
    pub fn account(username: &str, server: &str) -> String {
        format!("{username}@{}", server.trim_end_matches('/'))
    }

    fn entry(&self, account: &str) -> Result<Entry, String> {
        let store = self.store.as_ref().map_err(Clone::clone)?;
        Entry::new_in_store(store, SERVICE, account).map_err(|e| describe(self.name, &e))
    }

    pub fn save(&self, account: &str, token: &str) -> Result<(), String> {
        self.entry(account)?
            .set_password(token)
            .map_err(|e| describe(self.name, &e))
    }

    pub fn load(&self, account: &str) -> Result<Option<String>, String> {
        match self.entry(account)?.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(describe(self.name, &e)),
        }
    }

    pub fn delete(&self, account: &str) -> Result<(), String> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(describe(self.name, &e)),
        }
    }
}

const INSTEAD: &str = "or give the token with CURFEW_TOKEN or --token-file instead";

/// A sentence for a keychain failure: which keychain, what happened, what to do.
fn describe(name: &str, error: &KeyringError) -> String {
    let detail = error.to_string();
    let lower = detail.to_ascii_lowercase();
    match error {
        KeyringError::NoStorageAccess(_) => {
            format!("The {name} is locked or refused access. Unlock it and try again, {INSTEAD}.")
        }
        _ if detail.contains("ServiceUnknown") || detail.contains("org.freedesktop.secrets") => {
            format!(
                "No {name} is running on this computer, so the token cannot be kept. Start \
                 GNOME Keyring or KWallet, {INSTEAD}."
            )
        }
        _ if lower.contains("dbus")
            || lower.contains("d-bus")
            || lower.contains("connect to address") =>
        {
            format!(
                "The {name} cannot be reached (no D-Bus session). Start a desktop session with a \
             keyring, {INSTEAD}."
            )
        }
        _ => format!("The {name} failed ({detail}). Try again, {INSTEAD}."),
    }
}
