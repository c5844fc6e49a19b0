//! The diff: what the manifest wants against what the inventory saw, one
//! pass ([`plan_once`]) and the check that a plan settles ([`plan`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::evict::evictions;
use super::rules;
use super::{
    Change, GroupRef, GroupRefs, GroupSummary, ManifestInfo, Missing, Plan, FORMAT_VERSION,
};
use crate::manifest::{Location, Manifest};
use crate::resource::auto_grouping::Rules;
use crate::resource::{self, Group, Inventory, ResourceKey, Resources};

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

/// A claim on a resource: where it is in the inventory's list (sorted by
/// key, so claims sorted by `at` are sorted by key), the index of the
/// manifest group that claims it, and the entry or rule that does. 16
/// bytes: a plan of 1,000,000 resources holds 1,000,000 of them.
#[derive(Clone, Copy)]
pub(super) struct Claim<'m> {
    pub at: u32,
    pub group: u32,
    pub source: &'m Location,
}

/// An index of the inventory's list, or of the manifest's groups, as a
/// [`Claim`] holds it. Neither comes near 4 billion: the list would need
/// hundreds of gigabytes.
fn index(at: usize) -> u32 {
    u32::try_from(at).expect("fewer than 4 billion resources and groups")
}

/// Whether `claims` (sorted by `at`) claim the resource at `at`.
pub(super) fn is_claimed(claims: &[Claim], at: usize) -> bool {
    claims
        .binary_search_by_key(&index(at), |claim| claim.at)
        .is_ok()
}

/// Diffs `manifest` against `inventory`, as [`plan_marked`] does without
/// auto-grouping rules: for the tests, which keep their inventory.
#[cfg(test)]
pub fn plan(
    manifest: &Manifest,
    inventory: &Inventory,
    options: PlanOptions,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    plan_marked(manifest, inventory.clone(), &Rules::default(), options, now)
}

/// Diffs `manifest` against `inventory`, each move an auto-grouping rule of
/// `rules` would undo marked, and the rules' warnings said when anything
/// moves: a fresh plan from the account. The inventory is given, not
/// lent, so that it is handed back as the changes are made: at 1,000,000 resources, the inventory
/// and the changes held whole at once were most of a plan's memory. Only a
/// manifest that must be checked to settle keeps it to the end.
pub fn plan_marked(
    manifest: &Manifest,
    inventory: Inventory,
    rules: &Rules,
    options: PlanOptions,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    let Inventory { groups, resources } = inventory;
    let plan = if selects_by_group(manifest) {
        let plan = plan_once(
            manifest,
            &groups,
            Cow::Borrowed(&resources),
            Some(rules),
            options,
            now,
        )?;
        if plan.has_changes() {
            check_settles(
                manifest,
                &plan,
                Inventory { groups, resources },
                options,
                now,
            )?;
        }
        plan
    } else {
        plan_once(
            manifest,
            &groups,
            Cow::Owned(resources),
            Some(rules),
            options,
            now,
        )?
    };
    Ok(if plan.has_changes() {
        rules::note(plan, rules)
    } else {
        plan
    })
}

/// Whether a rule of the manifest selects by `in_group`: by where a
/// resource is, which the plan itself changes, so that the plan must be
/// checked to settle.
fn selects_by_group(manifest: &Manifest) -> bool {
    manifest
        .groups
        .iter()
        .any(|g| g.rules.iter().any(|r| r.in_group.is_some()))
}

