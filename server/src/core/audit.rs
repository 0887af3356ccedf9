//! The audit as administrators read it: filtered pages, whole exports, and the event that
//! tells open Activity views that an entry was added.
//!
//! Invariants: a page and an export of the same query hold the same entries in the same
//! order (one [`selection`] for both, keyset order `(at, id)` newest first); an export
//! streams every matching entry one page at a time, so its memory does not grow with the
//! audit; a name that is not a username is refused (`invalid_query`) before the database
//! sees it.

use curfew::api::{
    AdminEvent, AuditAction, AuditCategory, AuditCsvRow, AuditEntry, AuditExportQuery, AuditFilter,
    AuditFormat, AuditPage, AuditQuery,
};
use curfew::limits::USERNAME_MAX;
use futures_util::Stream;

use super::listing::{decode_cursor, encode_cursor};
use super::signal::Signal;
use super::{validate, AppError, AppResult, AppState};
use crate::store::{AuditCursor, AuditSelection};

/// Entries an export reads per statement.
const EXPORT_PAGE: u32 = 500;

/// The store's selection for a category and a filter, or why the filter is refused.
fn selection(category: Option<AuditCategory>, filter: &AuditFilter) -> AppResult<AuditSelection> {
    // A name as typed and in lower case: usernames are kept in lower case, a service
    // token's name as it was given ("Okta").
    let name = |value: &Option<String>, what: &str| -> AppResult<Vec<String>> {
        let Some(value) = value.as_deref() else {
            return Ok(Vec::new());
        };
        if value.chars().count() > USERNAME_MAX || value.chars().any(char::is_control) {
            return Err(AppError::bad_request(
                "invalid_query",
                format!(
                    "The {what} to filter by is not a username: give at most {USERNAME_MAX} \
                     characters, with no control characters."
                ),
            ));
        }
        // Empty, or only white space: no filter.
        let value = value.trim();
        let mut names = vec![value.to_owned(), value.to_lowercase()];
        names.dedup();
        names.retain(|n| !n.is_empty());
        Ok(names)
    };
    // A range that ends before it starts is not refused: it holds no entry (JSON Schema
    // cannot say that one parameter comes after another, so the contract accepts it).
    Ok(AuditSelection {
        actions: match filter.action {
            Some(action) => vec![action],
            None => AuditAction::of(category.unwrap_or(AuditCategory::Admin)),
        },
        actor: name(&filter.actor, "administrator")?,
        target: name(&filter.target, "user")?,
        since: filter.since.map(|t| t.timestamp_millis()),
        until: filter.until.map(|t| t.timestamp_millis()),
    })
}

fn cursor_after(entry: &AuditEntry) -> AuditCursor {
    AuditCursor {
        at: entry.at.timestamp_millis(),
        id: entry.id.to_string(),
    }
}

impl AppState {
    /// Who did what to whom, newest first: a page of what the query selects.
    pub async fn audit_page(&self, query: &AuditQuery) -> AppResult<AuditPage> {
        let limit = validate::page_limit(query.limit)?;
        let selection = selection(query.category, &query.filter())?;
        let after = match query.cursor.as_deref() {
            Some(cursor) => {
                let parts = decode_cursor(cursor)?;
                let at = parts[0].parse().map_err(|_| {
                    AppError::bad_request(
                        "invalid_cursor",
                        "The page cursor is not one this server gave out. Start again from \
                         the first page.",
                    )
                })?;
                Some(AuditCursor {
                    at,
                    id: parts[1].clone(),
                })
            }
            None => None,
        };
        let mut entries = self
            .store
            .audit_page(&selection, after.as_ref(), limit + 1)
            .await?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let next_cursor = more
            .then(|| entries.last())
            .flatten()
            .map(|e| encode_cursor(&[&e.at.timestamp_millis().to_string(), &e.id.to_string()]));
        Ok(AuditPage {
            entries,
            next_cursor,
        })
    }

