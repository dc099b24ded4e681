//! "The house" picture (issue 13): no circle of imports between the library's files.
//!
//! Modules are found from `src/lib.rs` (`mod x;`, `#[path]`); `#[cfg(test)]` items and test-only
//! module files are cut; comments, strings and char literals are stripped before scanning.
//! Edge A → B: A names a path starting with `crate::`, `super::`, `self::` or a child module of
//! its own (in a `use` tree or in code) that resolves into B: walk down child modules, and at the
//! first other segment follow the owning module's imports (`use`, `pub use`, `as`, globs) to where
//! the name is defined. `mod x;` alone is no edge. Every strongly connected component must be one
//! file. Only std; `cargo test --test architecture -- --nocapture` also prints a size report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Id(String),
    Sep,
    P(char),
    Str(String),
}
use Tok::{Id, Sep, Str, P};

/// A token and its line.
type Token = (Tok, usize);

/// The index just past a quoted body that starts at `i`, honouring `\` escapes.
fn quoted(c: &[char], mut i: usize, end: char) -> usize {
    while i < c.len() && c[i] != end {
        i += if c[i] == '\\' { 2 } else { 1 };
    }
    i + 1
}

/// Tokens without comments; strings become `Str`, char literals and lifetimes are dropped.
fn lex(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let word = |k: usize| at(k).is_alphanumeric() || at(k) == '_';
    let text = |a: usize, b: usize| Str(c[a.min(c.len())..b.min(c.len())].iter().collect());
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    while i < c.len() {
        let (start, mut tok) = (i, None);
        match (c[i], at(i + 1)) {
            ('/', '/') => i = (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len()),
            ('/', '*') => {
                let mut depth = 0;
                while i < c.len() {
                    match (c[i], at(i + 1)) {
                        ('/', '*') => (depth, i) = (depth + 1, i + 2),
                        ('*', '/') => (depth, i) = (depth - 1, i + 2),
                        _ => i += 1,
                    }
                    if depth == 0 {
                        break;
                    }
                }
            }
            ('"', _) => {
                let end = quoted(&c, i + 1, '"');
                (i, tok) = (end, Some(text(i + 1, end - 1)));
            }
            ('\'', '\\') => i = quoted(&c, i + 1, '\''),
            ('\'', _) if at(i + 2) == '\'' => i += 3,
            ('\'', _) => i = (i + 1..=c.len()).find(|&k| !word(k)).unwrap_or(c.len()),
            (':', ':') => (i, tok) = (i + 2, Some(Sep)),
            (ch, _) if word(i) => {
                while word(i) {
                    i += 1;
                }
                let w: String = c[start..i].iter().collect();
                let h = (i..c.len()).take_while(|&k| c[k] == '#').count();
                match (w.as_str(), at(i)) {
                    ("r" | "br" | "cr", '"' | '#') if at(i + h) == '"' => {
                        let closes = |k: &usize| at(*k) == '"' && (1..=h).all(|n| at(k + n) == '#');
                        let end = (i + h + 1..c.len()).find(closes).unwrap_or(c.len());
                        (i, tok) = (end + 1 + h, Some(text(i + h + 1, end)));
                    }
                    ("b" | "c", '"') => {
                        let end = quoted(&c, i + 1, '"');
                        (i, tok) = (end, Some(text(start + 2, end - 1)));
                    }
                    ("b", '\'') => i = quoted(&c, i + 1, '\''),
                    ("r", '#') => i += 1, // a raw identifier: its name follows
                    _ if !ch.is_ascii_digit() => tok = Some(Id(w)),
                    _ => {}
                }
            }
            (ch, _) => (i, tok) = (i + 1, (!ch.is_whitespace()).then_some(P(ch))),
        }
        out.extend(tok.map(|t| (t, line)));
        line += c[start..i.min(c.len())]
            .iter()
            .filter(|&&x| x == '\n')
            .count();
    }
    out
}

