//! The administrators' list at 100,000 users (`cargo xtask bench --only list`): the pages
//! sorted by sessions and filtered to Online, the filter chips' counts and the session
//! summary, each asked many times in a row, on SQLite and on PostgreSQL; then one
//! logout-all, which also keeps each user's live-session counts (migration 0016).
//!
//! Every query runs against a database seeded by `curfewd demo-seed` as the server part
//! seeds it (half the users with an app and a web session each), over loopback, one at a
//! time; the figures are the client's wall time per answer.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use crate::bench::{admin_token, demo_seed, timed_logout_all, Curfewd};

/// Users in the database.
pub const USERS: usize = 100_000;
/// Answers timed per query.
const ROUNDS: usize = 25;

/// The queries, as (what, path and query string).
const QUERIES: &[(&str, &str)] = &[
    (
        "sorted by sessions, first page",
        "/api/v1/admin/users?sort=sessions&limit=100",
    ),
    (
        "sorted by sessions, a search",
        "/api/v1/admin/users?sort=sessions&q=an&limit=100",
    ),
    (
        "Online, first page",
        "/api/v1/admin/users?status=online&limit=100",
    ),
    ("chip counts", "/api/v1/admin/users/counts"),
    ("chip counts, a search", "/api/v1/admin/users/counts?q=an"),
    (
        "chip counts, Online",
        "/api/v1/admin/users/counts?status=online",
    ),
    ("session summary", "/api/v1/admin/sessions/summary"),
];

/// One backend's figures: per query (p50, max) in ms, then the logout-all.
pub struct ListRow {
    pub backend: &'static str,
    pub queries: Vec<(&'static str, f64, f64)>,
    pub logout_all: (i64, f64, f64),
}

pub async fn run(bin: &Path) -> anyhow::Result<Vec<ListRow>> {
    let dir = crate::target_dir().join("bench").join("list");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let http = reqwest::Client::new();
    let mut rows = Vec::new();

    eprintln!("==> the users list at {USERS} users, SQLite");
    let sqlite = format!("sqlite://{}", dir.join("curfew.db").display());
    demo_seed(bin, &sqlite, USERS, 2, "0.5", &dir.join("sqlite.tokens"))?;
    rows.push(one(bin, "SQLite", &sqlite, &dir.join("sqlite.log"), &http).await?);

    eprintln!("==> the users list at {USERS} users, PostgreSQL");
    let admin = crate::setup::ensure_postgres()?;
    let name = "curfew_bench_list";
    crate::setup::psql(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )?;
    crate::setup::psql(&admin, &format!("CREATE DATABASE {name}"))?;
    let (base, _) = admin
        .rsplit_once('/')
        .context("admin URL names a database")?;
    let postgres = format!("{base}/{name}");
    demo_seed(
        bin,
        &postgres,
        USERS,
        2,
        "0.5",
        &dir.join("postgres.tokens"),
    )?;
    // The statistics autovacuum gathers soon after a load like this one: without them the
    // planner takes the freshly seeded tables for nearly empty and sorts instead of using
    // the indexes, which no running server sees for long.
    crate::setup::psql(&postgres, "ANALYZE users; ANALYZE sessions")?;
    let row = one(
        bin,
        "PostgreSQL",
        &postgres,
        &dir.join("postgres.log"),
        &http,
    )
    .await;
    crate::setup::psql(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )?;
    rows.push(row?);
    Ok(rows)
}

async fn one(
    bin: &Path,
    backend: &'static str,
    database_url: &str,
    log: &Path,
    http: &reqwest::Client,
) -> anyhow::Result<ListRow> {
    let server = Curfewd::start(bin, database_url, log)?;
    let token = admin_token(http, &server.url).await?;
    let mut queries = Vec::new();
    for (what, path) in QUERIES {
        let url = format!("{}{path}", server.url);
        // One answer first, so that every round finds the pages in memory alike.
        http.get(&url)
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let started = Instant::now();
            http.get(&url)
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        queries.push((*what, times[ROUNDS / 2], times[ROUNDS - 1]));
    }
    let logout_all = timed_logout_all(http, &server.url, &token).await?;
    server.stop()?;
    Ok(ListRow {
        backend,
        queries,
        logout_all,
    })
}

pub fn print(rows: &[ListRow]) {
    println!();
    println!("the users list at {USERS} users, half with an app and a web session (ms, p50 / max of {ROUNDS})");
    for row in rows {
        println!("{}:", row.backend);
        for (what, p50, max) in &row.queries {
            println!("  {what:<34} {p50:>8.1} / {max:>8.1}");
        }
        let (sessions, server_ms, wall_ms) = row.logout_all;
        println!(
            "  {:<34} {server_ms:>8.1} server, {wall_ms:.1} wall ({sessions} sessions)",
            "then one logout-all"
        );
    }
}
