//! The arrows between modules, checked: `docs/architecture.md` lists in its
//! "Forbidden arrows" table which modules must not use which others (or
//! which outside crates), and this test reads that table, walks the module
//! tree from `src/lib.rs` as the compiler does (skipping whatever is
//! `#[cfg(test)]`), and fails on any path a module's code names that breaks
//! a row. The table is the one source of truth: the docs cannot promise an
//! arrow the code does not keep.
//!
//! The code is parsed with `syn`, not matched line by line: a grouped
//! import (`use crate::{cloud::client::Client, emulator::Emulator};`), a
//! `super::` or `self::` path (resolved against the module it is written
//! in), a path inside an expression or a macro's arguments, a derive or a
//! `pub use` re-export each name what they reach, while comments and
//! strings name nothing.

use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// A path as its segments: `crate::cloud` is `["crate", "cloud"]`, the
/// outside crate `tokio` is `["tokio"]`.
type Segments = Vec<String>;

fn segments(path: &str) -> Segments {
    path.split("::").map(str::to_owned).collect()
}

/// One row of the table: these modules (and the modules inside them) must
/// not name these paths (or anything inside them).
struct Rule {
    modules: Vec<Segments>,
    forbidden: Vec<Segments>,
}

fn cell_items(cell: &str) -> Vec<Segments> {
    cell.split(',')
        .map(|item| item.trim().trim_matches('`'))
        .filter(|item| !item.is_empty())
        .map(segments)
        .collect()
}

fn rules(architecture: &str) -> Vec<Rule> {
    let section = architecture
        .split("## Forbidden arrows")
        .nth(1)
        .expect("docs/architecture.md has a `## Forbidden arrows` section");
    section
        .lines()
        .take_while(|line| !line.starts_with("## "))
        .filter(|line| line.starts_with('|') && line.contains('`'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 2, "a row has two cells: {line}");
            Rule {
                // Modules are named from the crate root.
                modules: cell_items(cells[0])
                    .into_iter()
                    .map(|module| [vec!["crate".to_owned()], module].concat())
                    .collect(),
                forbidden: cell_items(cells[1]),
            }
        })
        .collect()
}

/// Whether an item is compiled only for tests: `#[cfg(test)]`, or a `cfg`
/// that asks for `test` (not `not(test)`).
pub(crate) fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr.meta.require_list().is_ok_and(|list| {
                let tokens = list.tokens.to_string();
                tokens
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|word| word == "test")
                    && !tokens.contains("not")
            })
    })
}

/// An item's attributes, for the kinds of item that can carry `cfg`.
pub(crate) fn item_attrs(item: &syn::Item) -> Option<&[syn::Attribute]> {
    Some(match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => return None,
    })
}

/// One source file of the crate: its module path and its parsed code.
pub(crate) struct SourceFile {
    pub module: Segments,
    pub path: PathBuf,
    pub syntax: syn::File,
}

/// Every file of the library's module tree outside `#[cfg(test)]`, from
/// `src/lib.rs` down, found where the compiler looks for `mod name;`
/// (`name.rs` or `name/mod.rs` in the declaring module's folder).
pub(crate) fn source_files(src: &Path) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut pending = vec![(vec!["crate".to_owned()], src.join("lib.rs"), src.to_owned())];
    while let Some((module, path, folder)) = pending.pop() {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} reads: {e}", path.display()));
        let syntax =
            syn::parse_file(&text).unwrap_or_else(|e| panic!("{} parses: {e}", path.display()));
        declared_modules(&syntax.items, &module, &folder, &mut pending);
        files.push(SourceFile {
            module,
            path,
            syntax,
        });
    }
    files
}

/// The `mod name;` declarations among `items` (inline modules included),
/// as (module path, file, the folder of its own declarations).
fn declared_modules(
    items: &[syn::Item],
    module: &Segments,
    folder: &Path,
    found: &mut Vec<(Segments, PathBuf, PathBuf)>,
) {
    for item in items {
        let syn::Item::Mod(declared) = item else {
            continue;
        };
        if is_test_only(&declared.attrs) {
            continue;
        }
        let name = declared.ident.to_string();
        let inner = [module.clone(), vec![name.clone()]].concat();
        let own_folder = folder.join(&name);
        match &declared.content {
            Some((_, items)) => declared_modules(items, &inner, &own_folder, found),
            None => {
                let single = folder.join(format!("{name}.rs"));
                let path = if single.exists() {
                    single
                } else {
                    own_folder.join("mod.rs")
                };
                found.push((inner, path, own_folder));
            }
        }
    }
}

/// What a module names: every path of its non-test code, resolved from
/// where it is written, with its line.
struct Names {
    /// The module the code being visited is in (inline modules push onto
    /// it).
    module: Segments,
    found: Vec<(Segments, usize)>,
}

