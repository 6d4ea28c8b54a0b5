//! The crate's module layout, as `lib.rs` documents it under `# Layout`,
//! is the layout the code has: every `crate::` path in a module names a
//! module further down that list, so the modules form no circle.
//!
//! Why a test: the pure models (`backend`, `scheduler`, `allocation`,
//! `endpoint`, …) once reached back into the driver (`impl SparkDriver`
//! blocks in three files), so following one status update meant four files
//! and two returns. Only the actor's folder may join the models now, and
//! this test fails the day a model names the driver again.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> =
        fs::read_dir(dir).expect("src is readable").map(|e| e.expect("a directory entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level module a file belongs to: `scheduler/dag.rs` → `scheduler`.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("under src");
    let first = rel.components().next().expect("a file name").as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules a file names through `crate::…` in its code
/// (comments and doc comments are skipped: a doc link is not a dependency).
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.push(name);
            }
            rest = after;
        }
    }
    found
}

/// The module names of the `# Layout` list in `lib.rs`, top to bottom.
fn documented_order() -> Vec<String> {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("lib.rs is readable");
    let section = lib.split("//! # Layout").nth(1).expect("lib.rs has a # Layout section");
    let section = section.split("\n//! # ").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|l| l.strip_prefix("//! - "))
        .filter_map(|item| {
            let name = item.trim_start_matches('[').strip_prefix('`')?;
            let name: String = name.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            Some(name)
        })
        .collect()
}

/// `module → modules it names`, for every top-level module but `lib.rs` (the facade).
fn dependencies() -> BTreeMap<String, Vec<String>> {
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in rust_files(&src()) {
        let module = module_of(&file);
        if module == "lib" {
            continue;
        }
        let text = fs::read_to_string(&file).expect("a source file is readable");
        let entry = deps.entry(module.clone()).or_default();
        for dep in crate_paths(&text) {
            if dep != module && !entry.contains(&dep) {
                entry.push(dep);
            }
        }
    }
    deps
}

#[test]
fn every_module_is_in_the_documented_layout() {
    let order = documented_order();
    let modules: Vec<String> = dependencies().into_keys().collect();
    let mut documented = order.clone();
    documented.sort();
    assert_eq!(documented, modules, "lib.rs's # Layout lists each module once: {order:?}");
}

#[test]
fn dependencies_point_down_the_documented_layout() {
    let order = documented_order();
    let rank = |m: &str| order.iter().position(|o| o == m);
    let mut upward = Vec::new();
    for (module, deps) in dependencies() {
        for dep in deps {
            match (rank(&module), rank(&dep)) {
                (Some(a), Some(b)) if a < b => {}
                _ => upward.push(format!("{module} → {dep}")),
            }
        }
    }
    assert!(upward.is_empty(), "these uses point up the # Layout list (a circle, or a list out of date): {upward:?}");
}

#[test]
fn the_pure_models_never_name_the_driver() {
    for (module, deps) in dependencies() {
        if module != "driver" {
            assert!(!deps.contains(&"driver".to_string()), "{module} uses crate::driver");
        }
    }
    // The check above reads real files: make sure it would see a use.
    assert_eq!(crate_paths("use crate::driver::SparkDriver;\nuse crate::phase::Phase;"), vec!["driver", "phase"]);
    assert!(crate_paths("//! see [`crate::driver`]").is_empty(), "doc links are not dependencies");
}
