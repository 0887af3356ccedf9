//! `cargo xtask bench --only import`: a CSV file of 10,000 and 100,000 users previewed,
//! applied, and applied again (every row unchanged), through the route the app and
//! scripts use, on SQLite and on PostgreSQL. The target: 10,000 rows previewed and
//! applied in under 5 s.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use curfew::api::{ClientKind, LoginRequest};
use curfew::{Client, ClientOptions};

use crate::bench::{Curfewd, ADMIN_PASSWORD};

const SIZES: [usize; 2] = [10_000, 100_000];

pub struct ImportRun {
    pub backend: &'static str,
    pub rows: usize,
    pub bytes: usize,
    pub preview_ms: f64,
    pub apply_ms: f64,
    pub again_ms: f64,
}

/// `rows` users as a spreadsheet would export them: a quoted name with a comma, an email,
/// a role, one in ten inactive.
fn csv(rows: usize) -> String {
    let mut csv = String::from("username,display_name,email,role,active\n");
    for i in 0..rows {
        let role = if i % 50 == 0 { "support" } else { "member" };
        let active = if i % 10 == 9 { "no" } else { "yes" };
        csv.push_str(&format!(
            "person{i:06},\"Person, Number {i}\",person{i}@example.com,{role},{active}\n"
        ));
    }
    csv
}

/// The benches' administrator `root`, added with `curfewd user add`.
pub(crate) fn add_admin(bin: &Path, database_url: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut child = Command::new(bin)
        .args(["user", "add", "--database-url", database_url])
        .args(["--username", "root", "--role", "admin", "--password-stdin"])
        .env("CURFEW_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("curfewd user add")?;
    writeln!(child.stdin.take().expect("piped"), "{ADMIN_PASSWORD}")?;
    anyhow::ensure!(child.wait()?.success(), "curfewd user add root failed");
    Ok(())
}

async fn one(
    bin: &Path,
    backend: &'static str,
    database_url: &str,
    log: &Path,
    rows: usize,
) -> anyhow::Result<ImportRun> {
    add_admin(bin, database_url)?;
    let server = Curfewd::start(bin, database_url, log)?;
    let client = Client::with_options(
        &server.url,
        ClientOptions {
            request_timeout: Duration::from_secs(600),
            ..ClientOptions::default()
        },
    )?;
    let (admin, _) = client
        .login(&LoginRequest {
            username: "root".into(),
            password: ADMIN_PASSWORD.into(),
            client: ClientKind::App,
            device_name: Some("import bench".into()),
        })
        .await?;
    let file = csv(rows);
    let timed = |dry_run: bool| {
        let (admin, file) = (admin.clone(), file.clone());
        async move {
            let started = Instant::now();
            let report = admin.import_users(file, dry_run).await?;
            anyhow::Ok((started.elapsed().as_secs_f64() * 1000.0, report))
        }
    };
    let (preview_ms, preview) = timed(true).await?;
    anyhow::ensure!(preview.new as usize == rows, "preview: {} new", preview.new);
    let (apply_ms, applied) = timed(false).await?;
    anyhow::ensure!(
        applied.applied && applied.new as usize == rows,
        "apply failed"
    );
    let (again_ms, again) = timed(false).await?;
    anyhow::ensure!(
        again.unchanged as usize == rows,
        "the second import changed rows"
    );
    server.stop()?;
    Ok(ImportRun {
        backend,
        rows,
        bytes: file.len(),
        preview_ms,
        apply_ms,
        again_ms,
    })
}

pub async fn run(bin: &Path) -> anyhow::Result<Vec<ImportRun>> {
    let dir = crate::target_dir().join("bench").join("import");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut runs = Vec::new();
    for rows in SIZES {
        eprintln!("==> CSV import of {rows} rows, SQLite");
        let url = format!(
            "sqlite://{}",
            dir.join(format!("import-{rows}.db")).display()
        );
        let log = dir.join(format!("sqlite-{rows}.log"));
        runs.push(one(bin, "SQLite", &url, &log, rows).await?);
    }
    match crate::setup::ensure_postgres() {
        Ok(admin) => {
            for rows in SIZES {
                eprintln!("==> CSV import of {rows} rows, PostgreSQL");
                let name = format!("curfew_bench_import_{rows}");
                crate::setup::psql(
                    &admin,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )?;
                crate::setup::psql(&admin, &format!("CREATE DATABASE {name}"))?;
                let (base, _) = admin.rsplit_once('/').context("a database URL")?;
                let url = format!("{base}/{name}");
                let log = dir.join(format!("postgres-{rows}.log"));
                runs.push(one(bin, "PostgreSQL", &url, &log, rows).await?);
                crate::setup::psql(
                    &admin,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )?;
            }
        }
        Err(e) => eprintln!("==> no PostgreSQL for the import bench: {e:#}"),
    }
    Ok(runs)
}

pub fn print(runs: &[ImportRun]) {
    println!();
    println!("CSV import through POST /admin/users/import (ms, wall clock from the client)");
    println!(
        "{:>10} | {:>8} | {:>8} | {:>9} | {:>9} | {:>16} | preview + apply under 5 s",
        "database", "rows", "MiB", "preview", "apply", "again (no change)"
    );
    for r in runs {
        let total = r.preview_ms + r.apply_ms;
        let target = if r.rows == 10_000 {
            if total < 5_000.0 {
                format!("met ({:.1} s)", total / 1000.0)
            } else {
                format!("NOT met ({:.1} s)", total / 1000.0)
            }
        } else {
            format!("({:.1} s)", total / 1000.0)
        };
        println!(
            "{:>10} | {:>8} | {:>8.1} | {:>9.0} | {:>9.0} | {:>16.0} | {target}",
            r.backend,
            r.rows,
            r.bytes as f64 / (1024.0 * 1024.0),
            r.preview_ms,
            r.apply_ms,
            r.again_ms
        );
    }
    println!(
        "rows: username, a quoted display name with a comma, email, role; one in ten inactive. \
         apply creates every account in one transaction with its audit entries; again: the \
         same file applied a second time (nothing written)."
    );
}
