//! The architecture the code keeps (STYLE: "the vocabulary at the bottom, no cycles"):
//! no import cycle among the top-level modules of `src/`, and library code never imports
//! `command`. Read from the source, so a change that adds a cycle fails here and names
//! the edges that make it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code names (`crate::x`), with the files
/// that do. Test modules (`#[cfg(test)]` onward) and comments are left out.
fn imports() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let top = rel
                .split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_owned();
            if top == "main" || top == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for line in code.lines() {
                let line = line.split("//").next().unwrap();
                let mut names: Vec<String> = Vec::new();
                let mut rest = line;
                while let Some(i) = rest.find("crate::") {
                    rest = &rest[i + "crate::".len()..];
                    if let Some(group) = rest.strip_prefix('{') {
                        // `use crate::{a, b::c}`: each first segment.
                        let group = group.split('}').next().unwrap();
                        for part in group.split(',') {
                            let first = part.trim().split("::").next().unwrap().trim();
                            names.push(first.to_owned());
                        }
                        continue;
                    }
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    names.push(name);
                }
                for name in names {
                    if !name.is_empty() && name != top && name != "self" {
                        edges
                            .entry(top.clone())
                            .or_default()
                            .entry(name)
                            .or_default()
                            .insert(rel.clone());
                    }
                }
            }
        }
    }
    edges
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        if let Some(next) = s.edges.get(v) {
            for w in next.keys() {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v, low);
                } else if s.on.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v, low);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn top_level_modules_import_no_cycle() {
    let edges = imports();
    assert!(edges.len() > 10, "the source was not read: {edges:?}");
    let found = cycles(&edges);
    let mut text = String::new();
    for comp in &found {
        text.push_str(&format!("cycle among {comp:?}:\n"));
        for a in comp {
            for (b, files) in &edges[a] {
                if comp.contains(b) {
                    text.push_str(&format!("  {a} -> {b} ({files:?})\n"));
                }
            }
        }
    }
    assert!(found.is_empty(), "{text}");
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    // The check itself: a two-module cycle is found.
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    edges
        .entry("a".into())
        .or_default()
        .insert("b".into(), BTreeSet::new());
    edges
        .entry("b".into())
        .or_default()
        .insert("a".into(), BTreeSet::new());
    assert_eq!(cycles(&edges), vec![vec!["a".to_owned(), "b".to_owned()]]);
}

#[test]
fn library_code_never_imports_the_commands() {
    let edges = imports();
    let offenders: Vec<(&String, &BTreeSet<String>)> = edges
        .iter()
        .filter(|(from, _)| *from != "command" && *from != "cli")
        .filter_map(|(from, to)| to.get("command").map(|files| (from, files)))
        .collect();
    assert!(offenders.is_empty(), "{offenders:?}");
}
