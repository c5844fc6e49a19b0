//! The diff: what the manifest wants against what the inventory saw, one
//! pass ([`plan_once`]) and the check that a plan settles ([`plan`]).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::evict::evictions;
use super::{
    Change, GroupRef, GroupRefs, GroupSummary, ManifestInfo, Missing, Plan, FORMAT_VERSION,
};
use crate::manifest::{Location, Manifest};
use crate::resource::{self, Group, Inventory, ResourceKey};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{location}: {message}")]
    UnknownGroup { location: Location, message: String },
    #[error("{location}: resource group `{name}` ({id}) is `{status}`, not `OK`: resources cannot join a group that is being created or deleted\n  hint: wait until Resource Manager shows it `OK`, or choose another group")]
    GroupNotReady {
        location: Location,
        name: String,
        id: String,
        status: String,
    },
    #[error(transparent)]
    Conflict(Box<Conflict>),
    #[error("{} resource(s) named in the manifest do not exist:\n{}\n  hint: fix the ids, or pass --ignore-missing to plan without them", .0.len(), .0.iter().map(|m| format!("  {}: {}/{} in {}", m.source, m.rtype, m.id, m.regions.join(", "))).collect::<Vec<_>>().join("\n"))]
    Missing(Vec<Missing>),
    #[error(transparent)]
    Unsettled(Box<Unsettled>),
    /// An `exclusive` group's evictions cannot be planned as asked.
    #[error("{location}: {message}")]
    Eviction { location: Location, message: String },
}

/// Rules of two groups that both match one resource.
#[derive(Debug, thiserror::Error)]
#[error("{resource} is matched by rules of two groups:\n  {first}: group `{first_group}`\n  {second}: group `{second_group}`\n  hint: narrow one of the rules, or name the resource explicitly in the group it belongs to")]
pub struct Conflict {
    pub resource: ResourceKey,
    pub first: Location,
    pub first_group: String,
    pub second: Location,
    pub second_group: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    pub ignore_missing: bool,
}

/// Finds the account's group that `key` names: a group id, or exactly one
/// group's name. The error says which names come closest, or which ids share
/// the name.
pub fn find_group<'a>(key: &str, groups: &'a [Group]) -> Result<&'a Group, String> {
    if let Some(group) = groups.iter().find(|g| &*g.id == key) {
        return Ok(group);
    }
    let named: Vec<&Group> = groups.iter().filter(|g| &*g.name == key).collect();
    match named.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut closest: Vec<(usize, &str)> = groups
                .iter()
                .map(|g| (strsim::levenshtein(key, &g.name), &*g.name))
                .collect();
            closest.sort();
            let names: Vec<&str> = closest.iter().take(3).map(|(_, n)| *n).collect();
            let suggestion = if names.is_empty() {
                String::new()
            } else {
                format!("; closest names: {}", names.join(", "))
            };
            Err(format!(
                "no resource group has the id or name `{key}`{suggestion}"
            ))
        }
        several => Err(format!(
            "{} resource groups are named `{key}` ({}); use the id instead",
            several.len(),
            several
                .iter()
                .map(|g| &*g.id)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// [`find_group`] for a key of the manifest, whose error says where it is.
pub(super) fn resolve_group<'a>(
    key: &str,
    groups: &'a [Group],
    location: &Location,
) -> Result<&'a Group, PlanError> {
    find_group(key, groups).map_err(|message| PlanError::UnknownGroup {
        location: location.clone(),
        message,
    })
}

/// Why a resource is assigned to a group.
#[derive(Clone, Copy)]
pub(super) enum Claim<'m> {
    Explicit(&'m Location),
    Rule(&'m Location),
}

/// Each claimed resource with the index of its manifest group and why,
/// sorted by key, one claim a key.
pub(super) type Claims<'i, 'm> = Vec<(&'i ResourceKey, (usize, Claim<'m>))>;

/// The claim on `key` in `claims` (sorted by key), if any.
pub(super) fn find_claim<'c, 'm>(
    claims: &'c [(&ResourceKey, (usize, Claim<'m>))],
    key: &ResourceKey,
) -> Option<&'c (usize, Claim<'m>)> {
    claims
        .binary_search_by(|(claimed, _)| (*claimed).cmp(key))
        .ok()
        .map(|at| &claims[at].1)
}

