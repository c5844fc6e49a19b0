//! The planner: a pure diff of what the manifest wants against what the
//! inventory saw, giving a [`Plan`]. No I/O here; the clock's reading is
//! passed in, so the same inputs always give the same plan. Here the plan's
//! types; one file per idea beside them:
//!
//! | file | its one job |
//! | --- | --- |
//! | `diff` | the diff (`plan_once`) and the check that a plan settles |
//! | `evict` | an `exclusive` group's evictions and where they go |
//! | `file` | the plan file: format version, size ceiling, checksum seal, reading back, the undo plan bound to its report |
//! | `rules` | the moves an auto-grouping rule would undo, marked |
//! | `guards` | `max_changes`, and a saved plan checked against a fresh one |
//! | `accounts` | a plan over several accounts, combined from each account's (one at a time) and split back |
//! | `spill` | the changes of a plan over many accounts kept in a file as they are planned, and the plan written with them read back |
//! | `merge` | the plans of a fleet's shards combined into one, for review |

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::manifest::Location;
use crate::resource::{self, Group, ResourceKey, ResourceType};

/// Serialized through `file::PlanJson`, which names the fields in the
/// file's order (the checksum is the hash of that order), so that a plan
/// whose changes wait in a file is written as the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: u32,
    pub manifest: ManifestInfo,
    pub created_at: DateTime<Utc>,
    /// A plan over several accounts (a manifest with `accounts:`): each
    /// account planned, and its error when it could not be.
    #[serde(default)]
    pub accounts: Vec<AccountStatus>,
    pub changes: Vec<Change>,
    /// How many of `changes` are evictions from `exclusive` groups.
    #[serde(default)]
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
    #[serde(default)]
    pub undo: bool,
    /// For an undo plan: the report of the apply it undoes. The plan's
    /// checksum proves it intact, not that an apply made it, so an undo plan
    /// is applied only if that report, unchanged, says each of its moves
    /// happened (or may have), from where the undo plan puts it back.
    #[serde(default)]
    pub undoes: Option<ReportRef>,
    /// For a plan made by `regroup merge`: the shards' plans it combines.
    /// It is for review; `apply` refuses it (see `merge`).
    #[serde(default)]
    pub merged_from: Vec<MergedInput>,
    /// sha256 of the plan's JSON with this field empty. A saved plan is
    /// what was reviewed; one edited afterwards no longer matches it and is
    /// refused before any call. Set as the plan is written, not when it is
    /// made (`Plan::write_json`), which is why it stays the last field.
    pub checksum: String,
}

/// One account of a plan over several: its id, its name in the directory,
/// and why it has no changes when it could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountStatus {
    pub account_id: Arc<String>,
    pub name: String,
    /// The RAM role assumed in the account, so that a saved plan is
    /// applied through it without its manifest. Absent in a plan saved
    /// before it was recorded: the manifest's role, or the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The account a change, a missing entry or a group belongs to, in a plan
/// over several; `None` (and absent from the JSON) in a plan of one. An
/// `Arc<String>`, a thin pointer, so that it costs a change of a
/// million-change plan 8 bytes, shared by the account's changes.
pub type AccountId = Option<Arc<String>>;

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

/// A resource group, by id and name, as a plan names it: one shared
/// handle (a thin pointer, 8 bytes) to the group's id and name, which are
/// themselves shared with the inventory's group. A plan of 1,000,000
/// changes names a handful of groups, so each change's `from` and `to`
/// point to one of a handful of [`GroupNames`] (see [`GroupRefs`]) instead
/// of holding four `Arc<str>` (64 bytes). Serialized as the names
/// themselves (serde's `rc` feature), so the JSON is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupRef(Arc<GroupNames>);

/// What a [`GroupRef`] points to: read through it (`group.id`).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupNames {
    pub id: Arc<str>,
    pub name: Arc<str>,
}

impl std::ops::Deref for GroupRef {
    type Target = GroupNames;

    fn deref(&self) -> &GroupNames {
        &self.0
    }
}

