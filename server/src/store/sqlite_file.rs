//! The SQLite file on disk. It holds password and token hashes, so it is private to the
//! user curfewd runs as: created `0600` (with its `-wal` and `-shm`, which SQLite gives
//! the database file's mode) in a directory created `0700`; an existing file readable by
//! others is tightened, with a warning. And one serving curfewd per file: two would
//! each tell only their own streams of a warning and count sign-in attempts apart, so
//! the second is refused while a lock file beside the database is held.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Creates the file (and its directory) if missing, private to this user.
pub fn prepare(path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            create_private_dir(parent)
                .with_context(|| format!("cannot create the directory {}", parent.display()))?;
        }
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("cannot open or create the database file {}", path.display()))?;
    for file in [
        path.to_path_buf(),
        sidecar(path, "-wal"),
        sidecar(path, "-shm"),
    ] {
        tighten(&file)?;
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Takes group and other permissions away from an existing file.
#[cfg(unix)]
fn tighten(file: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(file) else {
        return Ok(());
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(file = %file.display(), mode = format!("{mode:o}"), "the database file was readable by others; making it private (0600)");
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode & 0o700))
            .with_context(|| format!("cannot make {} private", file.display()))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_file: &Path) -> anyhow::Result<()> {
    Ok(())
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Held while a curfewd serves the file; released when dropped or when the process ends
/// (the operating system drops the lock of a killed process).
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

impl ServeLock {
    /// Takes `<database>.lock`, or explains who holds it and what to do instead.
    pub fn acquire(database: &Path) -> anyhow::Result<ServeLock> {
        let path = sidecar(database, ".lock");
        let mut options = OpenOptions::new();
        options.create(true).read(true).write(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    String::new()
                } else {
                    format!(" (process {holder})")
                };
                anyhow::bail!(
                    "another curfewd{who} is already serving the database {}. Stop it first, \
                     or, to run several instances, put them on one PostgreSQL database \
                     (--database-url postgres://…).",
                    database.display()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
        file.set_len(0)?;
        write!(file, "{}", std::process::id())?;
        Ok(ServeLock { _file: file })
    }
}
