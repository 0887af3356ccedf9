//! Proportional memory (PSS) of a desktop app: its own process and every descendant (the
//! WebKit web and network processes, through bubblewrap where WebKit sandboxes them), each
//! read from `/proc/<pid>/smaps_rollup`. PSS shares a page among the processes mapping it,
//! so libraries the app shares with the rest of the desktop count only their share, and
//! the sum over the tree is what the app costs the machine.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// One process of the app's tree.
#[derive(Clone, Debug)]
pub struct Part {
    pub name: String,
    pub pss_kib: u64,
    pub anon_kib: u64,
    pub file_kib: u64,
}

/// The app's tree at one moment.
#[derive(Clone, Debug)]
pub struct Memory {
    pub parts: Vec<Part>,
}

impl Memory {
    pub fn mib(&self) -> f64 {
        self.parts.iter().map(|p| p.pss_kib).sum::<u64>() as f64 / 1024.0
    }

    /// Per process name (WebKit may run several web processes), largest first.
    pub fn by_name(&self) -> String {
        let mut names: BTreeMap<&str, (u64, u64, u64, usize)> = BTreeMap::new();
        for p in &self.parts {
            let e = names.entry(&p.name).or_default();
            e.0 += p.pss_kib;
            e.1 += p.anon_kib;
            e.2 += p.file_kib;
            e.3 += 1;
        }
        let mut rows: Vec<_> = names.into_iter().collect();
        rows.sort_by_key(|(_, (pss, ..))| std::cmp::Reverse(*pss));
        rows.iter()
            .filter(|(_, (pss, ..))| *pss >= 1024)
            .map(|(name, (pss, anon, file, n))| {
                let count = if *n > 1 {
                    format!(" ×{n}")
                } else {
                    String::new()
                };
                format!(
                    "{name}{count} {:.0} (anon {:.0}, file {:.0})",
                    *pss as f64 / 1024.0,
                    *anon as f64 / 1024.0,
                    *file as f64 / 1024.0
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

struct Proc {
    pid: u32,
    ppid: u32,
    exe: Option<std::path::PathBuf>,
}

fn processes() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name may hold spaces and parentheses: the fields after it count
            // from the last ')'.
            let ppid = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            Some(Proc { pid, ppid, exe })
        })
        .collect()
}

/// Processes running the executable `app` (not their descendants).
pub fn app_pids(app: &Path) -> Vec<u32> {
    let app = std::fs::canonicalize(app).unwrap_or_else(|_| app.to_owned());
    processes()
        .into_iter()
        .filter(|p| p.exe.as_deref() == Some(app.as_path()))
        .map(|p| p.pid)
        .collect()
}

/// Until no process of `app` is left, so that one launch's processes never count in the
/// next one's memory (and Curfew's next launch is not a second instance, which only shows
/// the first one's window and quits): 15 s for it to quit, then SIGTERM, then SIGKILL.
pub async fn wait_until_gone(app: &Path) {
    for signal in [None, Some("-TERM"), Some("-KILL")] {
        if let Some(signal) = signal {
            let pids = app_pids(app);
            if pids.is_empty() {
                return;
            }
            eprintln!(
                "    {} still runs after its window closed: kill {signal}",
                app.display()
            );
            for pid in pids {
                let _ = std::process::Command::new("kill")
                    .args([signal, &pid.to_string()])
                    .status();
            }
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while !app_pids(app).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn field(rollup: &str, name: &str) -> u64 {
    rollup
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// PSS of `app`'s processes and all their descendants now.
pub fn measure(app: &Path) -> anyhow::Result<Memory> {
    let app = std::fs::canonicalize(app)?;
    let all = processes();
    let mut tree: Vec<u32> = all
        .iter()
        .filter(|p| p.exe.as_deref() == Some(app.as_path()))
        .map(|p| p.pid)
        .collect();
    anyhow::ensure!(!tree.is_empty(), "{} is not running", app.display());
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        i += 1;
    }
    let mut parts = Vec::new();
    for pid in tree {
        // A process that ended meanwhile holds nothing any more.
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap_or_else(|_| "?".into())
            .trim()
            .to_owned();
        parts.push(Part {
            name,
            pss_kib: field(&rollup, "Pss:"),
            anon_kib: field(&rollup, "Pss_Anon:"),
            file_kib: field(&rollup, "Pss_File:"),
        });
    }
    Ok(Memory { parts })
}

/// PSS once it has settled after the page's last change: sampled every half second until
/// two samples in a row differ by less than 1 MiB, for at most 10 s (then the last one).
pub async fn settled(app: &Path) -> anyhow::Result<Memory> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = measure(app)?;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = measure(app)?;
        if (now.mib() - last.mib()).abs() < 1.0 || Instant::now() > deadline {
            return Ok(now);
        }
        last = now;
    }
}
