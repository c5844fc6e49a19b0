//! The plan for a person at a terminal, in Terraform's manner: one line per
//! move, a before/after view of each group, and a closing summary line.

use std::fmt::Write;

use similar::{ChangeTag, TextDiff};

use super::{
    breakdown, conflict_note, escape, group_label, moves_by_groups, sign, summary_line, Render,
};
use crate::plan::{Change, GroupRef, Plan};

/// Above this many moves, a grouped summary comes first and the per-group
/// view is left out, so that a plan of thousands stays readable.
pub const SUMMARY_THRESHOLD: usize = 50;

pub struct Text {
    pub color: bool,
}

impl Text {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn change_line(&self, change: &Change) -> String {
        let color = if change.evict { "31" } else { "33" };
        let line = format!(
            "  {} {}  {} → {}  {}",
            self.paint(color, sign(change)),
            self.paint("1", &escape::terminal(&change.resource.to_string())),
            group_label(&change.from),
            self.paint("32", &group_label(&change.to)),
            self.paint("2", &escape::terminal(&format!("# {}", change.source))),
        );
        match conflict_note(change) {
            Some(note) => format!("{line}\n      {}", self.paint("31", &format!("! {note}"))),
            None => line,
        }
    }

    /// Counts per from → to, with a breakdown by type.
    fn grouped_summary(&self, plan: &Plan, out: &mut String) {
        let _ = writeln!(out, "Summary of moves:");
        for ((from, to), types) in &moves_by_groups(plan) {
            let total: usize = types.values().sum();
            let _ = writeln!(
                out,
                "  {from} → {}: {total} ({})",
                self.paint("32", to),
                breakdown(types)
            );
        }
        out.push('\n');
    }

    /// Each touched group's managed members before and after, as a diff.
    fn group_view(&self, plan: &Plan, out: &mut String) {
        let _ = writeln!(out, "Groups, before → after:");
        for summary in &plan.groups {
            let leaving = members(plan, |c| c.from == summary.group);
            let arriving = members(plan, |c| c.to == summary.group);
            if leaving.is_empty() && arriving.is_empty() {
                continue;
            }
            // The members that stay are shown as one line, so that the diff
            // is about what moves.
            let stay = format!("… {} unchanged", summary.unchanged);
            let staying: Vec<&str> = if summary.unchanged > 0 {
                vec![&stay]
            } else {
                Vec::new()
            };
            let before: Vec<&str> = staying
                .iter()
                .copied()
                .chain(leaving.iter().map(String::as_str))
                .collect();
            let after: Vec<&str> = staying
                .iter()
                .copied()
                .chain(arriving.iter().map(String::as_str))
                .collect();
            let _ = writeln!(out, "  {}", heading(&summary.group));
            let diff = TextDiff::from_slices(&before, &after);
            for change in diff.iter_all_changes() {
                let line = match change.tag() {
                    ChangeTag::Equal => format!("      {}", self.paint("2", change.value())),
                    ChangeTag::Delete => {
                        format!("    {}", self.paint("31", &format!("- {}", change.value())))
                    }
                    ChangeTag::Insert => {
                        format!("    {}", self.paint("32", &format!("+ {}", change.value())))
                    }
                };
                let _ = writeln!(out, "{line}");
            }
        }
        out.push('\n');
    }
}

fn heading(group: &GroupRef) -> String {
    escape::terminal(&if group.name.is_empty() || group.name == group.id {
        group.id.to_string()
    } else {
        format!("{} ({})", group.name, group.id)
    })
}

fn members(plan: &Plan, pick: impl Fn(&Change) -> bool) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| pick(c))
        .map(|c| escape::terminal(&c.resource.to_string()))
        .collect()
}

impl Render for Text {
    fn write(&self, plan: &Plan, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
        if !plan.accounts.is_empty() {
            return super::accounts::write_all(&mut Text { color: self.color }, plan, sink);
        }
        let mut out = String::new();
        self.warnings(&plan.warnings, &mut out);
        self.moves(plan, &mut out);
        sink.write_all(out.as_bytes())
    }
}

impl Text {
    /// A plan's warnings, then a blank line, if it has any.
    pub(super) fn warnings(&self, warnings: &[String], out: &mut String) {
        for warning in warnings {
            let _ = writeln!(
                out,
                "{} {}",
                self.paint("33;1", "Warning:"),
                escape::terminal(warning)
            );
        }
        if !warnings.is_empty() {
            out.push('\n');
        }
    }

    /// A plan of one account, or one account's part of a plan over many,
    /// but for its warnings.
    pub(super) fn moves(&self, plan: &Plan, out: &mut String) {
        if plan.has_changes() {
            if plan.changes.len() > SUMMARY_THRESHOLD {
                self.grouped_summary(plan, out);
            }
            let _ = writeln!(out, "regroup will move these resources:\n");
            if plan.evictions > 0 {
                let _ = writeln!(
                    out,
                    "  (~ asked for by the manifest, - evicted from an exclusive group)\n"
                );
            }
            for change in &plan.changes {
                let _ = writeln!(out, "{}", self.change_line(change));
            }
            out.push('\n');
            if plan.changes.len() <= SUMMARY_THRESHOLD {
                self.group_view(plan, out);
            } else {
                let _ = writeln!(
                    out,
                    "The per-group view (Groups, before → after) is left out above {SUMMARY_THRESHOLD} moves; the summary of moves above counts them.\n"
                );
            }
        }
        let _ = writeln!(out, "{}", self.paint("1", &summary_line(plan)));
    }

    pub(super) fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub(super) fn warn(&self, text: &str) -> String {
        self.paint("31", text)
    }
}
