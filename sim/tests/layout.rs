//! The sim crate's module layout, as `lib.rs` documents it under `# Layout`,
//! is the layout the code has: every `crate::` path in a module names a module
//! further down that list, so the modules form no circle. And the cores stay
//! sans-IO: none of their manifests names tokio or tonic.
//!
//! Why a test: the world, its fault rules and its gRPC transport once imported
//! each other (`faults` took the seed helpers from `world`, `grpc` took `World`
//! itself and reached into its state, `world` called `grpc`), so none of the
//! three could be read, or changed, alone. Now the world owns its parts and
//! none of them names it; this test fails, printing the circle, the day one of
//! them does again.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn src() -> PathBuf {
    crate_dir().join("src")
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

/// The top-level module a file belongs to: `world/link.rs` → `world` (a
/// folder's files are one module's parts, and may use each other freely).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("under src");
    let first = rel.components().next().expect("a file name").as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The first path segment of every `crate::…` path in `text`'s code, with
/// `use crate::{a::X, b::Y}` groups opened (comments and doc comments are
/// skipped: a doc link is not a dependency).
fn crate_paths(text: &str) -> Vec<String> {
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    let code = code.join("\n");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // One level of braces is all a `use` of this crate's modules needs.
            let inner = group.split('}').next().unwrap_or("");
            found.extend(inner.split(',').map(|item| ident(item.trim())).filter(|n| !n.is_empty()));
        } else {
            let name = ident(after);
            if !name.is_empty() {
                found.push(name);
            }
        }
        rest = after;
    }
    found
}

/// What `lib.rs` re-exports at the crate root, by name → the module it comes
/// from (`None` for another crate, as `proto`), so `crate::World` counts as a
/// use of `world`.
fn root_reexports() -> BTreeMap<String, Option<String>> {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("lib.rs is readable");
    let code: Vec<&str> = lib.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    let mut names = BTreeMap::new();
    for statement in code.join(" ").split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else { continue };
        if let Some((_, alias)) = path.split_once(" as ") {
            names.insert(alias.trim().to_string(), None);
            continue;
        }
        let (module, items) = path.split_once("::").expect("pub use module::item");
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let name = item.rsplit("::").next().expect("an item");
            names.insert(name.to_string(), Some(module.trim().to_string()));
        }
    }
    names
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
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let files: Vec<PathBuf> = rust_files(&src()).into_iter().filter(|f| module_of(f) != "lib").collect();
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let reexports = root_reexports();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file);
        let text = fs::read_to_string(&file).expect("a source file is readable");
        let entry = deps.entry(module.clone()).or_default();
        for name in crate_paths(&text) {
            let dep = if modules.contains(&name) {
                Some(name)
            } else {
                match reexports.get(&name) {
                    Some(from) => from.clone(),
                    None => panic!("{}: `crate::{name}` is neither a module nor a root re-export", file.display()),
                }
            };
            if let Some(dep) = dep.filter(|d| *d != module) {
                entry.insert(dep);
            }
        }
    }
    deps
}

/// A circle in `graph`, as the path that closes it (`a → b → a`), if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_form_no_circle() {
    let deps = dependencies();
    if let Some(circle) = find_circle(&deps) {
        panic!("the sim crate's modules import each other in a circle: {}", circle.join(" → "));
    }
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
fn the_world_s_parts_never_name_the_world() {
    let deps = dependencies();
    for part in ["grpc", "mailbox", "transit", "faults", "latency", "seed"] {
        let named = &deps[part];
        assert!(!named.contains("world"), "{part} uses the world: {named:?}");
    }
    // The checks above read real files: make sure they see real uses.
    assert!(deps["world"].contains("grpc") && deps["grpc"].contains("mailbox"), "{deps:?}");
}

