//! The house's size limits, checked: no file of the library's non-test
//! code longer than [`MAX_LINES`] (its `#[cfg(test)]` items not counted,
//! and files that are tests whole not read), no `commands/*.rs` longer
//! than [`MAX_COMMAND_LINES`] (a command resolves options, makes one
//! library call and prints), and every file that `docs/architecture.md`'s
//! "How to add" section tells a contributor to touch exists.

use std::path::Path;

use syn::spanned::Spanned;

use crate::layering::{is_test_only, item_attrs, source_files};

/// The most lines a source file's non-test code may have.
const MAX_LINES: usize = 700;

/// The most lines a subcommand's file may have.
const MAX_COMMAND_LINES: usize = 150;

/// The lines of `text` outside its top-level `#[cfg(test)]` items.
fn non_test_lines(text: &str, syntax: &syn::File) -> usize {
    let total = text.lines().count();
    let tests: usize = syntax
        .items
        .iter()
        .filter(|item| item_attrs(item).is_some_and(is_test_only))
        .map(|item| {
            let span = item.span();
            span.end().line + 1 - span.start().line
        })
        .sum();
    total - tests
}

#[test]
fn no_source_file_is_longer_than_the_house_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let files = source_files(&src);
    assert!(
        files.len() > 50,
        "the module tree was walked: {}",
        files.len()
    );
    let mut too_long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(&file.path).expect("a source file reads");
        let lines = non_test_lines(&text, &file.syntax);
        let is_command = file.path.parent() == Some(src.join("commands").as_path());
        let limit = if is_command {
            MAX_COMMAND_LINES
        } else {
            MAX_LINES
        };
        if lines > limit {
            let shown = file.path.strip_prefix(root).unwrap_or(&file.path);
            too_long.push(format!("{}: {lines} lines, over {limit}", shown.display()));
        }
    }
    assert!(
        too_long.is_empty(),
        "split these by idea:\n{}",
        too_long.join("\n")
    );
}

#[test]
fn test_items_are_not_counted() {
    let text = "fn a() {}\n\n#[cfg(test)]\nmod tests {\n    fn b() {}\n}\n";
    let syntax = syn::parse_file(text).expect("the sample parses");
    assert_eq!(
        non_test_lines(text, &syntax),
        2,
        "only `fn a` and the blank line count"
    );
}

/// The paths in backticks of the "How to add" section: every word with a
/// `/` and a file ending, or ending in `/`.
fn named_paths(architecture: &str) -> Vec<String> {
    let Some(start) = architecture.find("## How to add") else {
        return Vec::new();
    };
    let section = &architecture[start..];
    let section = section[2..]
        .find("\n## ")
        .map_or(section, |end| &section[..end + 2]);
    section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| {
            word.contains('/')
                && !word.contains(' ')
                && (word.ends_with(".rs") || word.ends_with(".md") || word.ends_with('/'))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_file_the_how_to_add_section_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture = std::fs::read_to_string(root.join("docs/architecture.md"))
        .expect("docs/architecture.md reads");
    let named = named_paths(&architecture);
    assert!(
        named.len() >= 10,
        "the section names the files to touch: {named:?}"
    );
    let missing: Vec<&String> = named.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(missing.is_empty(), "named but not there: {missing:?}");
}