impl GroupRef {
    pub fn new(id: impl Into<Arc<str>>, name: impl Into<Arc<str>>) -> GroupRef {
        GroupRef(Arc::new(GroupNames {
            id: id.into(),
            name: name.into(),
        }))
    }

    /// Whether a resource read back with `reported` as its
    /// `ResourceGroupId` is in this group, an empty id standing for the
    /// default group: for the stale-plan guard and verification, which read
    /// resources without the groups.
    pub fn holds(&self, reported: &str) -> bool {
        resource::reported_in(reported, &self.id, &self.name)
    }
}

/// The handles of the groups one plan names, one per group id, so that
/// every change naming a group shares its handle.
#[derive(Default)]
struct GroupRefs(std::collections::HashMap<Arc<str>, GroupRef>);

impl GroupRefs {
    /// The handle of the inventory's `group`.
    fn of(&mut self, group: &Group) -> GroupRef {
        self.named(&group.id, &group.name)
    }

    /// The handle of the group `id` called `name`, made on first use.
    fn named(&mut self, id: &Arc<str>, name: &Arc<str>) -> GroupRef {
        self.0
            .entry(id.clone())
            .or_insert_with(|| GroupRef::new(id.clone(), name.clone()))
            .clone()
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
    /// Boxed: few changes have one, and a plan holds a million changes
    /// (the box is 8 bytes of each, the rule inline 48). The JSON is the
    /// same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Box<RuleRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: AccountId,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: AccountId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSummary {
    pub group: GroupRef,
    pub unchanged: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: AccountId,
}

/// What a plan counts: its changes (of which evictions, and moves an
/// auto-grouping rule would undo) and what stays. Kept apart from the
/// changes themselves for a plan over many accounts that is written as it
/// is planned, whose changes are not held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub changes: usize,
    pub evictions: usize,
    pub conflicts: usize,
    pub unchanged: usize,
}

impl From<&Plan> for Totals {
    fn from(plan: &Plan) -> Totals {
        plan.totals()
    }
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, other: Totals) {
        self.changes += other.changes;
        self.evictions += other.evictions;
        self.conflicts += other.conflicts;
        self.unchanged += other.unchanged;
    }
}

impl Totals {
    pub fn has_changes(&self) -> bool {
        self.changes > 0
    }
}

/// The warning of a plan that manages no resource at all: about the whole
/// plan, so a merge of shards says it again only if the merge manages none.
pub const MANAGES_NOTHING: &str = "this plan manages 0 resources: nothing the manifest names or selects was found in the regions read; check the rules' tags and names, the ids, and --region";

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// What the plan counts, for its summary and its guards.
    pub fn totals(&self) -> Totals {
        Totals {
            changes: self.changes.len(),
            evictions: self.evictions,
            conflicts: self.changes.iter().filter(|c| c.conflict.is_some()).count(),
            unchanged: self.unchanged,
        }
    }

    /// The accounts that could not be planned.
    pub fn failed_accounts(&self) -> impl Iterator<Item = &AccountStatus> {
        self.accounts.iter().filter(|a| a.error.is_some())
    }
}

mod accounts;
mod diff;
mod evict;
mod file;
mod guards;
mod merge;
mod rules;
mod spill;

pub use crate::resource::auto_grouping::RuleRef;
#[cfg(test)]
pub use accounts::samples::{sample_change, sample_plan, sample_status};
pub use accounts::{AccountPlan, Combining};
#[cfg(test)]
pub use diff::plan;
pub use diff::{find_group, plan_marked, PlanError, PlanOptions};
pub use file::{FORMAT_VERSION, MAX_PLAN_BYTES};
pub use guards::{recheck, UnaskedChanges};
pub use merge::{merge, MergedInput, ShardPlan};
pub use spill::Spill;

// What the unit tests name beside the public face.
#[cfg(test)]
use {
    crate::manifest::{Manifest, MaxChanges},
    crate::resource::Inventory,
    guards::check_saved_against,
};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
