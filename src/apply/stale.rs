//! The stale-plan guard: a saved plan is applied only while every resource
//! it moves is still where the plan found it.

use crate::cloud::client::{Client, CloudError};
use crate::inventory;
use crate::plan::Plan;
use crate::resource::ResourceKey;

/// A resource whose group changed since the plan was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub resource: ResourceKey,
    pub planned_from: String,
    /// `None` when the resource no longer exists.
    pub now_in: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the saved plan is stale: {} resource(s) are no longer where the plan found them, so nothing was changed:\n{}\n  hint: run `regroup plan` again", .0.len(), .0.iter().map(describe_drift).collect::<Vec<_>>().join("\n"))]
    Stale(Vec<Drift>),
    #[error("could not read the current groups")]
    Read(#[source] CloudError),
}

/// One line for a drifted resource.
pub fn describe_drift(drift: &Drift) -> String {
    match &drift.now_in {
        Some(group) => format!(
            "  {}: planned from {}, now in {group}",
            drift.resource, drift.planned_from
        ),
        None => format!(
            "  {}: planned from {}, no longer exists",
            drift.resource, drift.planned_from
        ),
    }
}

/// Reads every planned resource's group and refuses if any has moved since
/// the plan was made.
pub async fn check_stale(client: &Client, plan: &Plan) -> Result<(), ApplyError> {
    let drifts = find_drift(client, plan).await?;
    if drifts.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::Stale(drifts))
    }
}

/// Reads every planned resource's group: every resource that is no longer
/// where the plan found it. An undo plan skips those alone
/// ([`check_stale`] refuses the whole plan).
pub async fn find_drift(client: &Client, plan: &Plan) -> Result<Vec<Drift>, ApplyError> {
    let keys: Vec<ResourceKey> = plan.changes.iter().map(|c| c.resource.clone()).collect();
    let current = inventory::read_keys(client, &keys)
        .await
        .map_err(ApplyError::Read)?;
    let drifts: Vec<Drift> = plan
        .changes
        .iter()
        .filter_map(|change| {
            let now_in = current
                .get(&change.resource)
                .map(|r| r.group_id.to_string());
            let unmoved = now_in.as_deref().is_some_and(|g| change.from.holds(g));
            (!unmoved).then(|| Drift {
                resource: change.resource.clone(),
                planned_from: change.from.id.to_string(),
                now_in,
            })
        })
        .collect();
    Ok(drifts)
}
