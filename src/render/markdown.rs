//! The plan as a pull-request comment: the summary line opens a collapsible
//! `<details>` block holding, for big plans, the moves counted per group,
//! then a table of moves; warnings come after it. Everything counts against
//! GitHub's limit on a comment's length: moves are shown first, then as
//! many warnings as still fit, and what is cut is counted in a note.

use std::fmt::Write;

use super::escape::{code, markdown as cell};
use super::Render;
use super::{
    breakdown, conflict_note, group_label, moves_by_groups, sign, summary_line,
    text::SUMMARY_THRESHOLD,
};
use crate::plan::Plan;

/// GitHub refuses comments longer than this many characters.
pub const COMMENT_LIMIT: usize = 65_536;
/// Room kept, while moves are added, for the note about cut rows, the
/// closing lines and the first warnings' note; while warnings are added,
/// for their own note.
const CLOSING_ROOM: usize = 1_024;

pub struct Markdown;

/// Appends `lines` to `out` while it stays `CLOSING_ROOM` short of
/// `limit` (bytes, which are never fewer than characters); returns how many
/// did not fit.
fn push_within(
    out: &mut String,
    lines: impl ExactSizeIterator<Item = String>,
    limit: usize,
) -> usize {
    let total = lines.len();
    let mut shown = 0;
    for line in lines {
        if out.len() + line.len() + CLOSING_ROOM > limit {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    total - shown
}

/// The note for what did not fit, or nothing.
pub(super) fn cut_note(hidden: usize, one: &str, many: &str) -> String {
    if hidden == 0 {
        return String::new();
    }
    let (noun, verb) = if hidden == 1 {
        (one, "is")
    } else {
        (many, "are")
    };
    format!(
        "\n_… {hidden} more {noun} {verb} not shown: the comment would pass GitHub's {COMMENT_LIMIT}-character limit. Run `regroup plan` for the whole plan._\n"
    )
}

impl Render for Markdown {
    fn write(&self, plan: &Plan, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
        if !plan.accounts.is_empty() {
            let mut sections = super::accounts::MarkdownSections::default();
            return super::accounts::write_all(&mut sections, plan, sink);
        }
        let mut out = String::new();
        let _ = writeln!(out, "{TITLE}\n");
        moves(plan, &mut out, "", COMMENT_LIMIT);
        warnings(&plan.warnings, &mut out);
        sink.write_all(out.as_bytes())
    }
}

/// The comment's first line.
pub(super) const TITLE: &str = "### regroup plan";

/// A plan of one account, or one account's part of a plan over many
/// (`title` before its summary line), but for its warnings, within `limit`
/// counted over all of `out`.
pub(super) fn moves(plan: &Plan, out: &mut String, title: &str, limit: usize) {
    if !plan.has_changes() {
        let _ = writeln!(out, "**{title}{}**", summary_line(plan));
    } else {
        let _ = writeln!(
            out,
            "<details><summary><b>{title}{}</b></summary>\n",
            summary_line(plan)
        );
        if plan.changes.len() > SUMMARY_THRESHOLD {
            let _ = writeln!(out, "| From | To | Moves |\n|---|---|---|");
            let moves = moves_by_groups(plan);
            let rows = moves.iter().map(|((from, to), types)| {
                let total: usize = types.values().sum();
                format!(
                    "| {} | {} | {total} ({}) |\n",
                    cell(from),
                    cell(to),
                    breakdown(types)
                )
            });
            let hidden = push_within(out, rows, limit);
            out.push_str(&cut_note(hidden, "pair of groups", "pairs of groups"));
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "| | Resource | Region | Name | From | To | Asked for at |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        let rows = plan.changes.iter().map(|change| {
            format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                sign(change),
                code(&format!("{}/{}", change.resource.rtype, change.resource.id)),
                cell(&change.resource.region),
                cell(&change.name),
                cell(&group_label(&change.from)),
                cell(&match conflict_note(change) {
                    Some(note) => format!("{} ⚠ {note}", group_label(&change.to)),
                    None => group_label(&change.to),
                }),
                code(&change.source.to_string())
            )
        });
        let hidden = push_within(out, rows, limit);
        out.push_str(&cut_note(hidden, "move", "moves"));
        let _ = writeln!(out, "\n</details>");
    }
}

/// A plan's warnings, as many as fit in the comment.
pub(super) fn warnings(warnings: &[String], out: &mut String) {
    if !warnings.is_empty() {
        out.push('\n');
        let lines = warnings
            .iter()
            .map(|warning| format!("> **Warning:** {}\n", cell(warning)));
        let hidden = push_within(out, lines, COMMENT_LIMIT);
        out.push_str(&cut_note(hidden, "warning", "warnings"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_count_in_words_that_agree() {
        assert!(cut_note(1, "move", "moves").contains("… 1 more move is not shown"));
        assert!(cut_note(3, "warning", "warnings").contains("… 3 more warnings are not shown"));
        assert_eq!(cut_note(0, "move", "moves"), "");
    }
}