fn is(t: &[Token], i: usize, tok: &Tok) -> bool {
    t.get(i).is_some_and(|x| &x.0 == tok)
}

fn id(t: &[Token], i: usize) -> Option<&str> {
    match t.get(i) {
        Some((Id(s), _)) => Some(s),
        _ => None,
    }
}

/// The index of the bracket closing the one at `open`.
fn matching(t: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (k, (tok, _)) in t.iter().enumerate().skip(open) {
        match tok {
            P('(' | '[' | '{') => depth += 1,
            P(')' | ']' | '}') if depth == 1 => return k,
            P(')' | ']' | '}') => depth -= 1,
            _ => {}
        }
    }
    t.len()
}

/// Drops every item carrying `#[cfg(test)]`: inline test modules, test-only files, helpers.
fn cut_tests(t: &[Token]) -> Vec<Token> {
    let attr: Vec<Tok> = lex("#[cfg(test)]").into_iter().map(|x| x.0).collect();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < t.len() {
        if !attr.iter().enumerate().all(|(k, x)| is(t, i + k, x)) {
            out.push(t[i].clone());
            i += 1;
            continue;
        }
        i += attr.len();
        while is(t, i, &P('#')) {
            i = matching(t, i + 1) + 1;
        }
        // The item ends at `;` or at its first `{…}`; a closing bracket ends the enclosing block.
        while i < t.len() && !matches!(t[i].0, P(')' | ']' | '}')) {
            let (open, end) = (
                matches!(t[i].0, P('(' | '[' | '{')),
                matches!(t[i].0, P('{' | ';')),
            );
            i = 1 + if open { matching(t, i) } else { i };
            if end {
                break;
            }
        }
    }
    out
}

/// How many functions have a body spanning more than `max` lines.
fn long_fns(t: &[Token], max: usize) -> usize {
    let mut count = 0;
    for i in (0..t.len()).filter(|&i| id(t, i) == Some("fn") && id(t, i + 1).is_some()) {
        let mut j = i + 2;
        while j < t.len() && !matches!(t[j].0, P(';' | '{')) {
            let group = matches!(t[j].0, P('(' | '['));
            j = 1 + if group { matching(t, j) } else { j };
        }
        let end = t.get(matching(t, j)).map_or(0, |x| x.1);
        count += usize::from(is(t, j, &P('{')) && end + 1 > t[i].1 + max);
    }
    count
}

#[derive(Default)]
struct Module {
    parent: Option<usize>,
    file: usize,
    dir: String,
    children: BTreeMap<String, usize>,
    defs: BTreeSet<String>,
    imports: BTreeMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
}

#[derive(Clone, Copy)]
enum Target {
    Module(usize),
    Item(usize),
}

/// The library as modules over files, and every path it names: (file, line, module, path).
#[derive(Default)]
struct Crate {
    files: Vec<String>,
    modules: Vec<Module>,
    refs: Vec<(usize, usize, usize, Vec<String>)>,
    long_fns: usize,
}

const ITEMS: &str = "fn struct enum trait type const static union macro_rules";

type Read<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A use-tree leaf: path, the name it binds, glob?, line.
type Leaf = (Vec<String>, Option<String>, bool, usize);

fn dir_of(rel: &str) -> &str {
    rel.rfind('/').map_or("", |k| &rel[..=k])
}

