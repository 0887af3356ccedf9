//! `curfewd user import FILE.csv [--dry-run]`: the CSV import from the server's command
//! line, through the core's rules (one transaction, nothing applied with any row in
//! error), audited as `curfewd`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use curfew::api::{ImportReport, ImportRowKind};

use super::database::Database;
use super::tokens::{command_line_actor, sentence};
use crate::core::{AppState, Config};

#[derive(Args)]
pub(super) struct ImportArgs {
    #[command(flatten)]
    database: Database,
    /// The CSV file: a header line naming the columns (username, and any of display_name,
    /// email, role, active), comma or semicolon separated, UTF-8.
    file: PathBuf,
    /// Only show what would change.
    #[arg(long)]
    dry_run: bool,
}

fn print(report: &ImportReport) {
    for change in &report.changes {
        let kind = match change.kind {
            ImportRowKind::New => "new",
            ImportRowKind::Changed => "changed",
        };
        println!(
            "line {:>6}  {:<8} {}  {}",
            change.line, kind, change.username, change.what
        );
    }
    for error in &report.errors {
        eprintln!("line {:>6}  error    {}", error.line, error.reason);
    }
    let verb = if report.applied {
        "imported"
    } else {
        "would import"
    };
    println!(
        "{verb}: {} new, {} changed, {} unchanged of {} rows ({} deactivated{}){}",
        report.new,
        report.changed,
        report.unchanged,
        report.rows,
        report.deactivated,
        if report.applied {
            format!(", {} sessions ended", report.sessions_revoked)
        } else {
            String::new()
        },
        if report.errors.is_empty() {
            String::new()
        } else {
            format!("; {} rows in error", report.errors.len())
        }
    );
}

pub(super) async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let store = args.database.open(2).await?;
    let state = AppState::new(store.clone(), Config::default());
    let actor = command_line_actor();
    let result = async {
        let preview = state
            .import_users(&actor, &bytes, true)
            .await
            .map_err(sentence)?;
        if args.dry_run || !preview.errors.is_empty() {
            return Ok(preview);
        }
        state
            .import_users(&actor, &bytes, false)
            .await
            .map_err(sentence)
    }
    .await;
    store.close().await;
    let report: ImportReport = result?;
    print(&report);
    if !report.errors.is_empty() {
        anyhow::bail!(
            "nothing was imported: {} rows have errors; fix them and run the import again",
            report.errors.len()
        );
    }
    Ok(())
}
