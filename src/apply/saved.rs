//! A saved plan as apply takes it: read and checked against the manifest
//! it was planned from (or, for an undo plan, the report it was made from),
//! limited to `--region`, and re-planned so that only what the manifest
//! asks for is applied.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context as _};

use super::request::ManifestChoice;
use super::{stale, undo};
use crate::bounded_read::read_at_most;
use crate::cloud::client::Client;
use crate::manifest::Manifest;
use crate::plan::{Change, Plan};
use crate::planning::{self, make_plan};

/// Reads a saved plan, and the manifest it must have been planned from:
/// the one named, which must exist, else the one the plan names, `None`
/// when that is gone. An undo plan is checked against the report it was
/// made from instead.
pub(super) fn load_saved_plan(
    path: &Path,
    manifest: &ManifestChoice,
    regions: &[String],
) -> anyhow::Result<(Plan, Option<Manifest>)> {
    let plan = planning::read_plan(path)
        .with_context(|| format!("{} cannot be applied", path.display()))?;
    plan.check_not_merged(&path.display().to_string())?;
    if plan.undo {
        check_undo_report(&plan)?;
        return Ok((plan, None));
    }
    let file = if manifest.named {
        manifest.path.clone()
    } else {
        let stored = std::path::PathBuf::from(&plan.manifest.file);
        if !stored.exists() {
            return Ok((plan, None));
        }
        stored
    };
    let manifest = planning::load_manifest(&file, regions)?;
    if manifest.sha256 != plan.manifest.sha256 {
        bail!(
            "{} was planned from another version of {} (sha256 {} then, {} now); plan again",
            path.display(),
            file.display(),
            plan.manifest
                .sha256
                .get(..12)
                .unwrap_or(&plan.manifest.sha256),
            manifest.sha256.get(..12).unwrap_or(&manifest.sha256)
        );
    }
    Ok((plan, Some(manifest)))
}

/// Refuses a saved plan that moves resources outside `--region`: the
/// option limits what a run may touch, whether it plans or applies a plan.
pub(super) fn check_saved_regions(plan: &Plan, regions: &[String]) -> anyhow::Result<()> {
    if regions.is_empty() {
        return Ok(());
    }
    let outside: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !regions.iter().any(|r| **r == *c.resource.region))
        .collect();
    if let Some(first) = outside.first() {
        bail!(
            "the saved plan moves {} resource(s) outside --region {} (the first: {}), so nothing was changed\n  hint: apply it without --region, or plan again with it",
            outside.len(),
            regions.join(", "),
            first.resource
        );
    }
    Ok(())
}

/// Checks an undo plan against the report it names, before any call.
fn check_undo_report(plan: &Plan) -> anyhow::Result<()> {
    let bound = plan.undoes.as_ref().ok_or(undo::UndoError::Unbound)?;
    let bytes = read_at_most(Path::new(&bound.file), undo::MAX_REPORT_BYTES).with_context(
        || {
            format!(
                "could not read the report {} that the undo plan was made from, so nothing was changed",
                bound.file
            )
        },
    )?;
    undo::check_against_report(plan, &bytes)?;
    Ok(())
}

/// Plans afresh from the manifest, reading every type and region it covers
/// as `plan` does, and returns the saved plan as it is applied: only
/// changes the manifest asks for, and everything else (what stays
/// unchanged, conflicts with auto-grouping rules, evictions) recomputed,
/// never read from the file. The plan's checksum proves it intact, not
/// that the manifest made it.
pub(super) async fn recheck_against_manifest(
    client: &Client,
    plan: Plan,
    manifest: &Manifest,
) -> anyhow::Result<Plan> {
    let fresh = make_plan(client, manifest, true)
        .await
        .context("could not check the plan against the manifest")?;
    Ok(crate::plan::recheck(plan, &fresh)?)
}

/// An undo plan as it is applied: the resources that moved since it was
/// written are taken out, each with why (already back, or stale), to be
/// reported `not_started`; the count of those already back, which are no
/// failure.
pub(super) async fn settle_undo(
    client: &Client,
    mut plan: Plan,
    stale_changes: &mut Vec<(Change, String)>,
    out: &mut impl Write,
) -> anyhow::Result<(Plan, usize)> {
    let mut already_back = 0;
    let drifts = stale::find_drift(client, &plan).await?;
    for drift in drifts {
        if let Some(at) = plan
            .changes
            .iter()
            .position(|c| c.resource == drift.resource)
        {
            let change = plan.changes.remove(at);
            let why = match &drift.now_in {
                Some(group) if change.to.holds(group) => {
                    already_back += 1;
                    format!(
                        "{}: already back in {}, nothing to undo",
                        change.resource, change.to.id
                    )
                }
                _ => format!(
                    "stale, not moved back: {}",
                    stale::describe_drift(&drift).trim_start()
                ),
            };
            writeln!(out, "  {why}")?;
            stale_changes.push((change, why));
        }
    }
    Ok((plan, already_back))
}
