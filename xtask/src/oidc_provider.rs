//! The OpenID Provider the sign-in tests run against: the certified `oidc-provider`
//! package for Node, at the version `tests/oidc/package-lock.json` pins (the major that
//! supports the machine's Node 18 or 20), installed with npm from the npm registry into
//! `target/oidc-provider/`, where `tests/oidc/provider.mjs` loads it from. Node and npm are
//! the machine's (Debian's `nodejs`, with `npm` when Node does not ship it).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

/// The files of `tests/oidc/` that say what to install.
const MANIFESTS: [&str; 2] = ["package.json", "package-lock.json"];

/// Installs oidc-provider when missing or when the pins changed; returns the folder whose
/// `node_modules` holds it (the tests read it from `CURFEW_OIDC_PROVIDER_DIR`).
pub fn ensure() -> anyhow::Result<PathBuf> {
    ensure_npm()?;
    let dir = crate::target_dir().join("oidc-provider");
    let source = crate::root().join("tests/oidc");
    let stamp = dir.join("installed-package-lock.json");
    let wanted =
        std::fs::read(source.join("package-lock.json")).context("tests/oidc/package-lock.json")?;
    let installed = dir.join("node_modules/oidc-provider/package.json").exists();
    if installed && std::fs::read(&stamp).ok().as_ref() == Some(&wanted) {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    for file in MANIFESTS {
        std::fs::copy(source.join(file), dir.join(file))
            .with_context(|| format!("copy tests/oidc/{file}"))?;
    }
    crate::run_step(
        "install the tests' OpenID Provider (oidc-provider, with npm)",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir),
    )?;
    std::fs::write(&stamp, wanted)?;
    Ok(dir)
}

/// Node 18 or later and npm: Debian's `nodejs` is in the packages; its `npm` is a package
/// of its own (some Node builds ship npm inside and conflict with it, so it is installed
/// only when no `npm` runs).
fn ensure_npm() -> anyhow::Result<()> {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .context("node (Debian package nodejs)")?;
    let version = String::from_utf8_lossy(&node.stdout).trim().to_owned();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .with_context(|| format!("node --version said {version:?}"))?;
    if major < 18 {
        bail!("oidc-provider 8 needs Node 18 or later; this is Node {version}");
    }
    let npm_runs = Command::new("npm")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if npm_runs {
        return Ok(());
    }
    if !crate::setup::is_root() {
        bail!("no npm: install it with\n  sudo apt-get install -y --no-install-recommends npm");
    }
    crate::run_step(
        "apt-get install npm",
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", "npm"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}