#[test]
fn the_checker_sees_uses_and_circles() {
    assert_eq!(
        crate_paths("use crate::world::World;\nuse crate::{mailbox::Mailboxes, seed};"),
        ["world", "mailbox", "seed"]
    );
    assert_eq!(crate_paths("let p = crate::grpc::Peer::default();"), ["grpc"]);
    assert!(crate_paths("//! see [`crate::world`]\n/// and crate::grpc").is_empty(), "doc links are not uses");
    assert_eq!(root_reexports().get("World"), Some(&Some("world".to_string())), "crate::World is world's");
    assert_eq!(root_reexports().get("proto"), Some(&None), "proto is another crate");

    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let circle = find_circle(&graph(&[("world", "grpc"), ("grpc", "mailbox"), ("mailbox", "world")]));
    assert_eq!(circle, Some(["grpc", "mailbox", "world", "grpc"].map(String::from).to_vec()));
    assert_eq!(find_circle(&graph(&[("world", "grpc"), ("world", "mailbox"), ("grpc", "mailbox")])), None);
}

/// The crates that make the gRPC transport (tonic and its HTTP/2 plumbing).
const GRPC_CRATES: [&str; 4] = ["tonic", "tower", "http_body", "tokio_stream"];

/// Which of [`GRPC_CRATES`] `text`'s code names (comments skipped).
fn grpc_crates_named(text: &str) -> Vec<&'static str> {
    let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    let code = code.join("\n");
    GRPC_CRATES.into_iter().filter(|c| code.contains(&format!("{c}::")) || code.contains(&format!("use {c}"))).collect()
}

/// Only `grpc` knows tonic: the memory transport, the world and the faults
/// would run the same with the gRPC transport taken out.
#[test]
fn only_grpc_names_tonic() {
    assert_eq!(grpc_crates_named("use tonic::{Code, Status};\n// tower::service_fn"), ["tonic"]);
    let mut named = Vec::new();
    for file in rust_files(&src()) {
        let found = grpc_crates_named(&fs::read_to_string(&file).expect("a source file is readable"));
        if module_of(&file) == "grpc" {
            assert!(found.contains(&"tonic"), "the check sees grpc's own use");
        } else if !found.is_empty() {
            named.push(format!("{}: {found:?}", file.display()));
        }
    }
    assert!(named.is_empty(), "only grpc.rs may name the gRPC crates: {named:?}");
}

/// The names a `Cargo.toml` depends on (any table: normal, dev, build).
fn manifest_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines().map(str::trim) {
        if let Some(table) = line.strip_prefix('[') {
            let table = table.trim_end_matches(']');
            in_deps = table.ends_with("dependencies");
            // `[dependencies.tokio]`
            if let Some((_, name)) = table.split_once("dependencies.") {
                names.insert(name.to_string());
            }
            continue;
        }
        if in_deps && let Some((key, _)) = line.split_once('=') {
            // `tokio.workspace = true`, `tokio = "1"`, `tokio = { … }`
            names.insert(key.trim().split('.').next().unwrap_or("").to_string());
        }
    }
    names
}

/// The cores are sans-IO state machines: the world runs them, so they never
/// need a runtime or a transport (review rule: no tokio or tonic in a core).
#[test]
fn the_cores_depend_on_neither_tokio_nor_tonic() {
    let workspace = crate_dir().parent().expect("sim sits in the workspace").to_path_buf();
    for core in ["zookeeper", "master", "agent", "driver", "executor", "scheduler"] {
        let path = workspace.join(core).join("Cargo.toml");
        let manifest = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let deps = manifest_dependencies(&manifest);
        assert!(deps.contains("mesocosm-sim"), "{core}'s manifest is read: {deps:?}");
        let io: Vec<&String> = deps.iter().filter(|d| d.starts_with("tokio") || d.starts_with("tonic")).collect();
        assert!(io.is_empty(), "{core} depends on {io:?}");
    }
    let sim = manifest_dependencies(&fs::read_to_string(crate_dir().join("Cargo.toml")).expect("sim's manifest"));
    assert!(sim.contains("tokio") && sim.contains("tonic"), "the parser sees the world's own: {sim:?}");
}