/// Diffs `manifest` against `inventory`.
pub fn plan(
    manifest: &Manifest,
    inventory: &Inventory,
    options: PlanOptions,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    let plan = plan_once(manifest, inventory, options, now)?;
    // Rules with `in_group` select by where a resource is, which the plan
    // itself changes: check that after it nothing would move again, so that
    // apply converges instead of moving resources down a chain of groups.
    let selects_by_group = manifest
        .groups
        .iter()
        .any(|g| g.rules.iter().any(|r| r.in_group.is_some()));
    if plan.has_changes() && selects_by_group {
        let mut after = inventory.clone();
        for change in &plan.changes {
            if let Some(resource) = after.resources.get_mut(&change.resource) {
                resource.group_id = change.to.id.clone();
            }
        }
        let moved_to = |key: &ResourceKey| {
            plan.changes
                .iter()
                .find(|c| &c.resource == key)
                .map(|c| c.to.name.to_string())
                .unwrap_or_default()
        };
        match plan_once(manifest, &after, options, now) {
            Ok(next) => {
                if let Some(change) = next.changes.first() {
                    return Err(PlanError::Unsettled(Box::new(Unsettled {
                        resource: change.resource.clone(),
                        first_to: moved_to(&change.resource),
                        then: format!(
                            "the rule at {} would move it on to `{}`",
                            change.source, change.to.name
                        ),
                    })));
                }
            }
            Err(PlanError::Conflict(conflict)) => {
                return Err(PlanError::Unsettled(Box::new(Unsettled {
                    first_to: moved_to(&conflict.resource),
                    then: format!(
                        "the rules at {} (group `{}`) and {} (group `{}`) would both claim it",
                        conflict.first,
                        conflict.first_group,
                        conflict.second,
                        conflict.second_group
                    ),
                    resource: conflict.resource,
                })));
            }
            Err(other) => return Err(other),
        }
    }
    Ok(plan)
}

/// A plan that would not settle: applying it makes the manifest ask for
/// more moves.
#[derive(Debug, thiserror::Error)]
#[error("the manifest does not settle: this plan moves {resource} to `{first_to}`, and then {then}\n  hint: an `in_group` rule selects from a group that the manifest also fills; narrow the rules so that a resource, once moved, is not selected again")]
pub struct Unsettled {
    pub resource: ResourceKey,
    pub first_to: String,
    pub then: String,
}

