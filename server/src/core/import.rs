//! Importing users from a CSV file: what each row would do (a preview), and doing it.
//!
//! Rules kept here: a row names an account by username; a new username creates an account
//! without a password (it signs in through the identity provider, or an administrator
//! sets one); an empty cell or a missing column leaves that field as it is (for a new
//! account: the username as its name, no email, `member`, active); accounts not in the file
//! are not touched. An import with any row in error applies nothing; nobody deactivates
//! their own account; it never leaves no active administrator; applying the same file
//! twice changes nothing the second time (no write, no audit entry). Deactivated rows end
//! their sessions in the import's transaction, and only then are streams told.

use std::collections::HashMap;

use curfew::api::{AuditAction, ImportReport, ImportRowChange, ImportRowKind, Role, UserStatus};

use super::import_csv::{self, CsvRow};
use super::signal::Signal;
use super::{accounts, AppError, AppResult, AppState};
use crate::store::{Actor, ExistingUser, ImportOutcome, ImportUpdate, NewUser};

/// Past this many users whose sessions ended, one sweep of every stream is cheaper than a
/// signal per user.
const SIGNALS_PER_USER_MAX: usize = 100;

/// What an import would do.
struct Plan {
    creates: Vec<NewUser>,
    updates: Vec<ImportUpdate>,
    report: ImportReport,
}

fn status_of(active: bool) -> UserStatus {
    if active {
        UserStatus::Active
    } else {
        UserStatus::Deactivated
    }
}

/// The change `row` makes to `user`, if any.
fn change(row: &CsvRow, user: &ExistingUser) -> Option<ImportUpdate> {
    let mut what = Vec::new();
    let display_name = row
        .display_name
        .clone()
        .filter(|name| *name != user.display_name);
    if let Some(name) = &display_name {
        what.push(format!("name {:?} → {name:?}", user.display_name));
    }
    let email = row.email.clone().filter(|e| Some(e) != user.email.as_ref());
    if email.is_some() {
        what.push("email".to_owned());
    }
    let role = row.role.filter(|r| *r != user.role);
    if let Some(role) = role {
        what.push(format!("role {} → {}", user.role.as_str(), role.as_str()));
    }
    let status = row.active.map(status_of).filter(|s| *s != user.status);
    match status {
        Some(UserStatus::Deactivated) => what.push("deactivated".to_owned()),
        Some(UserStatus::Active) => what.push("activated".to_owned()),
        None => {}
    }
    (!what.is_empty()).then(|| ImportUpdate {
        user: user.clone(),
        display_name,
        email,
        role,
        status,
        what: what.join(", "),
    })
}

fn plan(actor: &Actor, file: import_csv::CsvFile, existing: Vec<ExistingUser>) -> AppResult<Plan> {
    let mut admins_after: i64 = existing
        .iter()
        .filter(|u| u.role == Role::Admin && u.status == UserStatus::Active)
        .count() as i64;
    let existing: HashMap<String, ExistingUser> = existing
        .into_iter()
        .map(|u| (u.username.clone(), u))
        .collect();
    let mut report = ImportReport {
        applied: false,
        rows: file.read,
        new: 0,
        changed: 0,
        unchanged: 0,
        deactivated: 0,
        sessions_revoked: 0,
        changes: Vec::new(),
        errors: file.errors,
    };
    let (mut creates, mut updates) = (Vec::new(), Vec::new());
    for row in file.rows {
        let is_admin = |role: Role, status: UserStatus| {
            i64::from(role == Role::Admin && status == UserStatus::Active)
        };
        match existing.get(&row.username) {
            None => {
                let role = row.role.unwrap_or(Role::Member);
                let status = status_of(row.active.unwrap_or(true));
                admins_after += is_admin(role, status);
                let mut what = vec![format!("new {}", role.as_str())];
                if status == UserStatus::Deactivated {
                    what.push("deactivated".to_owned());
                    report.deactivated += 1;
                }
                report.new += 1;
                report.changes.push(ImportRowChange {
                    line: row.line,
                    username: row.username.clone(),
                    kind: ImportRowKind::New,
                    what: what.join(", "),
                });
                creates.push(NewUser {
                    display_name: row.display_name.unwrap_or_else(|| row.username.clone()),
                    username: row.username,
                    email: row.email,
                    role,
                    status,
                    password_hash: String::new(),
                });
            }
            Some(user) => {
                let Some(update) = change(&row, user) else {
                    report.unchanged += 1;
                    continue;
                };
                if update.status == Some(UserStatus::Deactivated)
                    && !actor.service_token
                    && user.id == actor.user_id
                {
                    report.errors.push(curfew::api::ImportRowError {
                        line: row.line,
                        reason: format!(
                            "{}: you cannot deactivate your own account; remove the row or \
                             mark it active.",
                            user.username
                        ),
                    });
                    continue;
                }
                admins_after -= is_admin(user.role, user.status);
                admins_after += is_admin(
                    update.role.unwrap_or(user.role),
                    update.status.unwrap_or(user.status),
                );
                if update.status == Some(UserStatus::Deactivated) {
                    report.deactivated += 1;
                }
                report.changed += 1;
                report.changes.push(ImportRowChange {
                    line: row.line,
                    username: user.username.clone(),
                    kind: ImportRowKind::Changed,
                    what: update.what.clone(),
                });
                updates.push(update);
            }
        }
    }
    report.errors.sort_by_key(|e| e.line);
    if admins_after == 0 {
        return Err(accounts::last_admin());
    }
    Ok(Plan {
        creates,
        updates,
        report,
    })
}

