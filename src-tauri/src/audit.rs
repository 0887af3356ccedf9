//! The Activity view's commands: a filtered page of the audit, and an export of every
//! entry the same filter matches, written to the admin's Downloads folder.
//!
//! Invariants: a page and an export of one filter select the same entries (both pass
//! the same [`AuditFilter`] to the server, which applies it); an export never replaces a
//! file: each gets a name of its own, and a half-written file is removed when the
//! transfer fails.

use std::path::{Path, PathBuf};

use curfew::api::{
    AuditCategory, AuditEntry, AuditExportQuery, AuditFilter, AuditFormat, AuditQuery,
};
use curfew::limits::USERNAME_MAX;
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};
use tracing::instrument;

use crate::error::{Error, Result};
use crate::session::AppState;

/// Entries the view asks for at a time (the server allows up to `PAGE_MAX`).
const PAGE: u32 = 100;
const CURSOR_MAX: usize = 1024;

fn check(cursor: &Option<String>, filter: &AuditFilter) -> Result<()> {
    if cursor.as_ref().is_some_and(|c| c.len() > CURSOR_MAX) {
        return Err(Error::InvalidInput(
            "That page position is not valid. Reload the list.".into(),
        ));
    }
    for name in [&filter.actor, &filter.target].into_iter().flatten() {
        if name.chars().count() > USERNAME_MAX {
            return Err(Error::InvalidInput(format!(
                "A username has at most {USERNAME_MAX} characters; shorten the filter."
            )));
        }
    }
    if let (Some(since), Some(until)) = (filter.since, filter.until) {
        if since >= until {
            return Err(Error::InvalidInput(
                "The date range ends before it starts: choose an end after the start.".into(),
            ));
        }
    }
    Ok(())
}

/// An audit entry as the Activity view shows it: as curfewd gave it, with its User cell in
/// words from `curfew`'s one rule (the CSV export and the CLI say it the same way).
#[derive(Debug, Clone, Serialize)]
pub struct ActivityEntry {
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// "alice", "1,155 users", "4 users: alice, carol, dave and 1 more", or none.
    pub target_words: Option<String>,
}

/// A page of the Activity view.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    pub next_cursor: Option<String>,
}

#[tauri::command]
#[instrument(skip(state), err(Debug))]
pub async fn audit(
    state: State<'_, AppState>,
    cursor: Option<String>,
    category: Option<AuditCategory>,
    filter: Option<AuditFilter>,
) -> Result<ActivityPage> {
    let filter = filter.unwrap_or_default();
    check(&cursor, &filter)?;
    let query = AuditQuery {
        cursor,
        limit: Some(PAGE),
        category,
        ..AuditQuery::default()
    }
    .with_filter(filter);
    let client = state.client().await?;
    let page = state.checked(&client, client.audit(&query).await).await?;
    Ok(ActivityPage {
        entries: page
            .entries
            .into_iter()
            .map(|entry| ActivityEntry {
                target_words: entry.target_in_words(),
                entry,
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

/// Where an export went, and how much it holds.
#[derive(Debug, Clone, Serialize)]
pub struct ExportView {
    pub path: String,
    pub entries: u64,
}

#[tauri::command]
#[instrument(skip(app, state), err(Debug))]
pub async fn export_audit<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    format: AuditFormat,
    category: Option<AuditCategory>,
    filter: Option<AuditFilter>,
) -> Result<ExportView> {
    let filter = filter.unwrap_or_default();
    check(&None, &filter)?;
    let dir = downloads(&app)?;
    let client = state.client().await?;
    let path = free_name(&dir, state.server_label().await.as_deref(), format);
    let file = std::fs::File::create_new(&path).map_err(|e| {
        Error::InvalidInput(format!(
            "Could not create {} ({e}). Check that the folder is writable.",
            path.display()
        ))
    })?;
    let mut out = std::io::BufWriter::new(file);
    let query = AuditExportQuery::new(format, category, filter);
    let written = client.export_audit(&query, &mut out).await;
    drop(out);
    match state.checked(&client, written).await {
        Ok(written) => {
            tracing::info!(path = %path.display(), entries = written.entries, bytes = written.bytes, "exported the audit");
            Ok(ExportView {
                path: path.display().to_string(),
                entries: written.entries,
            })
        }
        Err(e) => {
            // A cut-short file would look complete: it goes.
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

/// The admin's Downloads folder (the desktop's own, else `~/Downloads`), made if missing.
fn downloads<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf> {
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir().map(|home| home.join("Downloads")))
        .map_err(|_| {
            Error::InvalidInput(
                "This computer has no Downloads folder to save the export in.".into(),
            )
        })?;
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::InvalidInput(format!(
            "Could not make the folder {} ({e}). Check that it can be created.",
            dir.display()
        ))
    })?;
    Ok(dir)
}

/// `curfew-audit-<server>-<date>-<time>.<ext>`, with ` (2)`, ` (3)`… when taken.
fn free_name(dir: &Path, server: Option<&str>, format: AuditFormat) -> PathBuf {
    let server: String = server
        .unwrap_or("server")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = format!(
        "curfew-audit-{server}-{}",
        chrono::Local::now().format("%Y-%m-%d-%H%M%S")
    );
    let extension = format.extension();
    (1..)
        .map(|n| match n {
            1 => dir.join(format!("{stem}.{extension}")),
            n => dir.join(format!("{stem} ({n}).{extension}")),
        })
        .find(|path| !path.exists())
        .expect("some name is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let first = free_name(
            dir.path(),
            Some("staging: 127.0.0.1:8080"),
            AuditFormat::Csv,
        );
        let name = first.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("curfew-audit-staging--127.0.0.1-8080-"),
            "{name}"
        );
        assert!(name.ends_with(".csv"), "{name}");
        std::fs::write(&first, "x").unwrap();
        let second = free_name(
            dir.path(),
            Some("staging: 127.0.0.1:8080"),
            AuditFormat::Csv,
        );
        assert_ne!(first, second);
        assert!(second.to_string_lossy().ends_with(" (2).csv"));
    }

    #[test]
    fn a_backwards_range_is_refused_before_the_server_is_asked() {
        let now = chrono::Utc::now();
        let filter = AuditFilter {
            since: Some(now),
            until: Some(now - chrono::Duration::hours(1)),
            ..AuditFilter::default()
        };
        assert!(matches!(check(&None, &filter), Err(Error::InvalidInput(_))));
        assert!(check(&None, &AuditFilter::default()).is_ok());
    }
}
