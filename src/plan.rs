//! The planner: a pure diff of what the manifest wants against what the
//! inventory saw, giving a [`Plan`]. No I/O here; the clock's reading is
//! passed in, so the same inputs always give the same plan.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::manifest::{Location, Manifest, MaxChanges};
use crate::resource::{self, Group, Inventory, ResourceKey, ResourceType};

/// The version of the plan's JSON form. A change that could make an older
/// regroup misread a plan raises it.
pub const FORMAT_VERSION: u32 = 1;

/// Saved plans larger than this are refused before parsing. A plan of
/// 100,000 changes from the benchmark's fleet (short ids and names) is
/// 45.7 MB, 457 bytes a change (measured: `plan -o` of 100,000 by-id moves);
/// this leaves room for real ids, 128-character names and long paths, about
/// 1,300 bytes a change at 100,000 changes, and no more.
pub const MAX_PLAN_BYTES: u64 = 128 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: u32,
    pub manifest: ManifestInfo,
    pub created_at: DateTime<Utc>,
    pub changes: Vec<Change>,
    /// How many of `changes` are evictions from `exclusive` groups.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub evictions: usize,
    pub unchanged: usize,
    pub missing: Vec<Missing>,
    pub warnings: Vec<String>,
    /// Every group that the plan touches, with how many of the resources the
    /// manifest manages stay in it.
    pub groups: Vec<GroupSummary>,
    /// An undo plan, written by `apply --undo-plan`: it moves resources
    /// back to where an apply found them, which the manifest does not ask
    /// for, so it is applied as saved, change by change behind the stale
    /// guard.
    #[serde(default, skip_serializing_if = "is_false")]
    pub undo: bool,
    /// For an undo plan: the report of the apply it undoes. The plan's
    /// checksum proves it intact, not that an apply made it, so an undo plan
    /// is applied only if that report, unchanged, says each of its moves
    /// happened (or may have), from where the undo plan puts it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<ReportRef>,
    /// sha256 of the plan's JSON with this field empty. A saved plan is
    /// what was reviewed; one edited afterwards no longer matches it and is
    /// refused before any call.
    pub checksum: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestInfo {
    pub file: String,
    pub sha256: String,
}

/// The report an undo plan was made from: where it was written (an
/// absolute path) and the sha256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRef {
    pub file: String,
    pub sha256: String,
}

/// A resource group, by id and name, shared with the inventory's group:
/// a plan of 100,000 changes names a handful of groups.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRef {
    pub id: Arc<str>,
    pub name: Arc<str>,
}

impl GroupRef {
    fn of(group: &Group) -> GroupRef {
        GroupRef {
            id: group.id.clone(),
            name: group.name.clone(),
        }
    }

    /// Whether a resource read back with `reported` as its
    /// `ResourceGroupId` is in this group, an empty id standing for the
    /// default group: for the stale-plan guard and verification, which read
    /// resources without the groups.
    pub fn holds(&self, reported: &str) -> bool {
        resource::reported_in(reported, &self.id, &self.name)
    }
}

/// One move: `resource` from `from` (where it was when planned) to `to`,
/// asked for at `source` in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub resource: ResourceKey,
    pub name: Arc<str>,
    pub from: GroupRef,
    pub to: GroupRef,
    pub source: Location,
    /// An eviction: the resource is in an `exclusive` group that the
    /// manifest does not place it in, and leaves for `evict_to`; `source`
    /// is the group's key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub evict: bool,
    /// The automatic-transfer rule that would move the resource back out
    /// of `to`: apply leaves such a change alone unless told to override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<RuleRef>,
}

/// A Resource Manager auto-grouping rule, as `ListAutoGroupingRules` names
/// it (`RuleId`, `RuleName`; docs/sources/resourcemanager-rules.md §1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRef {
    pub id: String,
    pub name: String,
}

impl std::fmt::Display for RuleRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "auto-grouping rule \"{}\" ({})", self.name, self.id)
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &usize) -> bool {
    *value == 0
}

