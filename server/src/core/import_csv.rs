//! Reading a CSV file of users: UTF-8 with or without a byte order mark, comma or
//! semicolon (whichever the header line uses more), quoted fields with commas, quotes and
//! line breaks, columns by header name.
//!
//! Invariant: a file-level problem (not UTF-8, no `username` column, an unknown or repeated
//! column, too many rows) refuses the whole file; a row-level problem is reported with the
//! line the row starts on and never stops the other rows from being read, so a preview
//! lists every error at once.

use std::collections::HashMap;

use curfew::api::{ImportRowError, Role, ACTIVE_FALSE, ACTIVE_TRUE, IMPORT_COLUMNS};
use curfew::limits::IMPORT_ROWS_MAX;

use super::{accounts, validate, AppError};

/// One row as read: each field present only when its column is there and the cell is not
/// empty (an empty cell changes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// The rows that can be imported and the errors of those that cannot, in file order.
#[derive(Debug, Default)]
pub struct CsvFile {
    pub rows: Vec<CsvRow>,
    pub errors: Vec<ImportRowError>,
    /// Rows read, good or bad, the header not counted.
    pub read: u64,
}

fn refuse(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::bad_request(code, message)
}

/// The text of the file: UTF-8, without its byte order mark.
fn text(bytes: &[u8]) -> Result<&str, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        refuse(
            "invalid_encoding",
            format!(
                "The file is not UTF-8 text (line {line}). Save it as \"CSV UTF-8\" and import \
                 it again."
            ),
        )
    })
}

/// `;` when the header line has more semicolons than commas (Excel in many locales),
/// else `,`.
fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let count = |c: char| header.chars().filter(|h| *h == c).count();
    if count(';') > count(',') {
        b';'
    } else {
        b','
    }
}

