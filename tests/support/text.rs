//! Multi-line text in tests, written indented with the code around it:
//! [`indoc`] strips the indentation, so a manifest or a fleet reads as the
//! YAML file it stands for instead of one line of `\n` escapes.

/// `text` without its first line break and without the indentation its
/// non-blank lines share; the last line (the indentation of the closing
/// quote) is dropped when blank, so the result ends in one line break.
///
/// ```text
/// indoc("
///     version: 1
///     groups:
///       prod: {}
///     ")  ==  "version: 1\ngroups:\n  prod: {}\n"
/// ```
pub fn indoc(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last().is_some_and(|last| last.trim().is_empty()) {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|line| format!("{}\n", line.get(indent..).unwrap_or("").trim_end()))
        .collect()
}

#[test]
fn indoc_strips_the_shared_indentation_and_keeps_the_rest() {
    let text = indoc(
        "
        version: 1
        groups:
          prod:

            resources: [instance/i-1]
        ",
    );
    assert_eq!(
        text, "version: 1\ngroups:\n  prod:\n\n    resources: [instance/i-1]\n",
        "the lines keep their indentation relative to the least indented one"
    );
}
