//! A few read-only rusqlite connections to the SQLite file, for the one statement that
//! runs on every request (see `session_check`, which says why it leaves the pool).
//!
//! Invariants:
//! - these connections only read (`PRAGMA query_only`), so the pool stays the one writer;
//! - no read transaction is held between reads: each statement sees every transaction
//!   committed before it began, by this server, by another connection or by the command
//!   line (WAL);
//! - a read never waits: with every connection in use, a busy database (`busy_timeout`
//!   0) or any error, the answer is `None` and the caller goes through the pool, which
//!   queues and waits as every other statement does.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

/// Enough that the runtime's threads (two on two cores) rarely find them all in use, few
/// enough to stay small.
pub(crate) const CONNECTIONS: usize = 4;

/// The connections, each opened when first needed.
pub(crate) struct CheckReads {
    path: PathBuf,
    slots: Vec<Mutex<Option<Connection>>>,
    next: AtomicUsize,
}

impl CheckReads {
    pub(crate) fn new(path: &Path) -> CheckReads {
        CheckReads {
            path: path.to_path_buf(),
            slots: (0..CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// `read` on a free connection, or `None` when it could not run here (see the
    /// module's invariants). `read` must finish its statements (drop their rows) before it
    /// returns, so that no snapshot outlives it.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, String>) -> Option<T> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut slot = (0..self.slots.len())
            .find_map(|i| self.slots[(start + i) % self.slots.len()].try_lock().ok())?;
        if slot.is_none() {
            match open(&self.path) {
                Ok(connection) => *slot = Some(connection),
                Err(error) => {
                    tracing::debug!(%error, "session check read through the pool instead");
                    return None;
                }
            }
        }
        match read(slot.as_ref().expect("opened above")) {
            Ok(found) => Some(found),
            Err(error) => {
                // Busy during a checkpoint, or a broken connection: the pool answers this
                // one, and the connection is opened afresh next time.
                tracing::debug!(%error, "session check read through the pool instead");
                *slot = None;
                None
            }
        }
    }

    /// Runs `f` on every connection opened so far (for tests).
    #[cfg(test)]
    pub(crate) fn each_open(&self, mut f: impl FnMut(&Connection)) -> usize {
        let mut opened = 0;
        for slot in &self.slots {
            if let Some(connection) = slot.lock().expect("not poisoned").as_ref() {
                f(connection);
                opened += 1;
            }
        }
        opened
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    // Opened read-write (a read-only WAL reader needs the -shm to exist already) and
    // then held to reads.
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 0;")?;
    Ok(connection)
}
