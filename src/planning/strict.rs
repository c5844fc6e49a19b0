//! Warnings a plan cannot see for itself, and `--strict`, which fails plan
//! and apply on any warning, so that a typo in a tag or a region cannot pass
//! CI green as "No changes".

use std::collections::BTreeSet;

use crate::manifest::Manifest;
use crate::plan::{Plan, Totals};

/// Any warning under `--strict`, each named.
#[derive(Debug, thiserror::Error)]
#[error(
    "--strict fails the run on {}:\n{}\n  hint: fix each, or run without --strict (REGROUP_STRICT unset) to accept them",
    crate::render::count(.0.len(), "warning", "warnings"),
    .0.iter().map(|w| format!("  {w}")).collect::<Vec<_>>().join("\n")
)]
pub struct StrictWarnings(pub Vec<String>);

/// Every region the manifest reads, by any entry or rule.
fn manifest_regions(manifest: &Manifest) -> BTreeSet<&str> {
    manifest
        .groups
        .iter()
        .flat_map(|group| {
            let entries = group.resources.iter().map(|e| &e.regions);
            let rules = group.rules.iter().map(|r| &r.regions);
            entries.chain(rules)
        })
        .flat_map(|list| list.iter().map(String::as_str))
        .collect()
}

/// A warning for each `--region` the manifest does not read: limiting a run
/// to it reads nothing, which would look like "No changes". Call before the
/// manifest is limited to the options.
pub fn unused_region_options(options: &[String], manifest: &Manifest) -> Vec<String> {
    let used = manifest_regions(manifest);
    options
        .iter()
        .filter(|region| !used.contains(region.as_str()))
        .map(|region| {
            format!(
                "--region {region}: {} reads no resource in this region (it reads {})",
                manifest.file,
                used.iter().copied().collect::<Vec<_>>().join(", ")
            )
        })
        .collect()
}

/// The plan with `extra` warnings, and a loud one when it manages no
/// resource at all.
pub fn with_warnings(mut plan: Plan, extra: Vec<String>) -> Plan {
    let totals = plan.totals();
    add_warnings(&mut plan, totals, extra);
    plan
}

/// [`with_warnings`] for a plan whose changes are not held (a plan over
/// many accounts written as it is planned), from what it counts.
pub fn add_warnings(plan: &mut Plan, totals: Totals, extra: Vec<String>) {
    plan.warnings.extend(extra);
    // A plan over accounts none of which could be planned found nothing
    // because it read nothing: each account's error says why, and advice
    // about tags and ids would point the wrong way.
    let every_account_failed =
        !plan.accounts.is_empty() && plan.accounts.iter().all(|a| a.error.is_some());
    if !totals.has_changes() && totals.unchanged == 0 && !every_account_failed {
        plan.warnings.push(crate::plan::MANAGES_NOTHING.to_owned());
    }
}

/// Under `--strict`, any warning of the plan is an error naming each.
pub fn check(plan: &Plan, strict: bool) -> Result<(), StrictWarnings> {
    if strict && !plan.warnings.is_empty() {
        return Err(StrictWarnings(plan.warnings.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{sample_status, MANAGES_NOTHING};

    /// An empty plan over `accounts`, each failed or not.
    fn over(accounts: &[(&str, bool)]) -> Plan {
        let mut plan = Plan::empty();
        plan.accounts = accounts
            .iter()
            .map(|(id, failed)| {
                let mut status = sample_status(id);
                status.error = failed.then(|| "cannot assume role R".to_owned());
                status
            })
            .collect();
        plan
    }

    fn warns_of_nothing_managed(plan: Plan) -> bool {
        with_warnings(plan, Vec::new())
            .warnings
            .iter()
            .any(|w| w == MANAGES_NOTHING)
    }

    #[test]
    fn nothing_managed_is_a_warning_unless_every_account_failed() {
        assert!(warns_of_nothing_managed(Plan::empty()), "one account");
        assert!(
            warns_of_nothing_managed(over(&[("1001", false), ("1002", true)])),
            "one account was read and held nothing"
        );
        assert!(
            !warns_of_nothing_managed(over(&[("1001", true), ("1002", true)])),
            "no account was read: their errors say why"
        );
    }
}
