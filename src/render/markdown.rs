//! The plan as a pull-request comment: the summary line opens a collapsible
//! `<details>` block holding a table of moves, cut with a note before it
//! passes GitHub's limit on a comment's length.

use std::fmt::Write;

use super::{group_label, summary_line, Render};
use crate::plan::Plan;

/// GitHub refuses comments longer than this many characters.
pub const COMMENT_LIMIT: usize = 65_536;
/// Room kept for the closing lines and the note about cut rows.
const CLOSING_ROOM: usize = 512;

pub struct Markdown;

/// Escapes what would break a table cell or be read as markup.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Render for Markdown {
    fn write(&self, plan: &Plan, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut out = String::new();
        let _ = writeln!(out, "### regroup plan\n");
        for warning in &plan.warnings {
            let _ = writeln!(out, "> **Warning:** {}", cell(warning));
        }
        if !plan.warnings.is_empty() {
            out.push('\n');
        }
        if !plan.has_changes() {
            let _ = writeln!(out, "**{}**", summary_line(plan));
            return sink.write_all(out.as_bytes());
        }
        let _ = writeln!(
            out,
            "<details><summary><b>{}</b></summary>\n",
            summary_line(plan)
        );
        let _ = writeln!(
            out,
            "| | Resource | Region | Name | From | To | Asked for at |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        let mut shown = 0;
        for change in &plan.changes {
            let row = format!(
                "| ~ | `{}/{}` | {} | {} | {} | {} | `{}` |\n",
                change.resource.rtype,
                change.resource.id,
                change.resource.region,
                cell(&change.name),
                cell(&group_label(&change.from)),
                cell(&group_label(&change.to)),
                change.source
            );
            if out.len() + row.len() + CLOSING_ROOM > COMMENT_LIMIT {
                break;
            }
            out.push_str(&row);
            shown += 1;
        }
        let hidden = plan.changes.len() - shown;
        if hidden > 0 {
            let _ = writeln!(
                out,
                "\n_{hidden} more moves are not shown: the comment would pass GitHub's {COMMENT_LIMIT}-character limit. Run `regroup plan` for the whole plan._"
            );
        }
        let _ = writeln!(out, "\n</details>");
        sink.write_all(out.as_bytes())
    }
}