/// The refusal of a file with rows in error: the first few, by line.
fn refused(report: &ImportReport) -> AppError {
    const SHOWN: usize = 5;
    let listed: Vec<String> = report
        .errors
        .iter()
        .take(SHOWN)
        .map(|e| format!("line {}: {}", e.line, e.reason))
        .collect();
    let more = report.errors.len().saturating_sub(SHOWN);
    AppError::bad_request(
        "invalid_import",
        format!(
            "Nothing was imported: {} {} errors. {}{} Fix the file and import it again; a \
             preview (dry_run=true) lists every error.",
            report.errors.len(),
            if report.errors.len() == 1 {
                "row has"
            } else {
                "rows have"
            },
            listed.join(" "),
            if more > 0 {
                format!(" And {more} more.")
            } else {
                String::new()
            }
        ),
    )
}

impl AppState {
    /// Previews (`dry_run`) or applies a CSV file of users.
    pub async fn import_users(
        &self,
        actor: &Actor,
        bytes: &[u8],
        dry_run: bool,
    ) -> AppResult<ImportReport> {
        let file = import_csv::read(bytes)?;
        let existing = self.store.users_for_import().await?;
        let Plan {
            creates,
            updates,
            mut report,
        } = plan(actor, file, existing)?;
        if dry_run {
            return Ok(report);
        }
        if !report.errors.is_empty() {
            return Err(refused(&report));
        }
        if creates.is_empty() && updates.is_empty() {
            report.applied = true;
            return Ok(report);
        }
        let summary = format!(
            "{} new, {} changed, {} unchanged",
            report.new, report.changed, report.unchanged
        );
        let outcome = self
            .store
            .apply_import(actor, &creates, &updates, &summary, crate::now_ms())
            .await?;
        let (sessions_revoked, ended) =
            match outcome {
                ImportOutcome::Done {
                    sessions_revoked,
                    ended,
                } => (sessions_revoked, ended),
                ImportOutcome::LastAdmin => return Err(accounts::last_admin()),
                ImportOutcome::UsernameTaken => return Err(AppError::conflict(
                    "import_conflict",
                    "One of the file's new usernames was given to an account while the file was \
                     being imported, so nothing was imported. Preview the file again and apply it.",
                )),
            };
        if ended.len() > SIGNALS_PER_USER_MAX {
            self.publish(Signal::SessionsEnded { user: None }).await?;
        } else {
            for user in &ended {
                self.publish(Signal::SessionsEnded { user: Some(*user) })
                    .await?;
            }
        }
        for update in &updates {
            let role = update.role.unwrap_or(update.user.role);
            let demoted = update.user.role.is_administrator()
                && (!role.is_administrator() || update.status == Some(UserStatus::Deactivated));
            if demoted {
                self.publish(Signal::NoLongerAdministrator {
                    user: update.user.id,
                })
                .await?;
            }
        }
        tracing::info!(actor = %actor.username, new = report.new, changed = report.changed, unchanged = report.unchanged, sessions = sessions_revoked, "imported users");
        self.users_changed(
            actor,
            AuditAction::ImportUsers,
            None,
            (report.new + report.changed) as i64,
            sessions_revoked,
        )
        .await;
        report.applied = true;
        report.sessions_revoked = sessions_revoked;
        Ok(report)
    }
}
