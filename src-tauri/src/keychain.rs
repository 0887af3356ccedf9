//! The admin's server token in the OS keychain (service `dev.curfew.app`, account
//! `<username>@<server url>`). Invariant: the token goes only between this module and the
//! `curfew` client, never to the webview or a log. "No entry" is `Ok(None)`; every other
//! failure becomes a sentence that names the keychain and what the admin can do.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error as KeyringError};

use crate::error::{Error, Result};

pub const SERVICE: &str = "dev.curfew.app";

#[derive(Clone)]
pub struct Keychain {
    store: std::result::Result<Arc<CredentialStore>, String>,
    /// What the admin calls this keychain.
    name: &'static str,
}

impl Keychain {
    /// The platform's keychain, or a keychain that explains why there is none.
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
        Keychain {
            store: store.map_err(|e| describe(name, &e)),
            name,
        }
    }

    pub fn with_store(store: Arc<CredentialStore>, name: &'static str) -> Keychain {
        Keychain {
            store: Ok(store),
            name,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn account(username: &str, server: &str) -> String {
        format!("{username}@{}", server.trim_end_matches('/'))
    }

    fn entry(&self, account: &str) -> Result<Entry> {
        let store = self
            .store
            .as_ref()
            .map_err(|m| Error::Keychain(m.clone()))?;
        Entry::new_in_store(store, SERVICE, account)
            .map_err(|e| Error::Keychain(describe(self.name, &e)))
    }

    pub fn save(&self, account: &str, token: &str) -> Result<()> {
        self.entry(account)?
            .set_password(token)
            .map_err(|e| Error::Keychain(describe(self.name, &e)))
    }

    pub fn load(&self, account: &str) -> Result<Option<String>> {
        match self.entry(account)?.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(Error::Keychain(describe(self.name, &e))),
        }
    }

    pub fn delete(&self, account: &str) -> Result<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(Error::Keychain(describe(self.name, &e))),
        }
    }
}

/// A sentence for a keychain failure: which keychain, what happened, what to do.
fn describe(name: &str, error: &KeyringError) -> String {
    let detail = error.to_string();
    match error {
        KeyringError::NoStorageAccess(_) => format!(
            "The {name} is locked or refused access. Unlock it and try again, or sign in \
             without \"Remember me\"."
        ),
        _ if detail.contains("ServiceUnknown") || detail.contains("org.freedesktop.secrets") => {
            format!(
                "No {name} is running on this computer, so the sign-in cannot be remembered. \
                 Start GNOME Keyring or KWallet, or sign in without \"Remember me\"."
            )
        }
        _ if detail.to_ascii_lowercase().contains("dbus")
            || detail.to_ascii_lowercase().contains("d-bus") =>
        {
            format!(
                "The {name} cannot be reached (no D-Bus session). Sign in without \"Remember \
                 me\", or start a desktop session with a keyring."
            )
        }
        _ => {
            format!("The {name} failed ({detail}). Try again, or sign in without \"Remember me\".")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyring_core::mock;

    fn mock_keychain() -> Keychain {
        Keychain::with_store(mock::Store::new().unwrap(), "test keychain")
    }

    #[test]
    fn remembers_reads_and_forgets() {
        let keychain = mock_keychain();
        let account = Keychain::account("root", "https://curfew.example.com/");
        assert_eq!(account, "root@https://curfew.example.com");
        assert_eq!(keychain.load(&account).unwrap(), None);
        keychain.save(&account, "tok").unwrap();
        assert_eq!(keychain.load(&account).unwrap().as_deref(), Some("tok"));
        keychain.delete(&account).unwrap();
        assert_eq!(keychain.load(&account).unwrap(), None);
        // Forgetting what is not there is not an error.
        keychain.delete(&account).unwrap();
    }

    #[test]
    fn a_locked_keychain_is_explained() {
        let keychain = mock_keychain();
        let entry = keychain.entry("a@b").unwrap();
        let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(KeyringError::NoStorageAccess("prompt dismissed".into()));
        let error = entry.get_password().unwrap_err();
        let sentence = describe("test keychain", &error);
        assert!(sentence.contains("test keychain is locked"), "{sentence}");
        assert!(sentence.contains("without \"Remember me\""), "{sentence}");
    }

    #[test]
    fn a_missing_secret_service_is_explained() {
        let error = KeyringError::PlatformFailure(
            "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided".into(),
        );
        let sentence = describe("system keyring", &error);
        assert!(
            sentence.starts_with("No system keyring is running"),
            "{sentence}"
        );
    }

    #[test]
    fn an_unavailable_platform_store_fails_every_call_with_its_sentence() {
        let keychain = Keychain {
            store: Err("No keyring here.".into()),
            name: "x",
        };
        for result in [
            keychain.load("a").map(|_| ()),
            keychain.save("a", "t"),
            keychain.delete("a"),
        ] {
            match result {
                Err(Error::Keychain(m)) => assert_eq!(m, "No keyring here."),
                other => panic!("{other:?}"),
            }
        }
    }
}