/// Reads a use tree at `i` into leaves; returns the next index.
fn use_tree(t: &[Token], mut i: usize, prefix: &[String], out: &mut Vec<Leaf>) -> usize {
    let mut path = prefix.to_vec();
    if is(t, i, &Sep) {
        (i, _) = (i + 1, path.push("::".into())); // `::name`: another crate
    }
    while let Some((Id(s), line)) = t.get(i) {
        if is(t, i + 1, &Sep) {
            (i, _) = (i + 2, path.push(s.clone()));
            continue;
        }
        if s != "self" {
            path.push(s.clone());
        }
        let mut name = path.last().cloned();
        if id(t, i + 1) == Some("as") {
            (name, i) = (id(t, i + 2).filter(|a| *a != "_").map(String::from), i + 2);
        }
        out.push((path, name, false, *line));
        return i + 1;
    }
    if is(t, i, &P('*')) {
        out.push((path, None, true, t[i].1));
    } else if is(t, i, &P('{')) {
        i += 1;
        while i < t.len() && !is(t, i, &P('}')) {
            i = use_tree(t, i, &path, out);
            i += usize::from(is(t, i, &P(',')));
        }
    }
    i + 1
}

impl Crate {
    fn load(read: Read) -> Crate {
        let mut krate = Crate::default();
        krate.add_file("lib.rs".into(), String::new(), None, read);
        krate
    }

    fn add_module(&mut self, parent: Option<usize>, file: usize, dir: String) -> usize {
        let mut module = Module::default();
        (module.parent, module.file, module.dir) = (parent, file, dir);
        self.modules.push(module);
        self.modules.len() - 1
    }

    fn add_file(&mut self, rel: String, dir: String, parent: Option<usize>, read: Read) -> usize {
        let text = read(&rel).unwrap_or_else(|| panic!("cannot read src/{rel}"));
        let t = cut_tests(&lex(&text));
        self.long_fns += long_fns(&t, 50);
        self.files.push(rel);
        let module = self.add_module(parent, self.files.len() - 1, dir);
        self.scan(&t, module, read);
        module
    }

    /// The file of `mod name;` in module `m` and the directory of its own children.
    fn mod_file(&self, m: usize, name: &str, path_attr: Option<String>, read: Read) -> [String; 2] {
        let (module, file) = (&self.modules[m], &self.files[self.modules[m].file]);
        let dir = format!("{}{name}/", module.dir);
        let inline = module
            .parent
            .is_some_and(|p| self.modules[p].file == module.file);
        let base = if inline { &module.dir } else { dir_of(file) };
        if let Some(p) = path_attr {
            let rel = format!("{base}{p}"); // such a file keeps its children next to it
            return [rel.clone(), dir_of(&rel).to_string()];
        }
        let candidates = [format!("{}{name}.rs", module.dir), format!("{dir}mod.rs")];
        let rel = candidates.into_iter().find(|f| read(f).is_some());
        [
            rel.unwrap_or_else(|| panic!("no file for `mod {name};` in src/{file}")),
            dir,
        ]
    }

