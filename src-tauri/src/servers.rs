//! The servers the admin works with ("production", "staging"), each with a name, its
//! address, the username last used there and whether its sign-in is remembered, in
//! `servers.json` in the app's config dir; which one is current. Tokens are never written
//! here: each server's lives in the keychain under its own account
//! (`<username>@<server url>`, the account the app always used and the CLI shares).
//!
//! Invariants: names are unique (compared in lower case) and so are addresses; a list
//! read from an older version's `profile.json` keeps that server and its keychain entry
//! (the account is the same), named after its host.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::profile::{Profile, ProfileFile};

/// A server's name: at most this many characters.
pub const NAME_MAX: usize = 40;

/// One server the app knows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SavedServer {
    pub name: String,
    /// Its address, as `curfew::parse_server_url` normalised it.
    pub server: String,
    pub username: String,
    pub remember: bool,
}

impl SavedServer {
    pub fn profile(&self) -> Profile {
        Profile {
            server: self.server.clone(),
            username: self.username.clone(),
            remember: self.remember,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerList {
    /// The name of the server the app opens on.
    pub current: Option<String>,
    pub servers: Vec<SavedServer>,
}

impl ServerList {
    pub fn find(&self, name: &str) -> Option<&SavedServer> {
        self.servers
            .iter()
            .find(|s| s.name.to_lowercase() == name.to_lowercase())
    }

    pub fn current(&self) -> Option<&SavedServer> {
        self.current.as_deref().and_then(|name| self.find(name))
    }

    /// Adds `entry` or updates the server of that name or address, and makes it current.
    /// Refused when the name is another address's.
    pub fn upsert(&mut self, entry: SavedServer) -> Result<()> {
        if let Some(other) = self.servers.iter().find(|s| {
            s.name.to_lowercase() == entry.name.to_lowercase() && s.server != entry.server
        }) {
            return Err(Error::InvalidInput(format!(
                "The name {} is taken by the server at {}. Choose another name, or pick {} \
                 from the list.",
                other.name, other.server, other.name
            )));
        }
        self.servers.retain(|s| s.server != entry.server);
        self.current = Some(entry.name.clone());
        self.servers.push(entry);
        Ok(())
    }

    /// Forgets the server of that name; the current one becomes the first left.
    pub fn remove(&mut self, name: &str) -> Option<SavedServer> {
        let index = self
            .servers
            .iter()
            .position(|s| s.name.to_lowercase() == name.to_lowercase())?;
        let removed = self.servers.remove(index);
        if self.current.as_deref().map(str::to_lowercase) == Some(removed.name.to_lowercase()) {
            self.current = self.servers.first().map(|s| s.name.clone());
        }
        Some(removed)
    }
}

/// A server's name as the admin typed it, or its host when none was typed.
pub fn name_for(typed: Option<&str>, server: &str) -> Result<String> {
    let typed = typed.map(str::trim).filter(|t| !t.is_empty());
    let name = match typed {
        Some(name) => name.to_owned(),
        None => host_of(server),
    };
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "A server's name has at most {NAME_MAX} characters, with no control characters. \
             Shorten it."
        )));
    }
    Ok(name)
}

/// `curfew.example.com`, or `127.0.0.1:8080` with a port.
pub fn host_of(server: &str) -> String {
    tauri::Url::parse(server)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
        })
        .unwrap_or_else(|| server.trim_end_matches('/').to_owned())
}

pub struct ServersFile {
    path: PathBuf,
    /// What versions before several servers wrote: read once, when `servers.json` is not
    /// there yet.
    older: ProfileFile,
}

impl ServersFile {
    pub fn in_dir(dir: &Path) -> ServersFile {
        ServersFile {
            path: dir.join("servers.json"),
            older: ProfileFile::in_dir(dir),
        }
    }

    /// The saved list; a missing file is the older profile's one server, or none; an
    /// unreadable file is no list.
    pub fn load(&self) -> ServerList {
        if let Ok(text) = std::fs::read_to_string(&self.path) {
            return serde_json::from_str(&text).unwrap_or_default();
        }
        match self.older.load() {
            Some(profile) => {
                let name = host_of(&profile.server);
                ServerList {
                    current: Some(name.clone()),
                    servers: vec![SavedServer {
                        name,
                        server: profile.server,
                        username: profile.username,
                        remember: profile.remember,
                    }],
                }
            }
            None => ServerList::default(),
        }
    }

    pub fn save(&self, list: &ServerList) -> Result<()> {
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let text = serde_json::to_string_pretty(list).map_err(std::io::Error::other)?;
            let temp = self.path.with_extension("json.tmp");
            std::fs::write(&temp, text)?;
            std::fs::rename(&temp, &self.path)
        };
        write().map_err(|e| {
            Error::Profile(format!(
                "Could not save the list of servers to {} ({e}). Check that the folder is \
                 writable.",
                self.path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, url: &str) -> SavedServer {
        SavedServer {
            name: name.into(),
            server: url.into(),
            username: "root".into(),
            remember: true,
        }
    }

    #[test]
    fn an_older_profile_becomes_the_one_server_named_by_its_host() {
        let dir = tempfile::tempdir().unwrap();
        ProfileFile::in_dir(dir.path())
            .save(&Profile {
                server: "https://curfew.example.com/".into(),
                username: "root".into(),
                remember: true,
            })
            .unwrap();
        let file = ServersFile::in_dir(dir.path());
        let list = file.load();
        assert_eq!(list.current.as_deref(), Some("curfew.example.com"));
        assert_eq!(list.servers[0].server, "https://curfew.example.com/");
        // Once saved, the list is what is read.
        let mut list = list;
        list.upsert(server("staging", "https://staging.example.com/"))
            .unwrap();
        file.save(&list).unwrap();
        assert_eq!(file.load(), list);
        assert_eq!(file.load().current().unwrap().name, "staging");
    }

    #[test]
    fn names_and_addresses_stay_unique_and_removing_the_current_moves_on() {
        let mut list = ServerList::default();
        list.upsert(server("production", "https://a/")).unwrap();
        list.upsert(server("staging", "https://b/")).unwrap();
        assert!(list.upsert(server("Production", "https://c/")).is_err());
        // The same address under a new name renames it.
        list.upsert(server("stage", "https://b/")).unwrap();
        assert_eq!(list.servers.len(), 2);
        assert_eq!(list.current.as_deref(), Some("stage"));
        assert_eq!(list.remove("STAGE").unwrap().server, "https://b/");
        assert_eq!(list.current.as_deref(), Some("production"));
        assert_eq!(
            name_for(None, "http://127.0.0.1:8080/").unwrap(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            name_for(Some(" staging "), "https://b/").unwrap(),
            "staging"
        );
        assert!(name_for(Some(&"x".repeat(41)), "https://b/").is_err());
    }
}
