//! Turns a [`Plan`] into text for people, markdown for pull requests or JSON
//! for machines. Each format is one file behind the [`Render`] trait, which
//! writes to whatever writer it is given. JSON streams straight to it; text
//! and markdown compose their text in memory first (a few bytes per change,
//! next to the plan itself) and write it in one go. A plan over several
//! accounts is shown a section per account ([`Sections`], in `accounts`),
//! which `regroup plan` writes as each account is planned.

mod accounts;
pub(crate) use accounts::overview;
mod escape;
mod json;
mod markdown;
mod text;

use std::collections::BTreeMap;

use crate::plan::{Plan, Totals};

pub use accounts::{sections, Sections};
pub use json::Json;
pub use markdown::{Markdown, COMMENT_LIMIT};
pub use text::Text;

/// An output format for plans.
pub trait Render {
    /// Writes the plan to `out`.
    fn write(&self, plan: &Plan, out: &mut dyn std::io::Write) -> std::io::Result<()>;

    /// The plan as a string, for tests and snapshots.
    #[cfg(test)]
    fn render(&self, plan: &Plan) -> String {
        let mut out = Vec::new();
        self.write(plan, &mut out)
            .expect("writing to memory cannot fail");
        String::from_utf8(out).expect("renderers write UTF-8")
    }
}

/// The `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// The renderer for `format`; `color` only matters to text.
pub fn renderer(format: Format, color: bool) -> Box<dyn Render> {
    match format {
        Format::Text => Box::new(Text { color }),
        Format::Json => Box::new(Json),
        Format::Markdown => Box::new(Markdown),
    }
}

/// The closing line every human format shares, from what the plan counts
/// (a `&Plan`, or the `Totals` of one whose changes are not held);
/// evictions from exclusive groups are counted apart from the moves the
/// manifest asks for.
pub fn summary_line(plan: impl Into<Totals>) -> String {
    let totals: Totals = plan.into();
    if totals.has_changes() {
        let evicting = if totals.evictions > 0 {
            format!(", {} to evict", totals.evictions)
        } else {
            String::new()
        };
        let conflicts = totals.conflicts;
        let conflicting = if conflicts > 0 {
            format!(" ({conflicts} against an auto-grouping rule)")
        } else {
            String::new()
        };
        format!(
            "Plan: {} to move{conflicting}{evicting}, {} unchanged.",
            totals.changes - totals.evictions,
            totals.unchanged
        )
    } else if totals.unchanged == 1 {
        "No changes. The 1 resource the manifest manages is in its group.".to_owned()
    } else {
        format!(
            "No changes. All {} resources the manifest manages are in their groups.",
            totals.unchanged
        )
    }
}

/// `n` with its noun, singular for one: `1 group`, `2 groups`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Moves counted per (from, to) group label, each with a count per type:
/// the grouped summary that text and markdown show for big plans.
fn moves_by_groups(plan: &Plan) -> BTreeMap<(String, String), BTreeMap<&'static str, usize>> {
    let mut moves: BTreeMap<(String, String), BTreeMap<&str, usize>> = BTreeMap::new();
    for change in &plan.changes {
        *moves
            .entry((group_label(&change.from), group_label(&change.to)))
            .or_default()
            .entry(change.resource.rtype.as_str())
            .or_default() += 1;
    }
    moves
}

/// The sign of a change: `~` for a move the manifest asks for, `-` for an
/// eviction from an exclusive group.
fn sign(change: &crate::plan::Change) -> &'static str {
    if change.evict {
        "-"
    } else {
        "~"
    }
}

/// What a change that an auto-grouping rule would undo says about it.
fn conflict_note(change: &crate::plan::Change) -> Option<String> {
    change
        .conflict
        .as_ref()
        .map(|rule| escape::terminal(&format!("conflicts with {rule}, which moves it back")))
}

/// A per-type breakdown, `3 instance, 1 disk`.
fn breakdown(types: &BTreeMap<&str, usize>) -> String {
    let parts: Vec<String> = types.iter().map(|(t, n)| format!("{n} {t}")).collect();
    parts.join(", ")
}

/// A group for people: its name, with the id when the name alone is not
/// it; control characters written out ([`escape::terminal`]).
fn group_label(group: &crate::plan::GroupRef) -> String {
    if group.name.is_empty() || group.name == group.id {
        escape::terminal(&group.id)
    } else {
        escape::terminal(&group.name)
    }
}

#[cfg(test)]
mod tests;
