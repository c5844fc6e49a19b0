//! The arrows between modules, checked: `docs/architecture.md` lists in its
//! "Forbidden arrows" table which modules must not use which others (or
//! which I/O crates), and this test reads that table and every module's
//! non-test source and fails on any `use` line or path that breaks a row.
//! The table is the one source of truth: the docs cannot promise an arrow
//! the code does not keep.

use std::path::{Path, PathBuf};

/// One row of the table: these modules must not name these paths.
struct Rule {
    modules: Vec<String>,
    forbidden: Vec<String>,
}

fn cell_items(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(|item| item.trim().trim_matches('`').to_owned())
        .filter(|item| !item.is_empty())
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
                modules: cell_items(cells[0]),
                forbidden: cell_items(cells[1]),
            }
        })
        .collect()
}

/// The files of module `name` (`src/name.rs` and everything under
/// `src/name/`), without the ones that hold only tests.
fn files_of(src: &Path, name: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let single = src.join(format!("{name}.rs"));
    if single.exists() {
        files.push(single);
    }
    let mut folders = vec![src.join(name)];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !matches!(
                    path.file_name().and_then(|n| n.to_str()),
                    Some("tests.rs" | "properties.rs")
                )
            {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty(), "module `{name}` has no files under src/");
    files
}

/// The code of a file before its first `#[cfg(test)]`, where inline
/// tests start; tests may drive one side with the other.
fn production_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a source file reads");
    text.split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn violations(architecture: &str, src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for rule in rules(architecture) {
        for module in &rule.modules {
            for file in files_of(src, module) {
                let code = production_code(&file);
                for (number, line) in code.lines().enumerate() {
                    let line = line.trim_start();
                    if line.starts_with("//") {
                        continue;
                    }
                    for path in &rule.forbidden {
                        if names(line, path) {
                            found.push(format!(
                                "{}:{}: `{module}` must not use `{path}`: {line}",
                                file.display(),
                                number + 1
                            ));
                        }
                    }
                }
            }
        }
    }
    found
}

/// Whether `line` names the path `path` (`crate::cloud`, `tokio`): as a
/// whole path segment, so `crate::cloudy` or `my_tokio` do not count.
fn names(line: &str, path: &str) -> bool {
    line.match_indices(path).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + path.len()..].chars().next();
        let boundary = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        boundary(before) && boundary(after)
    })
}

#[test]
fn no_module_uses_what_the_architecture_forbids() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture = std::fs::read_to_string(root.join("docs/architecture.md"))
        .expect("docs/architecture.md reads");
    assert!(!rules(&architecture).is_empty(), "the table has rows");
    let found = violations(&architecture, &root.join("src"));
    assert!(found.is_empty(), "forbidden arrows:\n{}", found.join("\n"));
}

#[test]
fn a_forbidden_arrow_is_found() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir(dir.path().join("plan")).expect("a module folder");
    std::fs::write(
        dir.path().join("plan/mod.rs"),
        "//! uses crate::cloud in a comment only\nuse crate::cloudy;\nuse crate::cloud::client::Client;\n#[cfg(test)]\nuse crate::emulator;\n",
    )
    .expect("a source file");
    let architecture = "## Forbidden arrows\n\n| module | must not use |\n| --- | --- |\n| `plan` | `crate::cloud`, `crate::emulator` |\n";
    let found = violations(architecture, dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains(":3: `plan` must not use `crate::cloud`"));
}
