//! Moves an auto-grouping rule would undo: left out and reported, or with
//! `--override-rules` made anyway, with a warning.

use std::io::Write;

use crate::plan::{Change, Plan};

/// Takes out the moves an auto-grouping rule would undo, to be reported
/// `not_started` (the manifest cannot hold while the rule stands), or with
/// `--override-rules` keeps them and warns.
pub fn skip_conflicts(
    mut plan: Plan,
    override_rules: bool,
    skipped: &mut Vec<(Change, String)>,
    out: &mut impl Write,
) -> anyhow::Result<Plan> {
    let conflicting = plan.changes.iter().filter(|c| c.conflict.is_some()).count();
    if conflicting == 0 {
        return Ok(plan);
    }
    if override_rules {
        writeln!(
            out,
            "\nWarning: --override-rules: moving {conflicting} resource(s) against an auto-grouping rule, which may move them back"
        )?;
        return Ok(plan);
    }
    let (against, kept) = std::mem::take(&mut plan.changes)
        .into_iter()
        .partition(|c| c.conflict.is_some());
    plan.changes = kept;
    for change in against {
        let rule = change
            .conflict
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let why =
            format!("skipped: {rule} would move it back (pass --override-rules to move it anyway)");
        writeln!(out, "  {}: {why}", change.resource)?;
        skipped.push((change, why));
    }
    Ok(plan)
}