    /// Records child modules, definitions, imports and paths of one file (`root` is its module).
    fn scan(&mut self, t: &[Token], root: usize, read: Read) {
        let file = self.modules[root].file;
        let (mut scopes, mut depth, mut path_attr, mut i) = (vec![(root, 0)], 0, None, 0);
        while i < t.len() {
            let (m, m_depth) = scopes[scopes.len() - 1];
            let (top, line) = (depth == m_depth, t[i].1);
            let (word, next) = (id(t, i).unwrap_or(""), id(t, i + 1));
            match &t[i].0 {
                P('{') => (depth, path_attr) = (depth + 1, None),
                P('}') => {
                    (depth, path_attr) = (depth - 1, None);
                    if depth < m_depth {
                        scopes.pop();
                    }
                }
                P(';') => path_attr = None,
                P('#') if is(t, i + 1, &P('[')) => {
                    if let (Some("path"), Some((Str(p), _))) = (id(t, i + 2), t.get(i + 4)) {
                        path_attr = Some(p.clone());
                    }
                    i = matching(t, i + 1);
                }
                Id(_) if word == "mod" && next.is_some() => {
                    let name = next.unwrap_or_default().to_string();
                    let child = if is(t, i + 2, &P('{')) {
                        let dir = format!("{}{name}/", self.modules[m].dir);
                        scopes.push((self.add_module(Some(m), file, dir), depth + 1));
                        scopes[scopes.len() - 1].0
                    } else {
                        let [rel, dir] = self.mod_file(m, &name, path_attr.take(), read);
                        self.add_file(rel, dir, Some(m), read)
                    };
                    self.modules[m].children.insert(name, child);
                    i += 1;
                }
                Id(_) if word == "use" => {
                    let mut leaves = Vec::new();
                    i = use_tree(t, i + 1, &[], &mut leaves);
                    for (path, name, glob, line) in leaves {
                        let module = &mut self.modules[m];
                        match (top, glob, name) {
                            (true, true, _) => module.globs.push(path.clone()),
                            (true, false, Some(name)) => {
                                _ = module.imports.insert(name, path.clone())
                            }
                            _ => {}
                        }
                        self.refs.push((file, line, m, path));
                    }
                    continue;
                }
                Id(_) if top && ITEMS.split(' ').any(|item| item == word) => {
                    let name = next.or(id(t, i + 2)); // `macro_rules! name`
                    self.modules[m].defs.extend(name.map(String::from));
                }
                Id(_) if is(t, i + 1, &Sep) && !is(t, i.wrapping_sub(1), &Sep) => {
                    let (mut path, visibility) = (vec![word.to_string()], id(t, i.wrapping_sub(1)));
                    while let (true, Some(seg)) = (is(t, i + 1, &Sep), id(t, i + 2)) {
                        (i, _) = (i + 2, path.push(seg.to_string()));
                    }
                    if visibility != Some("in") {
                        self.refs.push((file, line, m, path)); // not `pub(in crate::x)`
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// Where `path`, written in module `from`, leads; `None` outside this crate.
    fn resolve(&self, from: usize, path: &[String], depth: usize) -> Option<Target> {
        let supers = path.iter().take_while(|s| *s == "super").count();
        let parent = |m: usize, _| self.modules[m].parent;
        let (start, rest) = match path.first()?.as_str() {
            "crate" => (0, &path[1..]),
            "self" => (from, &path[1..]),
            "super" => ((0..supers).try_fold(from, parent)?, &path[supers..]),
            first if self.modules[from].children.contains_key(first) => (from, path),
            _ => return None,
        };
        self.walk(start, rest, depth)
    }

    fn walk(&self, mut m: usize, segs: &[String], depth: usize) -> Option<Target> {
        for (k, seg) in segs.iter().enumerate() {
            match self.modules[m].children.get(seg) {
                Some(&child) => m = child,
                None => return self.item(m, seg, &segs[k + 1..], depth),
            }
        }
        Some(Target::Module(m))
    }

    /// The item `name` of module `m`: defined there, or imported there (followed), or via a glob.
    fn item(&self, m: usize, name: &str, rest: &[String], depth: usize) -> Option<Target> {
        let module = &self.modules[m];
        if depth > 20 || module.defs.contains(name) {
            return Some(Target::Item(module.file));
        }
        if let Some(path) = module.imports.get(name) {
            return match self.resolve(m, path, depth + 1)? {
                Target::Module(to) => self.walk(to, rest, depth + 1),
                item => Some(item),
            };
        }
        for glob in &module.globs {
            if let Some(Target::Module(to)) = self.resolve(m, glob, depth + 1) {
                let g = &self.modules[to];
                let has = g.defs.contains(name) || g.imports.contains_key(name);
                if to != m && (has || g.children.contains_key(name)) {
                    let segs: Vec<String> = [&[name.to_string()], rest].concat();
                    return self.walk(to, &segs, depth + 1);
                }
            }
        }
        Some(Target::Item(module.file))
    }

    /// Edges between files: (from, to) → the references (line, path) that make them.
    fn edges(&self) -> BTreeMap<(usize, usize), Vec<(usize, String)>> {
        let mut edges: BTreeMap<_, Vec<_>> = BTreeMap::new();
        for (file, line, module, path) in &self.refs {
            let to = match self.resolve(*module, path, 0) {
                Some(Target::Module(m)) => self.modules[m].file,
                Some(Target::Item(f)) => f,
                None => continue,
            };
            if to != *file {
                let refs = edges.entry((*file, to)).or_default();
                refs.push((*line, path.join("::")));
            }
        }
        edges
    }

    /// Strongly connected components of more than one file (files that reach each other).
    fn circles(&self) -> Vec<Vec<usize>> {
        let n = self.files.len();
        let mut reach = vec![vec![false; n]; n];
        for &(a, b) in self.edges().keys() {
            reach[a][b] = true;
        }
        for k in 0..n {
            for a in 0..n {
                for b in 0..n {
                    reach[a][b] |= reach[a][k] && reach[k][b]; // Warshall's transitive closure
                }
            }
        }
        let mutual = |v: usize, w: usize| w == v || reach[v][w] && reach[w][v];
        let scc = |v: usize| (0..n).filter(|&w| mutual(v, w)).collect();
        let mut out: Vec<Vec<usize>> = (0..n).map(scc).collect();
        out.retain(|c| c.len() > 1);
        out.sort();
        out.dedup();
        out
    }

    fn describe(&self, circles: &[Vec<usize>]) -> String {
        let edges = self.edges();
        let mut msg = format!("{} circle(s) between files of src/:\n", circles.len());
        for c in circles {
            let names: Vec<&str> = c.iter().map(|&f| self.files[f].as_str()).collect();
            msg += &format!("\ncircle: src/{}\n", names.join(", src/"));
            for ((a, b), refs) in &edges {
                if !c.contains(a) || !c.contains(b) {
                    continue;
                }
                let (a, b) = (&self.files[*a], &self.files[*b]);
                for (line, path) in refs.iter().take(4) {
                    msg += &format!("  src/{a}:{line} `{path}` → src/{b}\n");
                }
                if refs.len() > 4 {
                    msg += &format!("  src/{a} … and {} more → src/{b}\n", refs.len() - 4);
                }
            }
        }
        msg
    }
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_circle_between_files() {
    let src = Path::new(option_env!("CARGO_MANIFEST_DIR").unwrap_or(".")).join("src");
    let read = |rel: &str| match std::fs::read_to_string(src.join(rel)) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("reading src/{rel}: {e}"),
    };
    let krate = Crate::load(&read);
    let (edges, circles, mut all) = (krate.edges(), krate.circles(), Vec::new());
    rs_files(&src, &mut all);
    all.sort();
    let (files, library) = (all.len(), krate.files.len());
    eprintln!("architecture: {files} .rs files in src/, {library} in the library (tests cut)");
    let mut long_all = 0;
    for path in &all {
        let text = std::fs::read_to_string(path);
        let text = text.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        long_all += long_fns(&lex(&text), 50);
        let (lines, rel) = (
            text.lines().count(),
            path.strip_prefix(&src).unwrap_or(path),
        );
        if lines > 500 {
            eprintln!("  file over 500 lines: src/{} ({lines})", rel.display());
        }
    }
    let long = krate.long_fns;
    eprintln!("  functions over 50 lines: {long} in library code, {long_all} with tests");
    eprintln!("  {} file edges, {} circle(s)", edges.len(), circles.len());
    for c in &circles {
        let names: Vec<&str> = c.iter().map(|&f| krate.files[f].as_str()).collect();
        eprintln!("  circle: {}", names.join(" ↔ "));
    }
    assert!(circles.is_empty(), "{}", krate.describe(&circles));
}

/// An in-memory crate from `== path` sections, and its edges as "from>to" in order.
fn fake(sources: &str) -> (Crate, String) {
    let sections = sources.split("== ").filter_map(|s| s.split_once('\n'));
    let map: BTreeMap<&str, &str> = sections.map(|(k, v)| (k.trim(), v)).collect();
    let krate = Crate::load(&|rel: &str| map.get(rel).map(ToString::to_string));
    let edges = krate.edges().into_keys().map(|(a, b)| {
        let name = |f: usize| krate.files[f].clone();
        format!("{}>{}", name(a), name(b))
    });
    let edges = edges.collect::<Vec<_>>().join(" ");
    (krate, edges)
}

#[test]
fn resolver_finds_a_circle() {
    let (krate, edges) = fake(
        "== lib.rs\nmod a;\npub mod b;
== a.rs\nuse crate::b::{B, self as bee};\npub struct A;
== b.rs\npub struct B;\nfn f() -> crate::a::A { crate::a::A }",
    );
    assert_eq!(edges, "a.rs>b.rs b.rs>a.rs");
    assert_eq!(krate.circles(), vec![vec![1, 2]]);
    let msg = krate.describe(&krate.circles());
    assert!(msg.contains("src/b.rs:2 `crate::a::A` → src/a.rs"), "{msg}");
}

#[test]
fn resolver_ignores_tests_declarations_and_inline_modules() {
    let (krate, edges) = fake(
        r#"== lib.rs
pub mod p;
#[cfg(test)]
mod missing_test_file;
== p/mod.rs
mod c;
#[path = "dee.rs"]
pub(crate) mod d;
pub use c::C;
pub struct Top;
#[cfg(test)]
mod tests {
    use super::*;
    use crate::p::d::D;
}
fn after() {}
== p/c.rs
use super::d::D;
pub struct C;
#[cfg(test)]
mod tests { use crate::p::Top; }
== p/dee.rs
pub(in crate::p) struct D;
#[cfg(unix)]
mod capture {
    use super::D;
}
#[cfg(test)]
fn helper() -> super::Top { todo!() }"#,
    );
    assert_eq!(edges, "p/mod.rs>p/c.rs p/c.rs>p/dee.rs");
    assert!(krate.circles().is_empty());
    assert!(
        krate.modules[1].defs.contains("after"),
        "code after tests is kept"
    );
}

#[test]
fn resolver_follows_reexports() {
    let (krate, edges) = fake(
        "== lib.rs\nmod x;\nmod z;
== x/mod.rs
mod inner;
mod other;
pub use inner::Thing;
pub(crate) use self::other::Orig as Alias;
pub use other::*;
pub fn helper() {}
== x/inner.rs\nuse crate::z::Z;\npub struct Thing;
== x/other.rs\npub struct Orig;\npub fn globbed() {}
== z.rs\nuse crate::x::{Thing, Alias};\npub struct Z;\nfn f() { crate::x::globbed(); }",
    );
    let expected = "x/mod.rs>x/inner.rs x/mod.rs>x/other.rs x/inner.rs>z.rs z.rs>x/inner.rs";
    assert_eq!(edges, format!("{expected} z.rs>x/other.rs"));
    assert_eq!(krate.circles().len(), 1);
}

#[test]
fn resolver_skips_strings_comments_and_chars() {
    let a = r##"pub struct A;
const R: &str = r#"crate::b::B "q" "#; // crate::b::B
/* crate::b /* nested */ crate::b::B */
const C: [char; 4] = ['\'', '"', '\\', 'x'];
fn f<'a>(s: &'a str) -> &'a str { let _ = b"crate::b::B\""; s }
fn g() -> u8 { let _ = "crate::b::\"B"; 1 }"##;
    let (krate, edges) = fake(&format!(
        "== lib.rs\nmod a;\nmod b;\n== b.rs\npub struct B;\n== a.rs\n{a}"
    ));
    assert_eq!(edges, "");
    let defs: Vec<&str> = krate.modules[1].defs.iter().map(String::as_str).collect();
    assert_eq!(defs, ["A", "C", "R", "f", "g"]);
    assert!(lex(a).contains(&(Str("crate::b::B \"q\" ".into()), 2)));
}
