//! The crate's modules are layered: every `crate::` path in a module names a
//! module of a lower layer, so the top-level modules form no circle.
//!
//! ```text
//!  cli                                   the CLI: everything below
//!  sweep ─▶ runner                       many seeds in parallel, sharded, merged
//!  chaos                                 random fault schedules over a scenario file, shrunk
//!  props ─▶ runner                       random cases; a scenario file → builder calls
//!  scenario ─▶ script ─▶ check           the language (check: its checker core)
//!  registry ─▶ frameworks                the named parts: framework kinds, sorters, programs
//!  spark ─▶ submit                       the Spark plugin
//!  cluster                               the public library: builder, faults, expectations, judge
//!  units · diag · mesos_syntax           the leaves
//! ```
//!
//! Each line names only modules on lines below it (`lib.rs` documents the same).
//!
//! Why a test: the crate once had a circle in nearly every pair of modules
//! (the builder read the language's types, the judge read the script's, the
//! registry read the CLI's and the scenario's), so no part could be read,
//! tested or moved alone. `cluster` is the public library and must stay at
//! the bottom: a framework crate depends on it without pulling in the
//! scenario language. This test fails the day a module reaches up again, and
//! prints the circle.

use std::collections::{BTreeMap, BTreeSet};
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

/// The top-level module a file belongs to: `script/faults/kill.rs` → `script`.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("under src");
    let first = rel.components().next().expect("a file name").as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules a text names through `crate::…` in its code, both
/// `crate::a::b` and `crate::{a, b::c}` (comments and doc comments are
/// skipped: a doc link is not a dependency).
fn crate_paths(text: &str) -> BTreeSet<String> {
    let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // The group's top-level items: split at commas outside nested braces.
            let (mut depth, mut item) = (0, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(ident(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            found.insert(ident(item.trim()));
        } else {
            found.insert(ident(after));
        }
        rest = after;
    }
    found.retain(|n| !n.is_empty());
    found
}

/// `module → top-level modules it names`, for every module but the facades
/// (`lib.rs` re-exports, `main.rs` is the binary).
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src()) {
        let module = module_of(&file);
        if module == "lib" || module == "main" {
            continue;
        }
        let text = fs::read_to_string(&file).expect("a source file is readable");
        let named: Vec<String> = crate_paths(&text).into_iter().filter(|m| *m != module).collect();
        deps.entry(module).or_default().extend(named);
    }
    deps
}

/// A circle of the graph (`a → b → … → a`), if it has one.
fn find_cycle(deps: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = path.iter().position(|n| n == node).expect("an open node is on the path");
                let mut cycle = path[from..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_string(), Mark::Open);
        path.push(node.to_string());
        for next in deps.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, deps, marks, path) {
                return Some(c);
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    deps.keys().find_map(|n| visit(n, deps, &mut marks, &mut Vec::new()))
}

#[test]
fn the_top_level_modules_form_no_circle() {
    let deps = dependencies();
    assert!(deps.contains_key("cluster") && deps.contains_key("scenario"), "the scan found the modules: {deps:?}");
    if let Some(cycle) = find_cycle(&deps) {
        let edges: Vec<String> = deps.iter().map(|(m, d)| format!("  {m} → {d:?}")).collect();
        panic!("the modules form a circle: {}\nevery module's imports:\n{}", cycle.join(" → "), edges.join("\n"));
    }
}

#[test]
fn the_cluster_library_imports_only_the_leaves() {
    // The leaves know no other module of the crate; the cluster builds on them alone.
    let leaves: BTreeSet<&str> = ["units", "diag", "mesos_syntax"].into();
    let deps = dependencies();
    for leaf in &leaves {
        let named = deps.get(*leaf).cloned().unwrap_or_default();
        let up: Vec<&String> = named.iter().filter(|m| !leaves.contains(m.as_str())).collect();
        assert!(up.is_empty(), "the leaf `{leaf}` names {up:?}");
    }
    let cluster = &deps["cluster"];
    let up: Vec<&String> = cluster.iter().filter(|m| !leaves.contains(m.as_str())).collect();
    assert!(
        up.is_empty(),
        "cluster/ names {up:?}: the public library may build only on {leaves:?} (the language, runner, \
         registry, Spark plugin and CLI build on it)"
    );
}

#[test]
fn the_language_reads_one_way_and_the_registry_knows_no_language() {
    let deps = dependencies();
    let forbidden = [
        // scenario → script → check, never back.
        ("script", "scenario"),
        ("check", "scenario"),
        ("check", "script"),
        // The registry and the built-in frameworks sit under the language and the CLI.
        ("registry", "cli"),
        ("registry", "scenario"),
        ("registry", "script"),
        ("frameworks", "registry"),
        ("frameworks", "scenario"),
        // The Spark plugin is below the language: it knows the cluster, not the file.
        ("spark", "scenario"),
        ("spark", "script"),
        ("spark", "check"),
        ("spark", "runner"),
    ];
    for (from, to) in forbidden {
        assert!(!deps.get(from).is_some_and(|d| d.contains(to)), "`{from}` names `{to}`: {:?}", deps.get(from));
    }
}

#[test]
fn the_scan_sees_grouped_paths_and_skips_comments() {
    let text = "use crate::a::X;\nuse crate::{b, c::{D, E}};\n// crate::hidden\n//! [`crate::doc`]\nfn f() { crate::e::g(); }\n";
    let names: Vec<String> = crate_paths(text).into_iter().collect();
    assert_eq!(names, ["a", "b", "c", "e"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(find_cycle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let acyclic: BTreeMap<String, BTreeSet<String>> =
        [("a".to_string(), BTreeSet::from(["b".to_string()])), ("b".to_string(), BTreeSet::new())].into();
    assert_eq!(find_cycle(&acyclic), None);
}

#[test]
fn only_the_cli_the_loader_and_the_harness_touch_files() {
    // The cluster, the Spark plugin and the registry are libraries a user's
    // binary embeds: they write only to the writers they are handed
    // (`Runtime::trace`, `Runtime::timeline`). Files are read by the scenario
    // loader (`scenario::load`, spark-defaults through its reader), written by
    // the CLI (`--trace`), by the props harness and by chaos (a failing
    // case, saved; chaos also reads the scenario's text to extend it).
    // The benchmarks read the process's own memory and CPU time in /proc.
    let allowed = ["cli", "scenario", "props", "chaos", "bench"];
    for file in rust_files(&src()) {
        let module = module_of(&file);
        if allowed.contains(&module.as_str()) {
            continue;
        }
        let text = fs::read_to_string(&file).expect("a source file is readable");
        let code = text.lines().filter(|l| !l.trim_start().starts_with("//"));
        let touches: Vec<&str> = code.filter(|l| l.contains("std::fs") || l.contains("File::")).collect();
        assert!(touches.is_empty(), "{} touches the file system: {touches:?}", file.display());
    }
}
