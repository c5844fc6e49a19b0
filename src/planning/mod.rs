//! Making a plan from the account: the manifest loaded and limited to the
//! regions a run may touch, the account read, `plan::plan` run over the
//! two, and the guards a fresh plan must pass. It does I/O, which is why it
//! is not in `plan` (pure).

pub mod accounts;
pub mod load;
pub mod stream;
pub mod strict;

use anyhow::Context as _;

use crate::cloud::client::Client;
use crate::inventory;
use crate::manifest::{Manifest, MaxChanges};
use crate::plan::{Plan, PlanOptions};

pub use load::{load_manifest, load_manifest_noting};

/// Reads what the manifest touches, and the auto-grouping rules, and plans.
pub async fn make_plan(
    client: &Client,
    manifest: &Manifest,
    ignore_missing: bool,
) -> anyhow::Result<Plan> {
    let scopes = inventory::scopes(manifest);
    let needs = inventory::search::Needs::of(manifest);
    // The auto-grouping rules are read alongside, not after: one call that
    // a plan without moves does not use, for a round trip less before the
    // first join. So are other services' names and tags (Resource Center).
    let (read, rules, labels) = futures::join!(
        inventory::read(client, &scopes),
        crate::cloud::rules::read(client),
        inventory::search::read(client, &needs)
    );
    // A rule Resource Center cannot serve in this account is named first.
    let labels = labels?;
    let mut inventory = if manifest.has_exclusive() {
        read.context("no plan was made, evictions included: an exclusive group's evictions are planned only from complete listings of every type and region the manifest covers, and a listing failed")?
    } else {
        read?
    };
    labels.apply_to(&mut inventory.resources);
    // The ids to read are a copy of the manifest's: not kept while planning.
    drop(scopes);
    // Given, not lent: the planner hands the inventory back as it goes.
    let plan = crate::plan::plan_marked(
        manifest,
        inventory,
        &rules,
        PlanOptions { ignore_missing },
        chrono::Utc::now(),
    )?;
    tracing::info!(calls = client.stats().requests, "plan read the account");
    Ok(plan)
}

/// Refuses a plan over its blast-radius limit: `--max-changes` when given,
/// else the manifest's `max_changes`. From what the plan counts (a `&Plan`,
/// or the `Totals` of one whose changes are not held).
pub fn check_max_changes(
    plan: impl Into<crate::plan::Totals>,
    flag: Option<MaxChanges>,
    manifest: Option<&Manifest>,
) -> anyhow::Result<()> {
    let totals = plan.into();
    if let Some(max) = flag {
        totals.check_max_changes(max, None)?;
    } else if let Some((max, manifest)) = manifest.and_then(|m| m.max_changes.map(|max| (max, m))) {
        totals.check_max_changes(max, Some(&manifest.file))?;
    }
    Ok(())
}

/// A saved plan, read whole (bounded) and checked against its checksum.
pub fn read_plan(path: &std::path::Path) -> anyhow::Result<Plan> {
    let bytes = crate::bounded_read::read_at_most(path, crate::plan::MAX_PLAN_BYTES)?;
    plan_from(path, &bytes)
}

/// The plan in `bytes`, read from `path`, checked against its checksum.
pub fn plan_from(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<Plan> {
    Plan::from_json(bytes)
        .with_context(|| format!("{} is not a plan regroup can use", path.display()))
}