/// One pass of the diff.
fn plan_once(
    manifest: &Manifest,
    inventory: &Inventory,
    options: PlanOptions,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    let groups_by_id: HashMap<&str, &Group> =
        inventory.groups.iter().map(|g| (&*g.id, g)).collect();

    // Each manifest group's target, and each rule's `in_group`, resolved once.
    let mut targets = Vec::with_capacity(manifest.groups.len());
    let mut rule_sources: Vec<Vec<Option<&str>>> = Vec::with_capacity(manifest.groups.len());
    for spec in &manifest.groups {
        let target = resolve_group(&spec.key, &inventory.groups, &spec.location)?;
        if target.status != resource::GROUP_READY {
            return Err(PlanError::GroupNotReady {
                location: spec.location.clone(),
                name: target.name.to_string(),
                id: target.id.to_string(),
                status: target.status.clone(),
            });
        }
        targets.push(target);
        let mut in_groups = Vec::with_capacity(spec.rules.len());
        for rule in &spec.rules {
            in_groups.push(match &rule.in_group {
                Some(key) => Some(&*resolve_group(key, &inventory.groups, &rule.location)?.id),
                None => None,
            });
        }
        rule_sources.push(in_groups);
    }

    // Who claims each resource: a list sorted by key, not a map. Explicit
    // claims come first, then each rule claim as the inventory is walked,
    // in key order; a map grown by insertion would leave its nodes about
    // half-empty, twice the list's 32 bytes a claim (64 MB at 1,000,000).
    let mut claims: Claims = Vec::new();
    let mut missing = Vec::new();
    for (index, spec) in manifest.groups.iter().enumerate() {
        for entry in &spec.resources {
            let mut found = false;
            for region in entry.regions.iter() {
                let key = ResourceKey {
                    rtype: entry.rtype,
                    region: region.as_str().into(),
                    id: entry.id.as_str().into(),
                };
                if let Some((key, _)) = inventory.resources.get_key_value(&key) {
                    claims.push((key, (index, Claim::Explicit(&entry.location))));
                    found = true;
                }
            }
            if !found {
                missing.push(Missing {
                    rtype: entry.rtype,
                    id: entry.id.clone(),
                    regions: entry.regions.to_vec(),
                    source: entry.location.clone(),
                    account_id: None,
                });
            }
        }
    }
    // Stable, and the last of a key kept: a later entry wins, as it would
    // inserted into a map.
    claims.sort_by(|a, b| a.0.cmp(b.0));
    claims.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            *earlier = *later;
        }
        same
    });
    let explicit = claims.len();
    if !missing.is_empty() && !options.ignore_missing {
        return Err(PlanError::Missing(missing));
    }

    let mut warnings: Vec<String> = missing
        .iter()
        .map(|m| {
            format!(
                "{}: {}/{} does not exist in {}; ignored",
                m.source,
                m.rtype,
                m.id,
                m.regions.join(", ")
            )
        })
        .collect();
    let mut rule_hits: HashMap<&Location, usize> = HashMap::new();
    // The explicit claims, in key order like the inventory, walked alongside.
    let mut next_explicit = 0;
    for resource in inventory.resources.values() {
        while next_explicit < explicit && *claims[next_explicit].0 < resource.key {
            next_explicit += 1;
        }
        let claimed_explicitly =
            next_explicit < explicit && *claims[next_explicit].0 == resource.key;
        // The first rule to claim this resource, for as long as it is walked.
        let mut by_rule: Option<(usize, &Location)> = None;
        for (index, spec) in manifest.groups.iter().enumerate() {
            for (rule, in_group) in spec.rules.iter().zip(&rule_sources[index]) {
                let in_group_holds = in_group.is_none_or(|id| id == &*resource.group_id);
                if !(in_group_holds && rule.matches(resource)) {
                    continue;
                }
                *rule_hits.entry(&rule.location).or_default() += 1;
                if claimed_explicitly {
                    continue;
                }
                match by_rule {
                    Some((other, first)) if other != index => {
                        return Err(PlanError::Conflict(Box::new(Conflict {
                            resource: resource.key.clone(),
                            first: first.clone(),
                            first_group: manifest.groups[other].key.clone(),
                            second: rule.location.clone(),
                            second_group: spec.key.clone(),
                        })));
                    }
                    Some(_) => {}
                    None => by_rule = Some((index, &rule.location)),
                }
            }
        }
        if let Some((index, location)) = by_rule {
            claims.push((&resource.key, (index, Claim::Rule(location))));
        }
    }
    // Two sorted runs, keys unique between them: one sorted list.
    if explicit > 0 {
        claims.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    for spec in &manifest.groups {
        for rule in &spec.rules {
            if !rule_hits.contains_key(&rule.location) {
                warnings.push(format!(
                    "{}: this select rule matches no resource",
                    rule.location
                ));
            }
        }
    }

    // Sized once: grown by doubling, the list of 100,000 changes would hold
    // up to twice the room it needs at the plan's peak.
    let moves = claims
        .iter()
        .filter(|(key, (index, _))| inventory.resources[*key].group_id != targets[*index].id)
        .count();
    let mut group_refs = GroupRefs::default();
    let evictions = evictions(manifest, inventory, &targets, &claims, &mut group_refs)?;
    let eviction_count = evictions.len();
    let mut changes = Vec::with_capacity(moves + eviction_count);
    let mut unchanged_per_group: BTreeMap<GroupRef, usize> = BTreeMap::new();
    for &(key, (index, claim)) in &claims {
        let resource = &inventory.resources[key];
        let target = targets[index];
        if resource.group_id == target.id {
            *unchanged_per_group
                .entry(group_refs.of(target))
                .or_default() += 1;
            continue;
        }
        let from = groups_by_id
            .get(&*resource.group_id)
            .map(|g| group_refs.of(g))
            .unwrap_or_else(|| group_refs.named(&resource.group_id, &resource.group_id));
        let source = match claim {
            Claim::Explicit(location) | Claim::Rule(location) => location.clone(),
        };
        changes.push(Change {
            resource: key.clone(),
            name: resource.name.clone(),
            from,
            to: group_refs.of(target),
            source,
            evict: false,
            conflict: None,
            account_id: None,
        });
    }
    changes.extend(evictions);
    // In place: a stable sort reserves room for half the changes (about
    // 100 MB at 1,000,000) and fills it when evictions fall between moves.
    // Keys are unique (an eviction is of a resource no entry claims), so
    // the order is the same. The moves come in key order and, without
    // evictions, are found sorted in one pass.
    changes.sort_unstable_by(|a, b| a.resource.cmp(&b.resource));
    for change in &changes {
        for group in [&change.from, &change.to] {
            unchanged_per_group.entry(group.clone()).or_default();
        }
    }
    let unchanged = unchanged_per_group.values().sum();
    Ok(Plan {
        format_version: FORMAT_VERSION,
        manifest: ManifestInfo {
            file: manifest.file.clone(),
            sha256: manifest.sha256.clone(),
        },
        created_at: now,
        accounts: Vec::new(),
        changes,
        evictions: eviction_count,
        unchanged,
        missing,
        warnings,
        groups: unchanged_per_group
            .into_iter()
            .map(|(group, unchanged)| GroupSummary {
                group,
                unchanged,
                account_id: None,
            })
            .collect(),
        undo: false,
        undoes: None,
        merged_from: Vec::new(),
        checksum: String::new(),
    })
}
