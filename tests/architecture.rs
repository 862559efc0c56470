//! The shape of the code, checked on its source: the modules import one another without a
//! cycle, between the crate's top-level modules and between the files of each module, and
//! every import points down the layers of [`LAYERS`] (or within one). Tests (`#[cfg(test)]`
//! sections and `src/tests/`) may reach anywhere and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's top-level modules, from the bottom up: a module may import its own layer and
/// those below, never one above. The flow reads upwards: text and clocks, what we know of
/// LiteLLM, the probes, the pure core, what shows it (outputs, dashboard, metrics, the mark
/// socket), the owner loop, the modes, the test servers and the reports, the command line, the
/// commands.
const LAYERS: &[&[&str]] = &[
    &["text", "clock", "sys"],
    &["litellm"],
    &["probe"],
    &["state"],
    &["output", "ui", "metrics", "control"],
    &["run"],
    &["modes", "testkit", "report"],
    &["cli"],
    &["commands"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// A module's path from the crate root: `run::dashboard` for `src/run/dashboard.rs`.
type Module = Vec<String>;

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The paths a file's code (its tests left out) names: `crate::a::b` and `super::x`, resolved
/// to absolute paths.
fn references(module: &Module, code: &str) -> Vec<Module> {
    let code = code.split("\n#[cfg(test)]").next().unwrap_or_default();
    let mut found = Vec::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent(module))] {
        for (i, _) in code.match_indices(prefix) {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: Module = code[i + prefix.len()..]
                .split("::")
                .map_while(|segment| {
                    let name: String = segment
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    (!name.is_empty()).then_some(name)
                })
                .take(2)
                .collect();
            let mut absolute = base.clone();
            absolute.extend(path);
            found.push(absolute);
        }
    }
    found
}

/// The module `super` names from a file: the parent of a `mod.rs`'s module is one level up
/// like any other file's.
fn parent(module: &Module) -> Module {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// A cycle in `graph`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn modules_import_one_another_without_a_cycle() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut inner: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let test_file = module.iter().any(|part| part == "tests");
        if module.is_empty() || test_file || module[0] == "main" || module[0] == "lib" {
            continue;
        }
        let code = std::fs::read_to_string(file).unwrap();
        for reference in references(&module, &code) {
            let Some(first) = reference.first() else {
                continue;
            };
            if *first != module[0] {
                top.entry(module[0].clone())
                    .or_default()
                    .insert(first.clone());
            } else if reference.len() >= 2 && module.len() >= 2 {
                // A sibling file of the same top-level module.
                let sibling = reference[..2].to_vec();
                if sibling != module[..2] && modules.contains(&sibling) {
                    inner
                        .entry(module[..2].join("::"))
                        .or_default()
                        .insert(sibling.join("::"));
                }
            }
        }
    }
    assert!(
        files.len() > 30 && top.len() > 5,
        "the source was not read: {top:?}"
    );
    if let Some(cycle) = cycle(&top) {
        panic!("top-level modules import in a cycle: {}", cycle.join(" → "));
    }
    let mut upwards = Vec::new();
    for (from, imports) in &top {
        let Some(from_layer) = layer(from) else {
            panic!("{from} is in no layer of LAYERS: put it where it belongs");
        };
        for to in imports {
            match layer(to) {
                Some(to_layer) if to_layer > from_layer => upwards.push(format!("{from} → {to}")),
                Some(_) => {}
                None => panic!("{to} is in no layer of LAYERS: put it where it belongs"),
            }
        }
    }
    assert!(upwards.is_empty(), "imports pointing up: {upwards:?}");
    if let Some(cycle) = cycle(&inner) {
        panic!("files import in a cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            graph
                .entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
        }
        graph
    };
    assert_eq!(
        cycle(&graph(&[("app", "demo"), ("demo", "run"), ("run", "app")])),
        Some(vec![
            "app".into(),
            "demo".into(),
            "run".into(),
            "app".into()
        ])
    );
    assert_eq!(cycle(&graph(&[("app", "demo"), ("demo", "run")])), None);
    let module: Module = vec!["run".into(), "dashboard".into()];
    let code = "use super::session::{Session, apply};\nuse crate::ui::{self, Action};\n";
    assert_eq!(
        references(&module, code),
        [
            vec!["ui".to_owned()],
            vec!["run".to_owned(), "session".to_owned()]
        ]
    );
}
