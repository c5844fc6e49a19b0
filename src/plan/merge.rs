//! `regroup merge`: the plans of a fleet's shards, each planned by its own
//! CI job, combined into one plan for review: one pull-request comment, one
//! JSON document. Pure: the caller reads and verifies each input.
//!
//! A merged plan is sealed (its checksum proves it intact, so `show` and a
//! second `merge` read it) but marked with the plans it was made from, and
//! `apply` refuses it: a saved plan is applied against a fresh plan of the
//! accounts the applying job can reach, and each shard's job reaches its
//! own; applied shard by shard, one account's failure stays in its shard's
//! report, as it was planned.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{AccountId, AccountStatus, GroupRef, GroupSummary, Plan, MANAGES_NOTHING};
use crate::resource::ResourceKey;

/// One plan that a merged plan was made from: its file, as named to
/// `merge`, and its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergedInput {
    pub file: String,
    pub checksum: String,
}

/// A plan to merge, read and verified, and the file it was read from.
#[derive(Debug)]
pub struct ShardPlan {
    pub file: String,
    pub plan: Plan,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("no plans to merge")]
    Empty,
    #[error("{0} is an undo plan: it is applied on its own, against the report of the apply it undoes, and is not merged")]
    Undo(String),
    /// `manifests` names each file's manifest and its sha256.
    #[error("{first} and {second} were planned from different manifests ({manifests}): merge the shards of one manifest")]
    Manifests {
        first: String,
        second: String,
        manifests: String,
    },
    #[error("{0} is named twice")]
    Twice(String),
    #[error("account {account} is in both {first} and {second}: the shards overlap (plan each shard once, with its own --shard I/N)")]
    Account {
        account: String,
        first: String,
        second: String,
    },
    #[error("{resource} is planned in both {first} and {second}: the shards overlap (plan each shard once, with its own --shard I/N)")]
    Overlap {
        resource: String,
        first: String,
        second: String,
    },
    #[error("{file} cannot be applied: it merges {} plans ({}) for review; apply each shard's own plan in its job instead, e.g. regroup apply {}", .inputs.len(), .inputs.join(", "), .inputs.first().map_or("PLANFILE", String::as_str))]
    NotApplicable { file: String, inputs: Vec<String> },
}

impl Plan {
    /// Whether `regroup merge` made this plan.
    pub fn is_merged(&self) -> bool {
        !self.merged_from.is_empty()
    }

    /// Refuses a merged plan, read from `file`, for apply.
    pub fn check_not_merged(&self, file: &str) -> Result<(), MergeError> {
        if self.is_merged() {
            return Err(MergeError::NotApplicable {
                file: file.to_owned(),
                inputs: self.merged_from.iter().map(|i| i.file.clone()).collect(),
            });
        }
        Ok(())
    }
}

