//! Names that come from the account (resources, groups, auto-grouping
//! rules) or the manifest (group keys, paths) are anyone's text: shown as
//! they are, a newline or ESC in one would rewrite the terminal or break a
//! pull-request comment open. Every renderer passes such text through here.

use std::fmt::Write as _;

/// `text` for a terminal or log: each control character (C0, DEL, C1: a
/// newline, ESC, a carriage return) written out as `\u{..}`, the rest as
/// it is.
pub fn terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_visible(&mut out, c);
    }
    out
}

fn push_visible(out: &mut String, c: char) {
    if c.is_control() {
        let _ = write!(out, "{}", c.escape_unicode());
    } else {
        out.push(c);
    }
}

/// `text` for a markdown table cell or line: control characters written
/// out as for [`terminal`] (their backslash escaped), the punctuation
/// CommonMark reads as markup backslash-escaped (any ASCII punctuation
/// may be, CommonMark §2.4), and `<`, `>`, `&` as entities, so that no
/// name can open a heading, a link, a code span, HTML or a new table row.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                out.push('\\');
                push_visible(&mut out, c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` as a markdown code span: control characters written out, and a
/// fence of backticks longer than any run inside (CommonMark §6.1), so
/// that a backtick in a path cannot end the span early.
pub fn code(text: &str) -> String {
    let visible = terminal(text);
    let longest = visible.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A space inside the fence when the text starts or ends with a
    // backtick, which CommonMark strips again.
    let pad = if visible.starts_with('`') || visible.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{visible}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_a_terminal() {
        assert_eq!(terminal("web\n\u{1b}[2J1"), "web\\u{a}\\u{1b}[2J1");
        assert_eq!(terminal("plain-name_1"), "plain-name_1");
    }

    #[test]
    fn markdown_syntax_in_a_name_is_shown_not_read() {
        assert_eq!(
            markdown("x\n# [link](http://e) | `c` *b* <b>&"),
            "x\\\\u{a}\\# \\[link\\](http://e) \\| \\`c\\` \\*b\\* &lt;b&gt;&amp;"
        );
    }

    #[test]
    fn a_code_span_outlasts_backticks_inside() {
        assert_eq!(code("a.yaml:1:2"), "`a.yaml:1:2`");
        assert_eq!(code("a`b``c"), "```a`b``c```");
        assert_eq!(code("`x"), "`` `x ``");
    }
}
