//! The guards a plan passes before it is applied: the blast-radius limit
//! (`max_changes`), and a saved plan checked against a fresh one, so that
//! only changes the manifest asks for are applied.

use std::collections::HashMap;

use super::{Change, GroupRef, Plan, Totals};
use crate::manifest::MaxChanges;
use crate::resource::ResourceKey;

/// A plan that moves more than its `max_changes` allows.
#[derive(Debug, thiserror::Error)]
#[error("the plan moves {count} resource(s), more than the {limit} allowed by {}{share}, so nothing was changed\n  hint: look for a typo in the rules; if the moves are right, raise the limit", setting(.max, .manifest.as_deref()), share = match .max { MaxChanges::Percent(_) => format!(" (of {} managed resources)", .managed), MaxChanges::Count(_) => String::new() })]
pub struct TooManyChanges {
    pub count: usize,
    pub limit: usize,
    pub max: MaxChanges,
    /// The resources the manifest manages: those moved and those in place.
    pub managed: usize,
    /// The manifest that set the limit; `None` for `--max-changes`.
    pub manifest: Option<String>,
}

/// Where a limit was set, as the user wrote it.
fn setting(max: &MaxChanges, manifest: Option<&str>) -> String {
    match manifest {
        Some(file) => format!("`max_changes: {max}` in {file}"),
        None => format!("--max-changes {max}"),
    }
}

impl Totals {
    /// Refuses a plan that moves more than `max` allows, from what it
    /// counts (`Plan::totals`); `manifest` names the manifest that set the
    /// limit (`None`: `--max-changes` did).
    pub fn check_max_changes(
        &self,
        max: MaxChanges,
        manifest: Option<&str>,
    ) -> Result<(), TooManyChanges> {
        let managed = self.changes + self.unchanged;
        let limit = max.limit(managed);
        if self.changes <= limit {
            return Ok(());
        }
        Err(TooManyChanges {
            count: self.changes,
            limit,
            max,
            managed,
            manifest: manifest.map(str::to_owned),
        })
    }
}

/// A change of a saved plan that the manifest does not ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unasked {
    pub change: Change,
    /// Where the manifest puts the resource instead; `None` when it asks for
    /// no move of it (does not mention it, or wants it where it is).
    pub manifest_wants: Option<GroupRef>,
}

/// Saved changes that the manifest does not ask for.
#[derive(Debug, thiserror::Error)]
#[error("the saved plan has {} change(s) that the manifest does not ask for, so nothing was changed:\n{}\n  hint: plan again from the manifest, and apply that plan", .0.len(), .0.iter().map(describe_unasked).collect::<Vec<_>>().join("\n"))]
pub struct UnaskedChanges(pub Vec<Unasked>);

fn describe_unasked(unasked: &Unasked) -> String {
    let change = &unasked.change;
    let wanted = match &unasked.manifest_wants {
        Some(group) => format!("the manifest puts it in `{}` ({})", group.name, group.id),
        None => "the manifest asks for no move of it".to_owned(),
    };
    format!(
        "  {}: the plan moves it to `{}` ({}); {wanted}",
        change.resource, change.to.name, change.to.id
    )
}

/// Checks every change of a `saved` plan against a `fresh` one, planned from
/// the manifest against the account as it is now: each saved change must be
/// one the fresh plan makes too, the same resource into the same group (by
/// id; a group's name may have changed since). The checksum of a saved plan
/// proves only that it is intact, not who made it: anyone who can edit the
/// file can recompute it, so with the manifest at hand the manifest decides.
pub fn check_saved_against(saved: &Plan, fresh: &Plan) -> Result<(), UnaskedChanges> {
    let wanted: HashMap<&ResourceKey, &GroupRef> =
        fresh.changes.iter().map(|c| (&c.resource, &c.to)).collect();
    let unasked: Vec<Unasked> = saved
        .changes
        .iter()
        .filter_map(|change| match wanted.get(&change.resource) {
            Some(to) if to.id == change.to.id => None,
            other => Some(Unasked {
                change: change.clone(),
                manifest_wants: other.map(|to| (*to).clone()),
            }),
        })
        .collect();
    if unasked.is_empty() {
        Ok(())
    } else {
        Err(UnaskedChanges(unasked))
    }
}

/// The saved plan as it is applied: its changes, each checked against the
/// `fresh` plan ([`check_saved_against`]), with everything else taken from
/// the fresh plan rather than read from the file: how many resources stay
/// unchanged (which `--max-changes N%` counts against), each change's
/// conflict with an auto-grouping rule, and which changes are evictions.
pub fn recheck(mut saved: Plan, fresh: &Plan) -> Result<Plan, UnaskedChanges> {
    check_saved_against(&saved, fresh)?;
    let derived: HashMap<&ResourceKey, &Change> =
        fresh.changes.iter().map(|c| (&c.resource, c)).collect();
    for change in &mut saved.changes {
        if let Some(fresh) = derived.get(&change.resource) {
            change.conflict = fresh.conflict.clone();
            change.evict = fresh.evict;
        }
    }
    saved.evictions = saved.changes.iter().filter(|c| c.evict).count();
    // The fresh plan's changes left out of the saved one stay where they
    // are in this apply: they count as unchanged.
    saved.unchanged = fresh.unchanged + fresh.changes.len().saturating_sub(saved.changes.len());
    Ok(saved)
}
