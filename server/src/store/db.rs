//! The database itself: connecting (SQLite file or PostgreSQL URL), migrating, the pool,
//! transactions, and the column helpers every statement file shares. It names no table.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use uuid::Uuid;

/// A transaction on the store's database, for a rule that spans several statements.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// For the PostgreSQL listener, which needs a connection of its own.
    url: std::sync::Arc<str>,
    /// SQLite: the session check's own connections (see `check_reads`).
    pub(crate) check_reads: Option<std::sync::Arc<super::check_reads::CheckReads>>,
}

/// How many more times [`again_if_contended`] runs a transaction PostgreSQL ended.
const CONTENTION_RETRIES: u32 = 3;

/// Runs `attempt` again when PostgreSQL ended its transaction to break a deadlock (40P01)
/// or could not serialise it (40001), up to [`CONTENTION_RETRIES`] more times: such a
/// transaction was rolled back whole, so running it again does nothing twice. Why it is
/// needed: with the users' live-session counts (migration 0016) a mass revocation locks
/// sessions and then their users, while a deactivation or a sign-in locks a user and then
/// its sessions; at the same moment, on the same user, each waits for the other.
pub async fn again_if_contended<T, F, Fut>(mut attempt: F) -> sqlx::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = sqlx::Result<T>>,
{
    let mut left = CONTENTION_RETRIES;
    loop {
        match attempt().await {
            Err(e) if left > 0 && is_contention(&e) => {
                left -= 1;
                tracing::info!(error = %e, "a transaction ended by contention runs again");
            }
            other => return other,
        }
    }
}

/// Whether PostgreSQL ended a transaction for a deadlock or a serialisation failure.
pub fn is_contention(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().is_some_and(|c| c == "40P01" || c == "40001"))
}

pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Store {
    /// Connects, creating a SQLite file (and its directory) if needed, and runs migrations.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!(
                "unsupported database URL {url:?}: use sqlite://PATH or postgres://USER@HOST/DB"
            );
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections)
            // SQLite: how long a request may queue for a connection behind writers.
            // PostgreSQL: also how long a request waits while the server is unreachable
            // before it is answered 503.
            .acquire_timeout(Duration::from_secs(match backend {
                Backend::Sqlite => 10,
                Backend::Postgres => 3,
            }));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers run beside the one writer; the busy timeout makes a
                    // writer wait for the lock instead of failing.
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                        "PRAGMA busy_timeout = 10000",
                        // 32 MiB of page cache (the default is 2): a logout-all touches
                        // every page of the sessions table.
                        "PRAGMA cache_size = -32768",
                        "PRAGMA foreign_keys = ON",
                    ] {
                        sqlx::Executor::execute(&mut *conn, pragma).await?;
                    }
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&url)
            .await
            .with_context(|| format!("cannot open the database at {}", redact_url(&url)))?;
        let check_reads = sqlite_path(&url)
            .map(|path| std::sync::Arc::new(super::check_reads::CheckReads::new(&path)));
        let store = Store {
            pool,
            backend,
            url: url.into(),
            check_reads,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite")
                .run(&self.pool)
                .await
                .context("cannot migrate the SQLite database")?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres")
                .run(&self.pool)
                .await
                .context("cannot migrate the PostgreSQL database")?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Sends `payload` to every listener on `channel` (PostgreSQL only).
    pub async fn notify(&self, channel: &str, payload: &str) -> sqlx::Result<()> {
        // pg_notify returns void, which the Any driver cannot decode: count instead.
        sqlx::query("SELECT COUNT(*) AS n FROM (SELECT pg_notify($1, $2)) AS sent")
            .bind(channel)
            .bind(payload)
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    /// A connection listening on `channel` (PostgreSQL only).
    pub async fn listener(&self, channel: &str) -> sqlx::Result<sqlx::postgres::PgListener> {
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen(channel).await?;
        Ok(listener)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a transaction, for the statements of one rule.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        self.pool.begin().await
    }

    /// A trivial query: the database answers. Constant work, for health checks.
    pub async fn ping(&self) -> sqlx::Result<()> {
        sqlx::query("SELECT 1 AS one").fetch_one(&self.pool).await?;
        Ok(())
    }
}

pub(crate) fn parse_uuid(s: &str) -> sqlx::Result<Uuid> {
    Uuid::from_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) fn uuid_col(row: &AnyRow, column: &str) -> sqlx::Result<Uuid> {
    parse_uuid(&row.try_get::<String, _>(column)?)
}

pub(crate) fn enum_col<T>(
    row: &AnyRow,
    column: &str,
    parse: fn(&str) -> Option<T>,
) -> sqlx::Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| {
        sqlx::Error::Decode(format!("unexpected value {text:?} in column {column}").into())
    })
}

/// For `curfewd serve` on SQLite, taken before the database is opened or migrated: the
/// lock that keeps a second curfewd off this file. `None` on PostgreSQL, where several
/// instances are the point.
pub fn serve_lock(url: &str) -> anyhow::Result<Option<super::sqlite_file::ServeLock>> {
    let Some(path) = sqlite_path(url) else {
        return Ok(None);
    };
    super::sqlite_file::prepare(&path)?;
    Ok(Some(super::sqlite_file::ServeLock::acquire(&path)?))
}

/// The file of a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

/// `sqlite://path` with the file (and its directory) created if missing, private.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        anyhow::bail!("curfewd needs a SQLite file, not an in-memory database: use sqlite://PATH");
    }
    super::sqlite_file::prepare(std::path::Path::new(path))?;
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{}", params.join("&")))
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.db");
        let url = prepare_sqlite_url(&format!("sqlite://{}", path.display())).unwrap();
        assert!(url.ends_with("?mode=rwc"), "{url}");
        assert!(path.parent().unwrap().is_dir());
        assert!(prepare_sqlite_url("sqlite::memory:").is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://curfew:hunter2@db/curfew"),
            "postgres://curfew:***@db/curfew"
        );
    }
}
