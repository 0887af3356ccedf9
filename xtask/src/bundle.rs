//! `cargo xtask bundle [--release] [--target TRIPLE] [-- ARGS]`: the installable packages.
//!
//! - The desktop app with Tauri's own bundler (`cargo tauri bundle`, tauri-cli major 2,
//!   installed under `target/tools/` once): `.deb` and `.rpm` on Linux, MSI and NSIS on
//!   Windows, `.app` and `.dmg` on macOS. The bundle settings are the `bundle` section of
//!   the root `tauri.conf.json`; the version is `src-tauri/Cargo.toml`'s.
//! - curfewd as a `.deb` (Linux), with `dpkg-deb` from a tree staged under `target/`:
//!   the packaging files are `deploy/debian/curfewd/` and the units `deploy/*.service`,
//!   copied verbatim.
//!
//! tauri-cli looks for the app's crate beside the config file, and ours is at the
//! repository root, beside the workspace (the layout tauri-build reads): so the app is
//! built here (`cargo build -p curfew-app --features custom-protocol`, which is what
//! `cargo tauri build` runs) and the bundler runs in a staged project under
//! `target/bundle/project/` whose manifest names the app's binary, version and Tauri
//! features and whose config is the root one with paths made absolute. Packages land in
//! `target/<profile>/bundle/<kind>/`. Without `--release` the app is a debug build (it
//! reuses `target/debug`, for the install test); release packages take `--release`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// tauri-cli's major version, as for tauri itself (the registry also serves 3.0 alphas).
pub const TAURI_CLI: &str = "^2";

