//! `cargo xtask layers`: the module graph of curfewd (`server/src`), checked. It reads every
//! `crate::…` and `super::…` path in the sources, resolves each to the module file it
//! names, and fails when
//! - two modules depend on each other, directly or through others (a cycle), or
//! - a top-level module depends on one its layer may not use: `http`, `scheduler` and
//!   `cluster` stand on `core`, `core` on `store`, and `store` on nothing.
//!
//! A parent's `mod child;` is not a dependency: only paths in the code count. Paths to the
//! crate root (`crate::now_ms`) are allowed everywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// What each top-level module may depend on (besides itself and the crate root).
const LAYERS: &[(&str, &[&str])] = &[
    ("store", &[]),
    ("core", &["store"]),
    ("http", &["core"]),
    ("scheduler", &["core"]),
    ("cluster", &["core"]),
    ("seed", &["core", "store"]),
    ("daemon", &["core", "http", "scheduler", "cluster", "store"]),
    ("cli", &["core", "store", "seed", "daemon"]),
];

type Module = Vec<String>;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let verbose = args.iter().any(|a| a == "--print");
    // `--dir DIR`: another checkout's sources (to compare with an earlier commit).
    let root = match args.iter().position(|a| a == "--dir") {
        Some(i) => PathBuf::from(args.get(i + 1).context("--dir takes a directory")?),
        None => crate::root().join("server/src"),
    };
    let graph = module_graph(&root)?;
    if verbose {
        for (from, to) in &graph {
            let to: Vec<String> = to.iter().map(name).collect();
            println!("{} -> {}", name(from), to.join(", "));
        }
    }
    let mut problems = Vec::new();
    for (from, to) in &graph {
        let Some(top) = from.first() else { continue };
        // Tests set up what they check (a user row, say) below the layer they test.
        if from.iter().any(|m| m == "tests") {
            continue;
        }
        let allowed = LAYERS.iter().find(|(m, _)| m == top).map(|(_, a)| *a);
        for dep in to {
            let Some(dep_top) = dep.first() else { continue };
            if dep_top == top {
                continue;
            }
            match allowed {
                Some(allowed) if allowed.contains(&dep_top.as_str()) => {}
                Some(_) => problems.push(format!(
                    "{} uses {}: the {top} layer may not depend on {dep_top}",
                    name(from),
                    name(dep)
                )),
                None => problems.push(format!(
                    "{} is a top-level module with no layer: add it to LAYERS in xtask/src/layers.rs",
                    name(from)
                )),
            }
        }
    }
    for cycle in cycles(&graph) {
        let names: Vec<String> = cycle.iter().map(name).collect();
        problems.push(format!("module cycle: {}", names.join(" -> ")));
    }
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("layers: {p}");
        }
        bail!("{} layering problems in server/src", problems.len());
    }
    println!(
        "layers: {} modules, {edges} dependencies, no cycle, every layer one way (http/scheduler/cluster -> core -> store)",
        graph.len()
    );
    Ok(())
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

/// Every module (by path) with the modules its code names.
fn module_graph(root: &Path) -> anyhow::Result<BTreeMap<Module, BTreeSet<Module>>> {
    let mut files = Vec::new();
    collect(root, &mut files)?;
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(root, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(root, file);
        let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
        let mut deps = BTreeSet::new();
        let children: BTreeSet<String> = modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(&module[..]))
            .map(|m| m[module.len()].clone())
            .collect();
        for path in paths_in(&strip_comments(&text), &children) {
            let absolute = match path.first().map(String::as_str) {
                Some("crate") => path[1..].to_vec(),
                Some("super") => {
                    let mut base = module.clone();
                    let mut rest = &path[..];
                    while rest.first().map(String::as_str) == Some("super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                    base.extend(rest.iter().cloned());
                    base
                }
                Some("self") => module.iter().chain(&path[1..]).cloned().collect(),
                // `use child::Item` in a parent, or a path through a child.
                Some(first) if children.contains(first) => {
                    module.iter().chain(&path).cloned().collect()
                }
                _ => continue,
            };
            let target = deepest_module(&modules, &absolute);
            // A child naming its parent (`super::AppState`) counts; the crate root and
            // the module itself do not.
            if !target.is_empty() && target != module {
                deps.insert(target);
            }
        }
        graph.insert(module, deps);
    }
    Ok(graph)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// `core/secrets.rs` -> [core, secrets]; `core/mod.rs` -> [core]; `lib.rs` -> [].
fn module_of(root: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(root).expect("under root");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The longest prefix of `path` that is a module with a file of its own.
fn deepest_module(modules: &BTreeSet<Module>, path: &[String]) -> Module {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| modules.contains(m))
        .unwrap_or_default()
}

/// The code without comments and without an inline `mod tests { … }` (whose `super` is
/// the file's own module, not its parent).
fn strip_comments(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::a::b` / `super::a` / `self::a` path, and every path that starts with
/// one of `children` (the module's own submodules), with `use x::{a, b::c}` groups
/// expanded to `x::a` and `x::b::c`.
fn paths_in(text: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let starts: Vec<String> = ["crate", "super", "self"]
        .iter()
        .map(|s| s.to_string())
        .chain(children.iter().cloned())
        .map(|s| format!("{s}::"))
        .collect();
    for start in &starts {
        let mut from = 0;
        while let Some(i) = text[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            expand(&text[at..], Vec::new(), &mut out);
        }
    }
    out
}

/// Reads one path (and its brace group) from the start of `text`.
fn expand(text: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    let mut rest = text;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        path.push(rest[..end].to_owned());
        rest = &rest[end..];
        if let Some(next) = rest.strip_prefix("::") {
            rest = next;
            if let Some(group) = rest.strip_prefix('{') {
                for item in split_group(group) {
                    expand(item.trim(), path.clone(), out);
                }
                return;
            }
        } else {
            break;
        }
    }
    out.push(path);
}

/// The top-level items of `a, b::{c, d}, e}` (up to the matching brace).
fn split_group(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
}

/// Every cycle of the graph, each once (from its smallest module).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    let mut found = BTreeSet::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if next == start {
                    let mut cycle = path.clone();
                    let smallest = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap_or(0);
                    cycle.rotate_left(smallest);
                    cycle.push(cycle[0].clone());
                    found.insert(cycle);
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_expand_and_super_resolves() {
        let text = "use crate::core::{secrets, AppState};\nuse super::{notices, x::{y, z}};";
        let paths = paths_in(text, &BTreeSet::from(["hub".to_owned()]));
        assert!(
            paths_in("use hub::NoticeHub;", &BTreeSet::from(["hub".to_owned()]))
                .contains(&vec!["hub".into(), "NoticeHub".into()])
        );
        assert!(paths.contains(&vec!["crate".into(), "core".into(), "secrets".into()]));
        assert!(paths.contains(&vec!["super".into(), "x".into(), "z".into()]));
    }

    #[test]
    fn cycles_are_found() {
        let m = |s: &str| vec![s.to_owned()];
        let mut graph = BTreeMap::new();
        graph.insert(m("a"), BTreeSet::from([m("b")]));
        graph.insert(m("b"), BTreeSet::from([m("c")]));
        graph.insert(m("c"), BTreeSet::from([m("a")]));
        graph.insert(m("d"), BTreeSet::from([m("a")]));
        assert_eq!(cycles(&graph), vec![vec![m("a"), m("b"), m("c"), m("a")]]);
    }
}