impl Names {
    fn of(module: &Segments, syntax: &syn::File) -> Vec<(Segments, usize)> {
        let mut names = Names {
            module: module.clone(),
            found: Vec::new(),
        };
        names.visit_file(syntax);
        names.found
    }

    /// Records `path` (written as `written`) resolved against the current
    /// module: `crate::` as is, `self::` and `super::` from the module, a
    /// leading `::` or a bare first segment as written (an outside crate,
    /// or a name in scope).
    fn record(&mut self, written: &[String], line: usize) {
        let Some(first) = written.first() else {
            return;
        };
        let resolved = match first.as_str() {
            "self" => [self.module.clone(), written[1..].to_vec()].concat(),
            "super" => {
                let ups = written.iter().take_while(|s| *s == "super").count();
                let kept = self.module.len().saturating_sub(ups).max(1);
                [self.module[..kept].to_vec(), written[ups..].to_vec()].concat()
            }
            _ => written.to_vec(),
        };
        self.found.push((resolved, line));
    }

    fn record_syn_path(&mut self, path: &syn::Path) {
        let written: Segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = path
            .segments
            .first()
            .map_or(0, |s| s.ident.span().start().line);
        self.record(&written, line);
    }

    /// Every leaf of a `use` tree, with the prefixes of the groups it sits
    /// in.
    fn record_use(&mut self, prefix: &mut Segments, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(step) => {
                prefix.push(step.ident.to_string());
                self.record_use(prefix, &step.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                let line = name.ident.span().start().line;
                self.record(
                    &[prefix.clone(), vec![name.ident.to_string()]].concat(),
                    line,
                );
            }
            syn::UseTree::Rename(rename) => {
                let line = rename.ident.span().start().line;
                self.record(
                    &[prefix.clone(), vec![rename.ident.to_string()]].concat(),
                    line,
                );
            }
            syn::UseTree::Glob(glob) => {
                let line = glob.star_token.span.start().line;
                let written = prefix.clone();
                self.record(&written, line);
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.record_use(prefix, tree);
                }
            }
        }
    }

    /// The paths in a macro's arguments, which `syn` leaves as tokens:
    /// every run of `name::name…`.
    fn record_tokens(&mut self, tokens: TokenStream) {
        let mut run: Segments = Vec::new();
        let mut line = 0;
        let mut colons = 0;
        let flush = |names: &mut Names, run: &mut Segments, line: usize| {
            if run.len() > 1 {
                names.record(run, line);
            }
            run.clear();
        };
        for token in tokens {
            match token {
                TokenTree::Ident(ident) => {
                    if colons != 2 {
                        flush(self, &mut run, line);
                        line = ident.span().start().line;
                    }
                    run.push(ident.to_string());
                    colons = 0;
                }
                TokenTree::Punct(punct) if punct.as_char() == ':' && !run.is_empty() => {
                    colons += 1;
                }
                TokenTree::Group(group) => {
                    flush(self, &mut run, line);
                    colons = 0;
                    self.record_tokens(group.stream());
                }
                _ => {
                    flush(self, &mut run, line);
                    colons = 0;
                }
            }
        }
        flush(self, &mut run, line);
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !item_attrs(item).is_some_and(is_test_only) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let test_only = match item {
            syn::ImplItem::Const(i) => is_test_only(&i.attrs),
            syn::ImplItem::Fn(i) => is_test_only(&i.attrs),
            syn::ImplItem::Type(i) => is_test_only(&i.attrs),
            _ => false,
        };
        if !test_only {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        self.module.push(module.ident.to_string());
        visit::visit_item_mod(self, module);
        self.module.pop();
    }

    fn visit_item_use(&mut self, import: &'ast syn::ItemUse) {
        // `use ::tokio::…` names an outside crate as written, as without
        // the colons.
        self.record_use(&mut Vec::new(), &import.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.record_syn_path(path);
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.record_syn_path(&mac.path);
        self.record_tokens(mac.tokens.clone());
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        // `#[derive(clap::Parser)]` and the like: the derive list is tokens.
        if let syn::Meta::List(list) = &attr.meta {
            self.record_tokens(list.tokens.clone());
        }
        visit::visit_attribute(self, attr);
    }
}

/// Whether `path` is `forbidden` or inside it: `crate::cloud::client::X`
/// is inside `crate::cloud`; `crate::cloudy` is not.
fn is_within(path: &[String], forbidden: &[String]) -> bool {
    path.len() >= forbidden.len() && path[..forbidden.len()] == *forbidden
}

fn is_in_module(module: &[String], row_module: &[String]) -> bool {
    is_within(module, row_module)
}

/// The arrows `file` breaks, one line each.
fn violations_in(rules: &[Rule], file: &SourceFile) -> Vec<String> {
    let names = Names::of(&file.module, &file.syntax);
    let mut found = Vec::new();
    for rule in rules {
        for row_module in rule
            .modules
            .iter()
            .filter(|m| is_in_module(&file.module, m))
        {
            for forbidden in &rule.forbidden {
                for (path, line) in names.iter().filter(|(path, _)| is_within(path, forbidden)) {
                    found.push(format!(
                        "{}:{line}: `{}` must not use `{}`: it names `{}`",
                        file.path.display(),
                        row_module[1..].join("::"),
                        forbidden.join("::"),
                        path.join("::"),
                    ));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn no_module_uses_what_the_architecture_forbids() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture = std::fs::read_to_string(root.join("docs/architecture.md"))
        .expect("docs/architecture.md reads");
    let rules = rules(&architecture);
    assert!(!rules.is_empty(), "the table has rows");
    let files = source_files(&root.join("src"));
    // A row naming a module that does not exist would check nothing.
    for module in rules.iter().flat_map(|rule| &rule.modules) {
        assert!(
            files.iter().any(|file| is_in_module(&file.module, module)),
            "the table names `{}`, which is no module of src/",
            module[1..].join("::")
        );
    }
    let found: Vec<String> = files
        .iter()
        .flat_map(|file| violations_in(&rules, file))
        .collect();
    assert!(found.is_empty(), "forbidden arrows:\n{}", found.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "## Forbidden arrows\n\n| module | must not use |\n| --- | --- |\n| `plan` | `crate::cloud`, `crate::emulator`, `clap` |\n";

    /// The arrows `source` breaks when it is the code of `module`.
    fn check(module: &str, source: &str) -> Vec<String> {
        let file = SourceFile {
            module: segments(&format!("crate::{module}")),
            path: PathBuf::from("planted.rs"),
            syntax: syn::parse_file(source).expect("the planted source parses"),
        };
        violations_in(&rules(TABLE), &file)
    }

    #[test]
    fn a_grouped_import_into_a_pure_module_is_caught() {
        let found = check(
            "plan",
            "//! A pure module.\nuse crate::{cloud::client::Client, emulator::Emulator};\n",
        );
        assert_eq!(
            found,
            [
                "planted.rs:2: `plan` must not use `crate::cloud`: it names `crate::cloud::client::Client`",
                "planted.rs:2: `plan` must not use `crate::emulator`: it names `crate::emulator::Emulator`",
            ],
            "both arrows of the grouped import"
        );
    }

    #[test]
    fn super_and_self_paths_resolve_from_their_module() {
        let found = check(
            "plan::diff",
            "use super::super::{resource, cloud};\nmod inner { use super::super::super::emulator::x; }\nfn f() { self::g(); }\n",
        );
        assert_eq!(
            found,
            [
                "planted.rs:1: `plan` must not use `crate::cloud`: it names `crate::cloud`",
                "planted.rs:2: `plan` must not use `crate::emulator`: it names `crate::emulator::x`",
            ],
            "super:: climbs from plan::diff (and its inline module) to the crate"
        );
        assert!(
            check("plan", "use super::resource;\nuse self::cloud::x;\n").is_empty(),
            "plan's own `cloud` submodule and the crate's `resource` are allowed"
        );
    }

    #[test]
    fn paths_in_expressions_macros_derives_and_re_exports_are_caught() {
        let source = r#"
pub use crate::cloud::client::Call;
fn f() -> u32 { crate::cloud::ecs::count() }
fn g() { tracing::debug!("{}", crate::emulator::x::y()); }
#[derive(Debug, clap::ValueEnum)]
enum E { A }
"#;
        let found = check("plan", source);
        assert_eq!(
            found,
            [
                "planted.rs:2: `plan` must not use `crate::cloud`: it names `crate::cloud::client::Call`",
                "planted.rs:3: `plan` must not use `crate::cloud`: it names `crate::cloud::ecs::count`",
                "planted.rs:4: `plan` must not use `crate::emulator`: it names `crate::emulator::x::y`",
                "planted.rs:5: `plan` must not use `clap`: it names `clap::ValueEnum`",
            ],
            "every form names what it reaches"
        );
    }

    #[test]
    fn comments_strings_look_alikes_and_test_code_name_nothing() {
        let source = r#"
//! Says crate::cloud in a comment.
use crate::cloudy::Thing;
const TEXT: &str = "crate::emulator::Emulator";
#[cfg(test)]
use crate::emulator::Emulator;
#[cfg(test)]
mod tests { use crate::cloud::client::Client; }
"#;
        assert_eq!(
            check("plan", source),
            Vec::<String>::new(),
            "nothing here reaches a forbidden module"
        );
        assert!(
            check("render", "use crate::cloud::client::Client;").is_empty(),
            "a row binds only its own modules"
        );
    }
}
