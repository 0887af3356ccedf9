//! An audit entry in text, for every client alike: whom it is about in one short line
//! (the Activity view's User cell and the CLI's TARGET column say the same words) and one
//! row of the CSV export (which names every user the entry has).
//!
//! Invariant: an entry on several users reads "4 users: alice, carol, dave and 1 more"
//! wherever it is shown in a line, with [`NAMES_SHOWN`] names at most; the CSV's `target`
//! holds all of them, separated by [`CSV_NAMES_SEPARATOR`].

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ActorKind, AuditAction, AuditEntry};

/// A short line about several users names this many of them ("and 117 more" the rest).
pub const NAMES_SHOWN: usize = 3;

/// Between the usernames of an entry on several users in the CSV's `target` column: a
/// space, which no username contains (a spreadsheet splits the cell on it).
pub const CSV_NAMES_SEPARATOR: &str = " ";

impl AuditAction {
    /// Whether its entries are on several users, named in `target_usernames`.
    pub fn names_several(self) -> bool {
        matches!(
            self,
            AuditAction::LogoutSelected | AuditAction::DeactivateSelected | AuditAction::LogoutIdle
        )
    }

    /// Whether its entries are on everyone at once (their users are only counted).
    pub fn is_on_everyone(self) -> bool {
        matches!(
            self,
            AuditAction::LogoutAll | AuditAction::MaintenanceLogout
        )
    }
}

/// `1204` → `"1,204"`: counts in the words of every client.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `"1 user"`, `"1,204 users"`.
pub fn users_in_words(n: i64) -> String {
    format!("{} {}", grouped(n), if n == 1 { "user" } else { "users" })
}

/// Several users in one line: `"3 users: alice, bob, carol"`, `"120 users: alice, bob,
/// carol and 117 more"`; only the count when no name is known (entries written before
/// curfewd kept the names). `count` counts them all, `names` are those the entry has.
pub fn several_users_in_words(count: i64, names: &[String]) -> String {
    let total = users_in_words(count);
    if names.is_empty() {
        return total;
    }
    let shown = &names[..names.len().min(NAMES_SHOWN)];
    let more = count - shown.len() as i64;
    let tail = if more > 0 {
        format!(" and {} more", grouped(more))
    } else {
        String::new()
    };
    format!("{total}: {}{tail}", shown.join(", "))
}

impl AuditEntry {
    /// Whom the entry is about, in one short line: the user's username; for an entry on
    /// several users [`several_users_in_words`]; for one on everyone the count of users;
    /// `None` when it is about no user (a window scheduled, a token made).
    pub fn target_in_words(&self) -> Option<String> {
        if let Some(name) = &self.target_username {
            return Some(name.clone());
        }
        if self.action.names_several() {
            return Some(several_users_in_words(
                self.users_affected,
                &self.target_usernames,
            ));
        }
        self.action
            .is_on_everyone()
            .then(|| users_in_words(self.users_affected))
    }
}

/// One row of the CSV export: an [`AuditEntry`] with the action also in words. `target`
/// is the one user, or every user an entry on several users names.
#[derive(Debug, Clone, Serialize)]
pub struct AuditCsvRow<'a> {
    pub at: String,
    pub actor: &'a str,
    pub actor_kind: &'static str,
    pub action: &'static str,
    pub action_label: &'static str,
    pub target: Option<String>,
    pub sessions_revoked: i64,
    pub users_affected: i64,
    pub keep_admins: Option<bool>,
    pub client: Option<&'static str>,
    pub address: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub window_id: Option<String>,
    pub window_starts_at: Option<String>,
    pub id: String,
    pub actor_id: String,
    pub target_user_id: Option<String>,
}

impl<'a> AuditCsvRow<'a> {
    pub fn of(entry: &'a AuditEntry) -> Self {
        let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let target = match &entry.target_username {
            Some(name) => Some(name.clone()),
            None if !entry.target_usernames.is_empty() => {
                Some(entry.target_usernames.join(CSV_NAMES_SEPARATOR))
            }
            None => None,
        };
        AuditCsvRow {
            at: time(&entry.at),
            actor: &entry.actor_username,
            actor_kind: match entry.actor_kind {
                ActorKind::User => "user",
                ActorKind::ServiceToken => "service_token",
            },
            action: entry.action.as_str(),
            action_label: entry.action.label(),
            target,
            sessions_revoked: entry.sessions_revoked,
            users_affected: entry.users_affected,
            keep_admins: entry.keep_admins,
            client: entry.client.map(|c| c.as_str()),
            address: entry.address.as_deref(),
            reason: entry.reason.as_deref(),
            window_id: entry.window_id.map(|w| w.to_string()),
            window_starts_at: entry.window_starts_at.as_ref().map(time),
            id: entry.id.to_string(),
            actor_id: entry.actor_id.to_string(),
            target_user_id: entry.target_user_id.map(|t| t.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn several_users_read_as_the_activity_view_says_them() {
        assert_eq!(
            several_users_in_words(4, &names(&["alice", "carol", "dave", "erin"])),
            "4 users: alice, carol, dave and 1 more"
        );
        assert_eq!(
            several_users_in_words(3, &names(&["alice", "bob", "carol"])),
            "3 users: alice, bob, carol"
        );
        assert_eq!(
            several_users_in_words(1, &names(&["alice"])),
            "1 user: alice"
        );
        assert_eq!(
            several_users_in_words(1204, &names(&["a", "b", "c", "d"])),
            "1,204 users: a, b, c and 1,201 more"
        );
        assert_eq!(several_users_in_words(7, &[]), "7 users");
        assert_eq!(grouped(-1234567), "-1,234,567");
        assert_eq!(grouped(999), "999");
    }
}