/// An explicit entry the account does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Missing {
    #[serde(rename = "type")]
    pub rtype: ResourceType,
    pub id: String,
    pub regions: Vec<String>,
    pub source: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSummary {
    pub group: GroupRef,
    pub unchanged: usize,
}

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
fn resolve_group<'a>(
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
enum Claim<'m> {
    Explicit(&'m Location),
    Rule(&'m Location),
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

    let mut claims: BTreeMap<&ResourceKey, (usize, Claim)> = BTreeMap::new();
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
                    claims.insert(key, (index, Claim::Explicit(&entry.location)));
                    found = true;
                }
            }
            if !found {
                missing.push(Missing {
                    rtype: entry.rtype,
                    id: entry.id.clone(),
                    regions: entry.regions.to_vec(),
                    source: entry.location.clone(),
                });
            }
        }
    }
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
    for resource in inventory.resources.values() {
        for (index, spec) in manifest.groups.iter().enumerate() {
            for (rule, in_group) in spec.rules.iter().zip(&rule_sources[index]) {
                let in_group_holds = in_group.is_none_or(|id| id == &*resource.group_id);
                if !(in_group_holds && rule.matches(resource)) {
                    continue;
                }
                *rule_hits.entry(&rule.location).or_default() += 1;
                match claims.get(&resource.key) {
                    Some((_, Claim::Explicit(_))) => {}
                    Some((other, Claim::Rule(first))) if *other != index => {
                        return Err(PlanError::Conflict(Box::new(Conflict {
                            resource: resource.key.clone(),
                            first: (*first).clone(),
                            first_group: manifest.groups[*other].key.clone(),
                            second: rule.location.clone(),
                            second_group: spec.key.clone(),
                        })));
                    }
                    Some(_) => {}
                    None => {
                        claims.insert(&resource.key, (index, Claim::Rule(&rule.location)));
                    }
                }
            }
        }
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
        .filter(|(key, (index, _))| inventory.resources[**key].group_id != targets[*index].id)
        .count();
    let mut changes = Vec::with_capacity(moves);
    let mut unchanged_per_group: BTreeMap<GroupRef, usize> = BTreeMap::new();
    for (key, (index, claim)) in &claims {
        let resource = &inventory.resources[*key];
        let target = targets[*index];
        if resource.group_id == target.id {
            *unchanged_per_group.entry(GroupRef::of(target)).or_default() += 1;
            continue;
        }
        let from = groups_by_id
            .get(&*resource.group_id)
            .map(|g| GroupRef::of(g))
            .unwrap_or_else(|| GroupRef {
                id: resource.group_id.clone(),
                name: resource.group_id.clone(),
            });
        let source = match claim {
            Claim::Explicit(location) | Claim::Rule(location) => (*location).clone(),
        };
        changes.push(Change {
            resource: (*key).clone(),
            name: resource.name.clone(),
            from,
            to: GroupRef::of(target),
            source,
            evict: false,
            conflict: None,
        });
    }
    let evictions = evictions(manifest, inventory, &targets, &claims)?;
    let eviction_count = evictions.len();
    changes.extend(evictions);
    changes.sort_by(|a, b| a.resource.cmp(&b.resource));
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
        changes,
        evictions: eviction_count,
        unchanged,
        missing,
        warnings,
        groups: unchanged_per_group
            .into_iter()
            .map(|(group, unchanged)| GroupSummary { group, unchanged })
            .collect(),
        undo: false,
        undoes: None,
        checksum: String::new(),
    }
    .seal())
}

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
fn evictions(
    manifest: &Manifest,
    inventory: &Inventory,
    targets: &[&Group],
    claims: &BTreeMap<&ResourceKey, (usize, Claim)>,
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
    let to = evict_target(manifest, &inventory.groups, targets, &first.location)?;
    let mut evictions = Vec::new();
    for resource in inventory.resources.values() {
        let Some((location, group)) = exclusive.get(&*resource.group_id) else {
            continue;
        };
        if claims.contains_key(&resource.key) {
            continue;
        }
        evictions.push(Change {
            resource: resource.key.clone(),
            name: resource.name.clone(),
            from: GroupRef::of(group),
            to: GroupRef::of(to),
            source: (*location).clone(),
            evict: true,
            conflict: None,
        });
    }
    Ok(evictions)
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Refuses a plan that moves more than `max` allows; `manifest` names
    /// the manifest that set the limit (`None`: `--max-changes` did).
    pub fn check_max_changes(
        &self,
        max: MaxChanges,
        manifest: Option<&str>,
    ) -> Result<(), TooManyChanges> {
        let managed = self.changes.len() + self.unchanged;
        let limit = max.limit(managed);
        if self.changes.len() <= limit {
            return Ok(());
        }
        Err(TooManyChanges {
            count: self.changes.len(),
            limit,
            max,
            managed,
            manifest: manifest.map(str::to_owned),
        })
    }

    /// The checksum the plan should carry: the sha256 of its JSON with the
    /// checksum field empty. The JSON streams into the hash, so a plan of
    /// 100,000 changes is neither copied nor written out whole to memory.
    fn compute_checksum(&mut self) -> String {
        struct Hashing(Sha256);
        impl std::io::Write for Hashing {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.update(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let kept = std::mem::take(&mut self.checksum);
        let mut hashing = Hashing(Sha256::new());
        serde_json::to_writer(&mut hashing, &*self).expect("a plan always serializes");
        self.checksum = kept;
        format!("{:x}", hashing.0.finalize())
    }

    /// The undo plan of `moved`, changes of this plan that were (or may
    /// have been) made: each resource back to the group it was in, from the
    /// group it was moved to, in the same format (and with the same
    /// manifest) as this plan, bound to the report `undoes` that records
    /// them.
    pub fn undo<'a>(
        &self,
        moved: impl Iterator<Item = &'a Change>,
        undoes: ReportRef,
        now: DateTime<Utc>,
    ) -> Plan {
        let changes: Vec<Change> = moved
            .map(|change| Change {
                from: change.to.clone(),
                to: change.from.clone(),
                evict: false,
                conflict: None,
                ..change.clone()
            })
            .collect();
        let groups: std::collections::BTreeSet<&GroupRef> =
            changes.iter().flat_map(|c| [&c.from, &c.to]).collect();
        let groups = groups
            .into_iter()
            .map(|group| GroupSummary {
                group: group.clone(),
                unchanged: 0,
            })
            .collect();
        Plan {
            format_version: FORMAT_VERSION,
            manifest: self.manifest.clone(),
            created_at: now,
            changes,
            evictions: 0,
            unchanged: 0,
            missing: Vec::new(),
            warnings: vec![format!(
                "this plan undoes an apply of {}: it moves resources back to where that apply found them",
                self.manifest.file
            )],
            groups,
            undo: true,
            undoes: Some(undoes),
            checksum: String::new(),
        }
        .seal()
    }

    /// Sets the checksum; the planner does this last.
    pub fn seal(mut self) -> Plan {
        self.checksum = self.compute_checksum();
        self
    }

    /// Reads a saved plan, refusing another format version, a file that is
    /// not a plan, and a plan changed since it was made.
    pub fn from_json(bytes: &[u8]) -> Result<Plan, PlanFileError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| PlanFileError::NotAPlan(e.to_string()))?;
        match value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(version) if version == u64::from(FORMAT_VERSION) => {}
            Some(version) => return Err(PlanFileError::Version(version)),
            None => return Err(PlanFileError::NotAPlan("no format_version".into())),
        }
        let mut plan: Plan =
            serde_json::from_value(value).map_err(|e| PlanFileError::NotAPlan(e.to_string()))?;
        let expected = plan.compute_checksum();
        if plan.checksum != expected {
            return Err(PlanFileError::Changed);
        }
        Ok(plan)
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

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("not a valid regroup plan: {0}")]
    NotAPlan(String),
    #[error("plan format version {0} is not supported; this regroup reads version {FORMAT_VERSION} (plan again with this version)")]
    Version(u64),
    #[error("the plan was changed after it was made (its checksum does not match); plan again instead of editing a plan")]
    Changed,
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
