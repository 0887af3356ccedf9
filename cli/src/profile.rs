//! The non-secret profile `curfew login` saves (server address and username), as
//! `profile.json` in the command line's config dir (`$XDG_CONFIG_HOME/curfew` on Linux).
//! The token is never written here: it lives in the keychain.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub server: String,
    pub username: String,
}

pub fn path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("curfew").join("profile.json"))
}

/// The saved profile; a missing or unreadable file is no profile.
pub fn load() -> Option<Profile> {
    let text = std::fs::read_to_string(path()?).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn save(profile: &Profile) -> Result<(), String> {
    let path = path().ok_or("This computer has no config folder to save the profile in.")?;
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(profile).map_err(std::io::Error::other)?;
        let temp = path.with_extension("json.tmp");
        std::fs::write(&temp, text)?;
        std::fs::rename(&temp, &path)
    };
    write().map_err(|e| {
        format!(
            "Could not save the profile to {} ({e}). Check that the folder is writable.",
            path.display()
        )
    })
}