/// Checks that after `plan` nothing would move again, so that apply
/// converges instead of moving resources down a chain of groups: the
/// manifest planned again over `after`, the inventory `plan` was made
/// from, moved as it says.
fn check_settles(
    manifest: &Manifest,
    plan: &Plan,
    mut after: Inventory,
    options: PlanOptions,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
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
    let again = plan_once(
        manifest,
        &after.groups,
        Cow::Borrowed(&after.resources),
        None,
        options,
        now,
    );
    match again {
        Ok(next) => match next.changes.first() {
            Some(change) => Err(PlanError::Unsettled(Box::new(Unsettled {
                resource: change.resource.clone(),
                first_to: moved_to(&change.resource),
                then: format!(
                    "the rule at {} would move it on to `{}`",
                    change.source, change.to.name
                ),
            }))),
            None => Ok(()),
        },
        Err(PlanError::Conflict(conflict)) => Err(PlanError::Unsettled(Box::new(Unsettled {
            first_to: moved_to(&conflict.resource),
            then: format!(
                "the rules at {} (group `{}`) and {} (group `{}`) would both claim it",
                conflict.first, conflict.first_group, conflict.second, conflict.second_group
            ),
            resource: conflict.resource,
        }))),
        Err(other) => Err(other),
    }
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

/// One pass of the diff, over `resources`: lent, or given, when the
/// changes are made from its end and it is handed back as they are. With
/// `rules`, each change an auto-grouping rule would undo is marked while
/// its resource is at hand.
fn plan_once(
    manifest: &Manifest,
    groups: &[Group],
    mut resources: Cow<'_, Resources>,
    rules: Option<&Rules>,
    options: PlanOptions,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    let groups_by_id: HashMap<&str, &Group> = groups.iter().map(|g| (&*g.id, g)).collect();

    // Each manifest group's target, and each rule's `in_group`, resolved once.
    let mut targets = Vec::with_capacity(manifest.groups.len());
    let mut rule_sources: Vec<Vec<Option<&str>>> = Vec::with_capacity(manifest.groups.len());
    for spec in &manifest.groups {
        let target = resolve_group(&spec.key, groups, &spec.location)?;
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
                Some(key) => Some(&*resolve_group(key, groups, &rule.location)?.id),
                None => None,
            });
        }
        rule_sources.push(in_groups);
    }

    // Who claims each resource: a list sorted by where the resource is in
    // the inventory's (so by key), not a map. Explicit claims come first,
    // then each rule claim as the inventory is walked, in key order; a map
    // grown by insertion would leave its nodes about half-empty.
    let mut claims: Vec<Claim> = Vec::new();
    let mut missing = Vec::new();
    for (group, spec) in manifest.groups.iter().enumerate() {
        for entry in &spec.resources {
            let mut found = false;
            for region in entry.regions.iter() {
                let key = ResourceKey {
                    rtype: entry.rtype,
                    region: region.as_str().into(),
                    id: entry.id.as_str().into(),
                };
                if let Some(at) = resources.position(&key) {
                    claims.push(Claim {
                        at: index(at),
                        group: index(group),
                        source: &entry.location,
                    });
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
    // Stable, and the last of a resource kept: a later entry wins, as it
    // would inserted into a map.
    claims.sort_by_key(|claim| claim.at);
    claims.dedup_by(|later, earlier| {
        let same = later.at == earlier.at;
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
    for (at, resource) in resources.values().enumerate() {
        let at = index(at);
        while next_explicit < explicit && claims[next_explicit].at < at {
            next_explicit += 1;
        }
        let claimed_explicitly = next_explicit < explicit && claims[next_explicit].at == at;
        // The first rule to claim this resource, for as long as it is walked.
        let mut by_rule: Option<(usize, &Location)> = None;
        for (group, spec) in manifest.groups.iter().enumerate() {
            for (rule, in_group) in spec.rules.iter().zip(&rule_sources[group]) {
                let in_group_holds = in_group.is_none_or(|id| id == &*resource.group_id);
                if !(in_group_holds && rule.matches(resource)) {
                    continue;
                }
                *rule_hits.entry(&rule.location).or_default() += 1;
                if claimed_explicitly {
                    continue;
                }
                match by_rule {
                    Some((other, first)) if other != group => {
                        return Err(PlanError::Conflict(Box::new(Conflict {
                            resource: resource.key.clone(),
                            first: first.clone(),
                            first_group: manifest.groups[other].key.clone(),
                            second: rule.location.clone(),
                            second_group: spec.key.clone(),
                        })));
                    }
                    Some(_) => {}
                    None => by_rule = Some((group, &rule.location)),
                }
            }
        }
        if let Some((group, source)) = by_rule {
            claims.push(Claim {
                at,
                group: index(group),
                source,
            });
        }
    }
    // Two sorted runs, resources unique between them: one sorted list.
    if explicit > 0 {
        claims.sort_unstable_by_key(|claim| claim.at);
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

    let target_of = |claim: &Claim| targets[claim.group as usize];
    // Sized once: grown by doubling, the list of 100,000 changes would hold
    // up to twice the room it needs at the plan's peak.
    let moves = claims
        .iter()
        .filter(|claim| resources.as_slice()[claim.at as usize].group_id != target_of(claim).id)
        .count();
    let mut group_refs = GroupRefs::default();
    let mut evictions = evictions(
        manifest,
        groups,
        &resources,
        &targets,
        &claims,
        &mut group_refs,
    )?;
    if let Some(rules) = rules {
        rules::mark(&mut evictions, &resources, rules);
    }
    let eviction_count = evictions.len();
    let mut changes = Vec::with_capacity(moves + eviction_count);
    let mut unchanged_per_group: BTreeMap<GroupRef, usize> = BTreeMap::new();
    // From the last claim to the first, so that a given inventory hands
    // back the room of the resources walked past as the changes fill
    // theirs; the moves come out in reverse key order.
    for claim in claims.iter().rev() {
        let at = claim.at as usize;
        let resource = &resources.as_slice()[at];
        let target = target_of(claim);
        if resource.group_id == target.id {
            *unchanged_per_group
                .entry(group_refs.of(target))
                .or_default() += 1;
        } else {
            let from = groups_by_id
                .get(&*resource.group_id)
                .map(|g| group_refs.of(g))
                .unwrap_or_else(|| group_refs.named(&resource.group_id, &resource.group_id));
            let to = group_refs.of(target);
            changes.push(Change {
                resource: resource.key.clone(),
                name: resource.name.clone(),
                conflict: rules.and_then(|rules| rules::conflict_of(rules, resource, &to)),
                from,
                to,
                source: claim.source.clone(),
                evict: false,
                account_id: None,
            });
        }
        if let Cow::Owned(list) = &mut resources {
            list.release_from(at);
        }
    }
    drop(resources);
    changes.reverse();
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