    /// Every entry the query selects, newest first, as the chunks of one file (CSV with
    /// a header row, or JSON Lines). The filter is checked here, before the first byte;
    /// a database failure midway ends the stream with an error (the file is cut short
    /// and the client sees the transfer fail, never a complete-looking file).
    pub fn audit_export(
        &self,
        query: &AuditExportQuery,
    ) -> AppResult<impl Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static> {
        let selection = selection(query.category, &query.filter())?;
        let format = query.format;
        let store = self.store.clone();
        // (the cursor after the last entry written, whether the header is written, done)
        let start = (None::<AuditCursor>, false, false);
        Ok(futures_util::stream::try_unfold(
            start,
            move |(after, header_written, done)| {
                let (store, selection) = (store.clone(), selection.clone());
                async move {
                    if done {
                        return Ok(None);
                    }
                    let entries = store
                        .audit_page(&selection, after.as_ref(), EXPORT_PAGE)
                        .await
                        .map_err(std::io::Error::other)?;
                    let last_page = entries.len() < EXPORT_PAGE as usize;
                    let chunk = encode(format, &entries, !header_written)?;
                    let after = entries.last().map(cursor_after).or(after);
                    Ok(Some((chunk, (after, true, last_page))))
                }
            },
        ))
    }

    /// Tells every administrator's event stream that an entry was added which no other
    /// event announces (a sign-in, a token, a window scheduled), so that an open
    /// Activity view shows it at once. Best effort: the entry is already committed.
    pub(crate) async fn audited(&self, action: AuditAction) {
        let event = AdminEvent::AuditRecorded { action };
        if let Err(e) = self.publish(Signal::Admin { event }).await {
            tracing::warn!(error = ?e, "could not tell administrators of a new audit entry");
        }
    }
}

/// One page of entries in the export's format; the CSV header goes before the first.
fn encode(format: AuditFormat, entries: &[AuditEntry], header: bool) -> std::io::Result<Vec<u8>> {
    match format {
        AuditFormat::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(header)
                .from_writer(Vec::new());
            if header && entries.is_empty() {
                // Without a row the crate writes no header: an empty export still says
                // which columns it would have.
                writer.write_record(csv_header())?;
            }
            for entry in entries {
                writer.serialize(AuditCsvRow::of(entry))?;
            }
            writer
                .into_inner()
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
        AuditFormat::Jsonl => {
            let mut out = Vec::new();
            for entry in entries {
                serde_json::to_writer(&mut out, entry)?;
                out.push(b'\n');
            }
            Ok(out)
        }
    }
}

/// The CSV columns, in order: the field names of [`AuditCsvRow`].
pub fn csv_header() -> Vec<&'static str> {
    vec![
        "at",
        "actor",
        "actor_kind",
        "action",
        "action_label",
        "target",
        "sessions_revoked",
        "users_affected",
        "keep_admins",
        "client",
        "address",
        "reason",
        "window_id",
        "window_starts_at",
        "id",
        "actor_id",
        "target_user_id",
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_exports_header_is_the_rows_header() {
        let entry = AuditEntry {
            id: uuid::Uuid::nil(),
            at: chrono::Utc::now(),
            actor_id: uuid::Uuid::nil(),
            actor_username: "root".into(),
            actor_kind: Default::default(),
            action: AuditAction::LogoutAll,
            target_user_id: None,
            target_username: None,
            target_usernames: Vec::new(),
            sessions_revoked: 2,
            users_affected: 1,
            keep_admins: Some(true),
            address: None,
            client: None,
            reason: Some("a, \"quoted\"\nreason".into()),
            window_id: None,
            window_starts_at: None,
        };
        let full = String::from_utf8(encode(AuditFormat::Csv, &[entry], true).unwrap()).unwrap();
        let empty = String::from_utf8(encode(AuditFormat::Csv, &[], true).unwrap()).unwrap();
        assert_eq!(full.lines().next(), empty.lines().next());
        assert_eq!(empty.trim_end(), csv_header().join(","));
    }
}
