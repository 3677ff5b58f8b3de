//! The library's module graph has no cycle: no module imports (directly or through other
//! modules) a module that imports it back. Read from the sources, like `cargo modules`
//! would, without the tool: every `use` and every `crate::`/`super::`/`self::` path of each
//! file under `src/` (the library; the command line in `src/cli` is a separate crate) is
//! resolved to the module it names, following `pub use` re-exports. An edge between two
//! modules counts between their ancestors that are siblings (`execute::window ->
//! state::table` is `execute -> state`); a parent and its own children may use each other.
//! The test also checks that the device layer (`gpu`) imports no module above it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_string()),
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments, string and char literals (so that paths in docs or
/// messages are not taken for imports).
fn code_only(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'"' {
            // raw strings r#"..."# are not used for paths; skip escapes in plain strings
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // a char literal ('x' or '\n'), not a lifetime
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Expands a use tree (`a::{b, c::{d, e as f}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    expand_tree(&tree)
}

fn expand_tree(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let (Some(open), Some(close)) = (tree.find('{'), tree.rfind('}')) else {
        let leaf = tree.split(" as ").next().unwrap_or(tree);
        return vec![leaf.replace(' ', "")];
    };
    let prefix = tree[..open].replace(' ', "");
    let inner = &tree[open + 1..close];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| {
            expand_tree(p)
                .into_iter()
                .map(|q| format!("{prefix}{q}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

struct File {
    module: Module,
    /// Paths named by `use` items, and whether the item is a re-export (`pub use`).
    uses: Vec<(String, bool)>,
    /// Other `crate::`, `super::` and `self::` paths in the code.
    inline: Vec<String>,
}

fn read_file(src: &Path, path: &Path) -> File {
    let text = code_only(&std::fs::read_to_string(path).expect("read"));
    let mut uses = Vec::new();
    let mut rest = String::new();
    let mut i = 0;
    while let Some(off) = text[i..].find("use ") {
        let at = i + off;
        let before = text[..at].trim_end();
        let is_item = before.is_empty()
            || before.ends_with(';')
            || before.ends_with('}')
            || before.ends_with('{')
            || before.ends_with(']')
            || before.ends_with("pub")
            || before.ends_with(')');
        let word_start = at == 0 || !text.as_bytes()[at - 1].is_ascii_alphanumeric();
        rest.push_str(&text[i..at]);
        let Some(end) = text[at..].find(';') else {
            break;
        };
        if is_item && word_start {
            let public = before.ends_with("pub") || before.ends_with(')');
            for p in expand(&text[at + 4..at + end]) {
                uses.push((p, public));
            }
            i = at + end + 1;
        } else {
            i = at + 4;
        }
    }
    rest.push_str(&text[i..]);
    let mut inline = Vec::new();
    for head in ["crate::", "super::", "self::"] {
        let mut j = 0;
        while let Some(off) = rest[j..].find(head) {
            let at = j + off;
            let ok = at == 0 || {
                let c = rest.as_bytes()[at - 1];
                !(c.is_ascii_alphanumeric() || c == b'_' || c == b':')
            };
            let end = rest[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .map_or(rest.len(), |e| at + e);
            if ok {
                inline.push(rest[at..end].trim_end_matches(':').to_string());
            }
            j = end.max(at + head.len());
        }
    }
    File {
        module: module_of(src, path),
        uses,
        inline,
    }
}

struct Graph {
    modules: BTreeSet<Module>,
    /// module -> exported name -> absolute path it re-exports.
    reexports: BTreeMap<Module, BTreeMap<String, Vec<String>>>,
}

impl Graph {
    /// The absolute segments of `path` as written in `module`.
    fn absolute(&self, module: &Module, path: &str) -> Option<Vec<String>> {
        let segs: Vec<String> = path
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let first = segs.first()?;
        let mut base: Vec<String> = match first.as_str() {
            "crate" => Vec::new(),
            "self" => module.clone(),
            "super" => {
                let mut m = module.clone();
                let mut k = 0;
                while segs.get(k).is_some_and(|s| s == "super") {
                    m.pop();
                    k += 1;
                }
                m.extend(segs[k..].iter().cloned());
                return Some(m);
            }
            _ => {
                // a path relative to this module: a child module in scope
                let mut child = module.clone();
                child.push(first.clone());
                if self.modules.contains(&child) {
                    module.clone()
                } else {
                    return None;
                }
            }
        };
        let skip = usize::from(first == "crate" || first == "self");
        base.extend(segs[skip..].iter().cloned());
        Some(base)
    }

    /// The module an absolute path names: its longest module prefix, then through the
    /// re-export of the next name, if that module re-exports it.
    fn resolve(&self, path: &[String], depth: usize) -> Option<Module> {
        let mut k = path.len();
        while k > 0 && !self.modules.contains(&path[..k]) {
            k -= 1;
        }
        let module = path[..k].to_vec();
        if depth < 8 {
            if let Some(next) = path.get(k) {
                if let Some(target) = self.reexports.get(&module).and_then(|r| r.get(next)) {
                    let mut full = target.clone();
                    full.extend(path[k + 1..].iter().cloned());
                    return self.resolve(&full, depth + 1).or(Some(module));
                }
            }
        }
        Some(module)
    }
}

/// The two sibling modules an edge `from -> to` runs between, if neither contains the other.
fn sibling_edge(from: &Module, to: &Module) -> Option<(Module, Module)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    if common == from.len() || common == to.len() {
        return None;
    }
    Some((from[..=common].to_vec(), to[..=common].to_vec()))
}

fn edges() -> BTreeMap<Module, BTreeSet<Module>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: Vec<File> = paths
        .iter()
        .filter(|p| {
            let rel = p.strip_prefix(&src).expect("under src");
            !(rel.starts_with("cli") || rel == Path::new("main.rs"))
        })
        .map(|p| read_file(&src, p))
        .collect();
    let mut graph = Graph {
        modules: files.iter().map(|f| f.module.clone()).collect(),
        reexports: BTreeMap::new(),
    };
    for f in &files {
        for (path, public) in &f.uses {
            if !public {
                continue;
            }
            if let Some(abs) = graph.absolute(&f.module, path) {
                if let Some(name) = abs.last() {
                    graph
                        .reexports
                        .entry(f.module.clone())
                        .or_default()
                        .insert(name.clone(), abs.clone());
                }
            }
        }
    }
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for f in &files {
        let named = f.uses.iter().map(|(p, _)| p).chain(&f.inline);
        for path in named {
            let Some(abs) = graph.absolute(&f.module, path) else {
                continue;
            };
            let Some(target) = graph.resolve(&abs, 0) else {
                continue;
            };
            if let Some((a, b)) = sibling_edge(&f.module, &target) {
                edges.entry(a).or_default().insert(b);
            }
        }
    }
    edges
}

fn name(m: &Module) -> String {
    m.join("::")
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let edges = edges();
    assert!(
        edges.len() > 5,
        "the reader found almost no imports: {edges:?}"
    );
    // every cycle shows as a path back to its start: look from each module
    let mut cycles = BTreeSet::new();
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, trail)) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == start {
                    let names: Vec<String> = trail.iter().map(name).collect();
                    cycles.insert(format!("{} -> {}", names.join(" -> "), name(start)));
                } else if seen.insert(next.clone()) {
                    let mut t = trail.clone();
                    t.push(next.clone());
                    stack.push((next.clone(), t));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "module import cycles:\n{}",
        cycles.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_device_layer_imports_nothing_above_it() {
    let edges = edges();
    let gpu = vec!["gpu".to_string()];
    let above: Vec<String> = edges
        .get(&gpu)
        .into_iter()
        .flatten()
        .map(name)
        .filter(|m| m != "error")
        .collect();
    assert!(above.is_empty(), "gpu imports {above:?}");
}

#[test]
fn the_reader_sees_known_imports() {
    // guards the reader itself: these edges exist, so a parser that finds nothing fails
    let edges = edges();
    let has = |a: &str, b: &str| {
        edges
            .get(&vec![a.to_string()])
            .is_some_and(|s| s.contains(&vec![b.to_string()]))
    };
    assert!(has("pipeline", "execute"), "{edges:?}");
    assert!(has("sigverify", "gpu"), "{edges:?}");
    assert!(has("execute", "state"), "{edges:?}");
    let window = vec!["execute".to_string(), "window".to_string()];
    assert!(edges.contains_key(&window), "{edges:?}");
}
