//! Evictions: the members of an `exclusive` group that the manifest places
//! nowhere, and the group they go to.

use std::collections::HashMap;

use super::diff::{is_claimed, resolve_group, Claim};
use super::{Change, GroupRefs, PlanError};
use crate::manifest::{Location, Manifest};
use crate::resource::{self, Group, Resources};

/// The group evictions go to: the manifest's `evict_to`, else the group
/// named `default` (the account's default group, as [`Inventory::new`]
/// reads it: see [`resource::DEFAULT_GROUP_NAME`]). It must be ready and
/// not itself exclusive, or its evictions would be evicted again.
fn evict_target<'a>(
    manifest: &Manifest,
    groups: &'a [Group],
    targets: &[&Group],
    first_exclusive: &Location,
) -> Result<&'a Group, PlanError> {
    let (group, location) = match &manifest.evict_to {
        Some((key, location)) => (resolve_group(key, groups, location)?, location),
        None => {
            let default = groups
                .iter()
                .find(|g| &*g.name == resource::DEFAULT_GROUP_NAME)
                .ok_or_else(|| PlanError::Eviction {
                    location: first_exclusive.clone(),
                    message: format!(
                        "this group is exclusive, the manifest has no `evict_to`, and the account has no group named `{}` to evict to\n  hint: add a top-level `evict_to: GROUP`",
                        resource::DEFAULT_GROUP_NAME
                    ),
                })?;
            (default, first_exclusive)
        }
    };
    if group.status != resource::GROUP_READY {
        return Err(PlanError::GroupNotReady {
            location: location.clone(),
            name: group.name.to_string(),
            id: group.id.to_string(),
            status: group.status.clone(),
        });
    }
    let exclusive_too = manifest
        .groups
        .iter()
        .zip(targets)
        .any(|(spec, target)| spec.exclusive && target.id == group.id);
    if exclusive_too {
        return Err(PlanError::Eviction {
            location: location.clone(),
            message: format!(
                "evictions would go to `{}`, which is itself exclusive, so they would be evicted again\n  hint: set `evict_to` to a group that is not exclusive",
                group.name
            ),
        });
    }
    Ok(group)
}

/// The evictions of every `exclusive` group: each member that the manifest
/// places nowhere leaves for the evict target. (A member the manifest
/// places in another group is an ordinary move already.) The inventory
/// holds exactly the types and regions the manifest covers, read whole
/// (`inventory::ReadScope::Complete`).
pub(super) fn evictions(
    manifest: &Manifest,
    groups: &[Group],
    resources: &Resources,
    targets: &[&Group],
    claims: &[Claim],
    group_refs: &mut GroupRefs,
) -> Result<Vec<Change>, PlanError> {
    let exclusive: HashMap<&str, (&Location, &Group)> = manifest
        .groups
        .iter()
        .zip(targets)
        .filter(|(spec, _)| spec.exclusive)
        .map(|(spec, target)| (&*target.id, (&spec.location, *target)))
        .collect();
    let Some(first) = manifest.groups.iter().find(|g| g.exclusive) else {
        return Ok(Vec::new());
    };
    let to = group_refs.of(evict_target(manifest, groups, targets, &first.location)?);
    let mut evictions = Vec::new();
    for (at, resource) in resources.values().enumerate() {
        let Some((location, group)) = exclusive.get(&*resource.group_id) else {
            continue;
        };
        if is_claimed(claims, at) {
            continue;
        }
        evictions.push(Change {
            resource: resource.key.clone(),
            name: resource.name.clone(),
            from: group_refs.of(group),
            to: to.clone(),
            source: (*location).clone(),
            evict: true,
            conflict: None,
            account_id: None,
        });
    }
    Ok(evictions)
}