fn parse_active(value: &str) -> Option<bool> {
    let value = value.to_ascii_lowercase();
    if ACTIVE_TRUE.contains(&value.as_str()) {
        Some(true)
    } else if ACTIVE_FALSE.contains(&value.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// Reads a file. `Err` for a problem with the file as a whole.
pub fn read(bytes: &[u8]) -> Result<CsvFile, AppError> {
    let text = text(bytes)?;
    if text.trim().is_empty() {
        return Err(refuse(
            "empty_import",
            format!(
                "The file is empty. Its first line names the columns: {}.",
                IMPORT_COLUMNS.join(", ")
            ),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            refuse(
                "invalid_csv",
                format!("The header line cannot be read: {e}."),
            )
        })?
        .clone();
    let names: Vec<String> = headers
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !IMPORT_COLUMNS.contains(&n.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let shown: Vec<String> = unknown.iter().map(|n| format!("{n:?}")).collect();
        return Err(refuse(
            "unknown_columns",
            format!(
                "The file has columns Curfew does not know: {}. Use only {} (the first line \
                 names them); rename or remove the others.",
                shown.join(", "),
                IMPORT_COLUMNS.join(", ")
            ),
        ));
    }
    let mut column: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if column.insert(name.as_str(), i).is_some() {
            return Err(refuse(
                "duplicate_columns",
                format!("The column {name} is named twice in the first line; keep one."),
            ));
        }
    }
    if !column.contains_key("username") {
        return Err(refuse(
            "missing_username_column",
            "The file has no username column. Its first line names the columns: username, \
             and any of display_name, email, role, active.",
        ));
    }
    let mut file = CsvFile::default();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    // The line a record starts on, counted from its byte offset (csv's own line count
    // is one short after CRLF line ends), incrementally: records come in order.
    let (mut counted_to, mut lines_before) = (0usize, 0u64);
    let mut line_at = |byte: u64| {
        let mut byte = (byte as usize).min(text.len());
        // After a CRLF the reader stops at the LF: the record starts past it.
        while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        if byte >= counted_to {
            lines_before += text.as_bytes()[counted_to..byte]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted_to = byte;
        }
        lines_before + 1
    };
    for record in reader.records() {
        file.read += 1;
        if file.read as usize > IMPORT_ROWS_MAX {
            return Err(refuse(
                "too_many_rows",
                format!(
                    "The file has more than {IMPORT_ROWS_MAX} rows; split it into smaller files."
                ),
            ));
        }
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(p.byte()));
                file.errors.push(ImportRowError {
                    line,
                    reason: format!("The row cannot be read as CSV: {e}."),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let mut error = |reason: String| file.errors.push(ImportRowError { line, reason });
        if record.len() > names.len() {
            error(format!(
                "The row has {} fields and the first line names {} columns; a field with a {} \
                 in it needs quotes around it.",
                record.len(),
                names.len(),
                if delimiter(text) == b';' {
                    "semicolon"
                } else {
                    "comma"
                }
            ));
            continue;
        }
        let cell = |name: &str| {
            column
                .get(name)
                .and_then(|i| record.get(*i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let username = match cell("username").map(validate::normalize_username) {
            None => {
                error("The username is empty; every row needs one.".into());
                continue;
            }
            Some(Err(reason)) => {
                error(reason);
                continue;
            }
            Some(Ok(username)) => username,
        };
        if let Some(earlier) = first_line.get(&username) {
            error(format!(
                "The username {username} is also on line {earlier}; each username may be in \
                 the file once."
            ));
            continue;
        }
        first_line.insert(username.clone(), line);
        // A line break typed in a spreadsheet cell (Alt+Enter) becomes a space.
        let one_line = |v: &str| v.split_whitespace().collect::<Vec<_>>().join(" ");
        let display_name = match cell("display_name")
            .map(|v| validate::display_name(&one_line(v)))
            .transpose()
        {
            Ok(v) => v,
            Err(reason) => {
                error(format!("{username}: {reason}"));
                continue;
            }
        };
        let email = match cell("email").map(accounts::email).transpose() {
            Ok(v) => v,
            Err(AppError::Client { message, .. }) => {
                error(format!("{username}: {message}"));
                continue;
            }
            Err(e) => return Err(e),
        };
        let role = match cell("role") {
            None => None,
            Some(r) => match Role::parse(&r.to_ascii_lowercase()) {
                Some(role) => Some(role),
                None => {
                    error(format!(
                        "{username}: the role {r:?} is not one of admin, support, member."
                    ));
                    continue;
                }
            },
        };
        let active = match cell("active") {
            None => None,
            Some(a) => match parse_active(a) {
                Some(active) => Some(active),
                None => {
                    error(format!(
                        "{username}: active is {a:?}; write true or false (or yes/no, 1/0)."
                    ));
                    continue;
                }
            },
        };
        file.rows.push(CsvRow {
            line,
            username,
            display_name,
            email,
            role,
            active,
        });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<CsvFile, AppError>) -> &'static str {
        match result {
            Err(AppError::Client { code, .. }) => code,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn bom_semicolons_and_quoted_fields() {
        let file = read(
            "\u{feff}username;display_name;email\r\nann;\"Martin; Ann\";ann@example.com\r\n\
             bob;\"Bob \"\"the\"\" Builder\nSecond line\";\r\n"
                .as_bytes(),
        )
        .unwrap();
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        assert_eq!(file.rows.len(), 2);
        assert_eq!(file.rows[0].display_name.as_deref(), Some("Martin; Ann"));
        assert_eq!(
            file.rows[1].display_name.as_deref(),
            Some("Bob \"the\" Builder Second line")
        );
        assert_eq!(file.rows[1].email, None);
        assert_eq!((file.rows[0].line, file.rows[1].line), (2, 3));
    }

    #[test]
    fn commas_win_when_the_header_has_more() {
        let file = read(b"username,display_name\n\"carol\",\"Diaz, Carol\"\n").unwrap();
        assert_eq!(file.rows[0].display_name.as_deref(), Some("Diaz, Carol"));
    }

    #[test]
    fn rows_in_error_carry_their_line() {
        let file = read(
            b"username,role,active\nann,member,yes\n\"bad name\",member,\nbob,boss,\ncid,,maybe\nann,admin,\n",
        )
        .unwrap();
        assert_eq!(file.rows.len(), 1);
        let lines: Vec<u64> = file.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6], "{:?}", file.errors);
        assert!(file.errors[3].reason.contains("also on line 2"));
        assert_eq!(file.read, 5);
    }

    #[test]
    fn file_level_problems_refuse_the_file() {
        assert_eq!(
            code(read(b"username,shoe_size,Team\nann,42,x\n")),
            "unknown_columns"
        );
        assert_eq!(
            code(read(b"display_name\nAnn\n")),
            "missing_username_column"
        );
        assert_eq!(
            code(read(b"username,username\nann,ann\n")),
            "duplicate_columns"
        );
        assert_eq!(code(read(b"username\nann\n\xff\xfe\n")), "invalid_encoding");
        assert_eq!(code(read(b"  \n")), "empty_import");
        match read(b"username,shoe_size,Team\n") {
            Err(AppError::Client { message, .. }) => {
                assert!(message.contains("\"shoe_size\", \"team\""), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
