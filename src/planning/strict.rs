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
    if !totals.has_changes() && totals.unchanged == 0 {
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