/// The shards' plans as one: their accounts in the order of their ids;
/// their changes and missing entries one after the other, account by
/// account (a plan of one account, which names none, in the order the files
/// are given); each group once (its unchanged members summed) in a plan's
/// order; each warning once (that the plan manages nothing only if the
/// merge manages nothing: a shard may hold no account; and none of a shard
/// that holds no account beside shards that do); the counts summed;
/// made when the earliest of them was. The order does not depend on the
/// order of the files when the plans name their accounts. Refuses a file named twice, an undo plan,
/// plans of different manifests and shards that overlap (an account or a
/// resource in two of them).
pub fn merge(shards: Vec<ShardPlan>) -> Result<Plan, MergeError> {
    let first = shards.first().ok_or(MergeError::Empty)?;
    check_one_manifest(first, &shards)?;
    check_no_overlap(&shards)?;
    let earliest = shards
        .iter()
        .map(|s| s.plan.created_at)
        .min()
        .unwrap_or(first.plan.created_at);
    let mut merged = Plan {
        manifest: first.plan.manifest.clone(),
        created_at: earliest,
        ..Plan::empty()
    };
    let mut warned = HashSet::from([MANAGES_NOTHING.to_owned()]);
    // A shard that holds no member account warns of that, which is no
    // longer true of a merge with shards that do; the manifest's own
    // warnings come with those shards too.
    let some_shard_has_accounts = shards.iter().any(|s| !s.plan.accounts.is_empty());
    let mut unchanged_per_group: BTreeMap<(AccountId, GroupRef), usize> = BTreeMap::new();
    for ShardPlan { file, plan } in shards {
        // Every field named, none with `..`: a field added to `Plan` does
        // not compile here until it is merged.
        let Plan {
            format_version: _,
            manifest: _,
            created_at: _,
            accounts,
            changes,
            evictions,
            unchanged,
            missing,
            warnings,
            groups,
            undo,
            undoes: _,
            merged_from,
            checksum,
        } = plan;
        if undo {
            return Err(MergeError::Undo(file));
        }
        let holds_no_account = some_shard_has_accounts && accounts.is_empty();
        merged.accounts.extend(accounts);
        merged.changes.extend(changes);
        merged.evictions += evictions;
        merged.unchanged += unchanged;
        merged.missing.extend(missing);
        // Every field named: a field added to a group's summary must say
        // here whether it tells groups apart, as the account does.
        for GroupSummary {
            group,
            unchanged,
            account_id,
        } in groups
        {
            *unchanged_per_group.entry((account_id, group)).or_default() += unchanged;
        }
        for warning in warnings {
            if !holds_no_account && warned.insert(warning.clone()) {
                merged.warnings.push(warning);
            }
        }
        // A merge of merges names the shards' plans, not the merges between.
        if merged_from.is_empty() {
            merged.merged_from.push(MergedInput { file, checksum });
        } else {
            merged.merged_from.extend(merged_from);
        }
    }
    merged.groups = unchanged_per_group
        .into_iter()
        .map(|((account_id, group), unchanged)| GroupSummary {
            group,
            unchanged,
            account_id,
        })
        .collect();
    if merged.changes.is_empty() && merged.unchanged == 0 {
        merged.warnings.push(MANAGES_NOTHING.to_owned());
    }
    // Stable sorts: within an account, each shard's own order stays.
    merged
        .accounts
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    merged
        .changes
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    merged
        .missing
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    Ok(merged)
}

/// Every shard planned from the same manifest, by its sha256.
fn check_one_manifest(first: &ShardPlan, shards: &[ShardPlan]) -> Result<(), MergeError> {
    match shards
        .iter()
        .find(|s| s.plan.manifest.sha256 != first.plan.manifest.sha256)
    {
        Some(other) => {
            let named = |plan: &Plan| {
                let sha = &plan.manifest.sha256;
                format!(
                    "{} with sha256 {}…",
                    plan.manifest.file,
                    sha.get(..12).unwrap_or(sha)
                )
            };
            Err(MergeError::Manifests {
                first: first.file.clone(),
                second: other.file.clone(),
                manifests: format!("{}, {}", named(&first.plan), named(&other.plan)),
            })
        }
        None => Ok(()),
    }
}

/// No file named twice, no account in two shards, and no resource
/// changed in two shards (plans of one account name no account).
fn check_no_overlap(shards: &[ShardPlan]) -> Result<(), MergeError> {
    let mut files = HashSet::new();
    if let Some(twice) = shards.iter().find(|s| !files.insert(&s.file)) {
        return Err(MergeError::Twice(twice.file.clone()));
    }
    let mut accounts: HashMap<&str, &str> = HashMap::new();
    for shard in shards {
        for AccountStatus { account_id, .. } in &shard.plan.accounts {
            if let Some(first) = accounts.insert(account_id, &shard.file) {
                return Err(MergeError::Account {
                    account: account_id.to_string(),
                    first: first.to_owned(),
                    second: shard.file.clone(),
                });
            }
        }
    }
    let mut seen: HashMap<(&AccountId, &ResourceKey), &str> = HashMap::new();
    for shard in shards {
        for change in &shard.plan.changes {
            if let Some(first) = seen.insert((&change.account_id, &change.resource), &shard.file) {
                return Err(MergeError::Overlap {
                    resource: change.resource.to_string(),
                    first: first.to_owned(),
                    second: shard.file.clone(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