/// What `bundle` made.
pub struct Packages {
    /// The desktop app's packages (`.deb`, `.rpm`, `.msi`, …).
    pub app: Vec<PathBuf>,
    /// curfewd's `.deb` (Linux only).
    pub server_deb: Option<PathBuf>,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut release = false;
    let mut target = None;
    let mut rest = args.iter();
    let mut passthrough = Vec::new();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--release" => release = true,
            "--target" => target = Some(rest.next().context("--target takes a triple")?.clone()),
            "--" => passthrough.extend(rest.by_ref().cloned()),
            _ => bail!("usage: cargo xtask bundle [--release] [--target TRIPLE] [-- ARGS for cargo tauri bundle]"),
        }
    }
    let started = std::time::Instant::now();
    let packages = bundle(release, target.as_deref(), &passthrough)?;
    for path in packages.app.iter().chain(&packages.server_deb) {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!("{}  ({:.1} MB)", path.display(), size as f64 / 1e6);
    }
    eprintln!("==> bundled in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Builds and bundles the app, and on Linux curfewd's `.deb`.
pub fn bundle(release: bool, target: Option<&str>, extra: &[String]) -> anyhow::Result<Packages> {
    let tauri = ensure_tauri_cli()?;
    let app = bundle_app(&tauri, release, target, extra)?;
    let server_deb = if cfg!(target_os = "linux") && target.is_none() {
        let curfewd = crate::build_curfewd(release)?;
        let out = profile_dir(release, None).join("bundle").join("deb");
        Some(server_deb(
            &curfewd,
            &package_version("curfew-server")?,
            &out,
        )?)
    } else {
        None
    };
    Ok(Packages { app, server_deb })
}

/// `target/tools/bin/cargo-tauri`, installed from the crate registry if missing.
pub fn ensure_tauri_cli() -> anyhow::Result<PathBuf> {
    let root = crate::target_dir().join("tools");
    let bin = root
        .join("bin")
        .join(format!("cargo-tauri{}", std::env::consts::EXE_SUFFIX));
    let major_2 = Command::new(&bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).starts_with("tauri-cli 2."))
        .unwrap_or(false);
    if !major_2 {
        let started = std::time::Instant::now();
        crate::run_step(
            "cargo install tauri-cli (into target/tools)",
            crate::cargo()
                .args(["install", "tauri-cli", "--locked", "--version", TAURI_CLI])
                .arg("--root")
                .arg(&root),
        )?;
        eprintln!(
            "==> tauri-cli installed in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(bin)
}

fn profile_dir(release: bool, target: Option<&str>) -> PathBuf {
    let mut dir = crate::target_dir();
    if let Some(triple) = target {
        dir.push(triple);
    }
    dir.join(if release { "release" } else { "debug" })
}

/// `cargo metadata` of the workspace's own packages.
fn metadata() -> anyhow::Result<serde_json::Value> {
    let out = crate::cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("cargo metadata")?;
    anyhow::ensure!(out.status.success(), "cargo metadata failed");
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn package(metadata: &serde_json::Value, name: &str) -> anyhow::Result<serde_json::Value> {
    metadata["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == name))
        .cloned()
        .with_context(|| format!("no package {name} in the workspace"))
}

/// A workspace package's version, from its Cargo.toml.
pub fn package_version(name: &str) -> anyhow::Result<String> {
    Ok(package(&metadata()?, name)?["version"]
        .as_str()
        .context("no version")?
        .to_owned())
}

/// The bundles Tauri makes on this platform.
fn bundles() -> &'static str {
    if cfg!(target_os = "windows") {
        "msi,nsis"
    } else if cfg!(target_os = "macos") {
        "app,dmg"
    } else {
        "deb,rpm"
    }
}

fn bundle_app(
    tauri: &Path,
    release: bool,
    target: Option<&str>,
    extra: &[String],
) -> anyhow::Result<Vec<PathBuf>> {
    let build = |triple: Option<&str>| {
        let mut cmd = crate::cargo();
        cmd.args(["build", "--package", "curfew-app", "--bin", "curfew-app"])
            .args(["--features", "custom-protocol"]);
        if release {
            cmd.arg("--release");
        }
        if let Some(triple) = triple {
            cmd.args(["--target", triple]);
        }
        crate::run_step(
            &format!(
                "build the desktop app for bundling ({}{})",
                if release { "release" } else { "debug" },
                triple.map(|t| format!(", {t}")).unwrap_or_default()
            ),
            &mut cmd,
        )
    };
    if target == Some("universal-apple-darwin") {
        // One binary for both Mac architectures, where the bundler expects it.
        let out = profile_dir(release, target);
        std::fs::create_dir_all(&out)?;
        let mut lipo = Command::new("lipo");
        lipo.arg("-create")
            .arg("-output")
            .arg(out.join("curfew-app"));
        for triple in ["aarch64-apple-darwin", "x86_64-apple-darwin"] {
            build(Some(triple))?;
            lipo.arg(profile_dir(release, Some(triple)).join("curfew-app"));
        }
        crate::run_step("lipo: a universal binary", &mut lipo)?;
    } else {
        build(target)?;
    }

    let metadata = metadata()?;
    let app = package(&metadata, "curfew-app")?;
    let project = crate::target_dir().join("bundle").join("project");
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(&project)?;
    std::fs::write(project.join("Cargo.toml"), staged_manifest(&app)?)?;
    std::fs::write(
        project.join("tauri.conf.json"),
        serde_json::to_string_pretty(&staged_config()?)?,
    )?;

    let out = profile_dir(release, target).join("bundle");
    let mut cmd = Command::new(tauri);
    cmd.args(["tauri", "bundle", "--bundles", bundles(), "--ci"])
        .args(target.map(|t| ["--target", t]).into_iter().flatten())
        .args(extra)
        .current_dir(&project)
        // The binary is in the workspace's target dir, not the staged project's.
        .env("CARGO_TARGET_DIR", crate::target_dir());
    if !release {
        cmd.arg("--debug");
    }
    let started = std::time::Instant::now();
    crate::run_step("cargo tauri bundle", &mut cmd)?;
    eprintln!(
        "==> Tauri's bundler took {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let version = app["version"].as_str().context("no version")?;
    let mut made = Vec::new();
    for kind in bundles().split(',') {
        let dir = out.join(if kind == "app" { "macos" } else { kind });
        for entry in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
            let path = entry?.path();
            if matches!(kind, "deb" | "rpm") && path.is_dir() {
                // The bundler's staged tree, with a copy of the binary (300 MB in a
                // debug build): the package has it.
                std::fs::remove_dir_all(&path)?;
                continue;
            }
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let wanted = match kind {
                "app" => name.ends_with(".app"),
                "nsis" => name.ends_with(".exe"),
                kind => name.ends_with(&format!(".{kind}")),
            };
            if wanted && (kind == "app" || name.contains(version)) {
                made.push(path);
            }
        }
    }
    anyhow::ensure!(
        !made.is_empty(),
        "the bundler made no package under {}",
        out.display()
    );
    Ok(made)
}

/// The staged project's manifest: what tauri-cli reads of a crate (name, version,
/// description, the binary, Tauri's features, from which it adds the tray library to the
/// packages' dependencies). It is its own workspace, never built.
fn staged_manifest(app: &serde_json::Value) -> anyhow::Result<String> {
    let tauri_features: Vec<String> = app["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["name"] == "tauri" && d["kind"].is_null())
        .flat_map(|d| d["features"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(|s| format!("{s:?}")))
        .collect();
    let field = |name: &str| -> anyhow::Result<String> {
        Ok(format!(
            "{:?}",
            app[name]
                .as_str()
                .with_context(|| format!("curfew-app has no {name}"))?
        ))
    };
    Ok(format!(
        "# Staged by `cargo xtask bundle` for tauri-cli; never built.\n\
         [package]\nname = \"curfew-app\"\nversion = {}\ndescription = {}\nlicense = {}\nedition = \"2021\"\n\n\
         [[bin]]\nname = \"curfew-app\"\npath = \"main.rs\"\n\n\
         [dependencies]\ntauri = {{ version = \"2\", features = [{}] }}\n\n[workspace]\n",
        field("version")?,
        field("description")?,
        field("license")?,
        tauri_features.join(", ")
    ))
}

/// The root `tauri.conf.json` with its paths (relative to the repository root) made
/// absolute, so that they mean the same from the staged project.
fn staged_config() -> anyhow::Result<serde_json::Value> {
    let root = crate::root();
    let text = std::fs::read_to_string(root.join("tauri.conf.json"))?;
    let mut config: serde_json::Value = serde_json::from_str(&text)?;
    let absolute = |value: &mut serde_json::Value| {
        if let Some(path) = value.as_str() {
            *value = root.join(path).display().to_string().into();
        }
    };
    if let Some(dist) = config.pointer_mut("/build/frontendDist") {
        absolute(dist);
    }
    if let Some(icons) = config
        .pointer_mut("/bundle/icon")
        .and_then(|i| i.as_array_mut())
    {
        icons.iter_mut().for_each(absolute);
    }
    for pointer in [
        "/bundle/linux/deb/desktopTemplate",
        "/bundle/linux/rpm/desktopTemplate",
        "/bundle/windows/nsis/installerIcon",
    ] {
        if let Some(path) = config.pointer_mut(pointer) {
            absolute(path);
        }
    }
    Ok(config)
}

/// curfewd's `.deb`: `deploy/debian/curfewd/` (control, maintainer scripts, conffiles,
/// the env file) and `deploy/*.service`, staged under `target/bundle/curfewd-deb/` and
/// packed by `dpkg-deb` with root as owner.
pub fn server_deb(curfewd: &Path, version: &str, out_dir: &Path) -> anyhow::Result<PathBuf> {
    let deploy = crate::root().join("deploy");
    let source = deploy.join("debian").join("curfewd");
    let stage = crate::target_dir().join("bundle").join("curfewd-deb");
    let _ = std::fs::remove_dir_all(&stage);
    let tree = stage.join("tree");
    let install = |from: &Path, to: &str, mode: u32| -> anyhow::Result<()> {
        let to = tree.join(to);
        std::fs::create_dir_all(to.parent().expect("a file in a folder"))?;
        std::fs::copy(from, &to).with_context(|| format!("copy {}", from.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(())
    };
    install(curfewd, "usr/bin/curfewd", 0o755)?;
    // As Debian ships binaries: without debug information (a debug build's is most of
    // its size).
    crate::run_step(
        "strip curfewd's debug information",
        Command::new("strip")
            .arg("--strip-debug")
            .arg(tree.join("usr/bin/curfewd")),
    )?;
    install(&source.join("env"), "etc/curfewd/env", 0o640)?;
    for unit in ["curfewd.service", "curfewd@.service"] {
        install(
            &deploy.join(unit),
            &format!("usr/lib/systemd/system/{unit}"),
            0o644,
        )?;
    }
    for script in ["postinst", "prerm", "postrm"] {
        install(&source.join(script), &format!("DEBIAN/{script}"), 0o755)?;
    }
    install(&source.join("conffiles"), "DEBIAN/conffiles", 0o644)?;

    // The shared libraries curfewd links, as Debian names them (dpkg-shlibdeps reads a
    // debian/control of its own beside the tree).
    std::fs::create_dir_all(stage.join("debian"))?;
    std::fs::write(
        stage.join("debian").join("control"),
        "Source: curfewd\n\nPackage: curfewd\nArchitecture: any\n",
    )?;
    let shlibs = Command::new("dpkg-shlibdeps")
        .args(["-O", "-e", "tree/usr/bin/curfewd"])
        .current_dir(&stage)
        .output()
        .context("dpkg-shlibdeps (Debian package dpkg-dev)")?;
    anyhow::ensure!(
        shlibs.status.success(),
        "dpkg-shlibdeps: {}",
        String::from_utf8_lossy(&shlibs.stderr)
    );
    let depends = String::from_utf8_lossy(&shlibs.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("shlibs:Depends=").map(str::to_owned))
        .context("dpkg-shlibdeps named no dependency")?;
    let arch = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .context("dpkg")?;
    let arch = String::from_utf8_lossy(&arch.stdout).trim().to_owned();
    let installed_kib = du_kib(&tree)?;
    let control = std::fs::read_to_string(source.join("control"))?
        .replace("@VERSION@", version)
        .replace("@ARCH@", &arch)
        .replace("@DEPENDS@", &depends)
        .replace("@INSTALLED_SIZE@", &installed_kib.to_string());
    for placeholder in ["@VERSION@", "@ARCH@", "@DEPENDS@", "@INSTALLED_SIZE@"] {
        anyhow::ensure!(
            !control.contains(placeholder),
            "{placeholder} left in {control}"
        );
    }
    std::fs::write(tree.join("DEBIAN").join("control"), control)?;

    std::fs::create_dir_all(out_dir)?;
    let deb = out_dir.join(format!("curfewd_{version}_{arch}.deb"));
    crate::run_step(
        &format!("dpkg-deb: {}", deb.display()),
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&tree)
            .arg(&deb),
    )?;
    Ok(deb)
}

/// Kibibytes the files under `dir` take (Installed-Size).
fn du_kib(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if entry.file_name() != "DEBIAN" {
                total += du_kib(&entry.path())?;
            }
        } else {
            total += entry.metadata()?.len().div_ceil(1024);
        }
    }
    Ok(total)
}

/// The README shows the systemd units the package installs, verbatim.
pub fn readme_shows_units() -> anyhow::Result<()> {
    let root = crate::root();
    let readme = std::fs::read_to_string(root.join("README.md"))?;
    for unit in ["curfewd.service", "curfewd@.service"] {
        let text = std::fs::read_to_string(root.join("deploy").join(unit))?;
        anyhow::ensure!(
            readme.contains(&format!("```ini\n{text}```\n")),
            "README.md does not show deploy/{unit} verbatim"
        );
    }
    eprintln!("==> README.md shows deploy/curfewd.service and deploy/curfewd@.service verbatim");
    Ok(())
}
