//! Non-secret profile data (server address, username, whether to remember) in the app's
//! config dir. The token is never written here: it lives in the keychain.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub server: String,
    pub username: String,
    pub remember: bool,
}

pub struct ProfileFile {
    path: PathBuf,
}

impl ProfileFile {
    pub fn in_dir(dir: &Path) -> ProfileFile {
        ProfileFile {
            path: dir.join("profile.json"),
        }
    }

    /// The saved profile; a missing or unreadable file is no profile, not an error.
    pub fn load(&self) -> Option<Profile> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn save(&self, profile: &Profile) -> Result<()> {
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let text = serde_json::to_string_pretty(profile).map_err(std::io::Error::other)?;
            let temp = self.path.with_extension("json.tmp");
            std::fs::write(&temp, text)?;
            std::fs::rename(&temp, &self.path)
        };
        write().map_err(|e| {
            Error::Profile(format!(
                "Could not save the sign-in details to {} ({e}). Check that the folder is writable.",
                self.path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_and_tolerates_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let file = ProfileFile::in_dir(&dir.path().join("nested"));
        assert_eq!(file.load(), None);
        let profile = Profile {
            server: "https://curfew.example.com/".into(),
            username: "root".into(),
            remember: true,
        };
        file.save(&profile).unwrap();
        assert_eq!(file.load(), Some(profile));
        std::fs::write(dir.path().join("nested/profile.json"), "{not json").unwrap();
        assert_eq!(file.load(), None);
    }
}
