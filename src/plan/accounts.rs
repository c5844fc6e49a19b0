//! A plan over several accounts, made of one plan per account and taken
//! apart again: [`Plan::combine`] puts each account's plan into one, every
//! change, missing entry and group marked with its account, changes ordered
//! by account then resource, one account at a time through [`Combining`]
//! (which `regroup plan` feeds as each account is planned, writing the
//! changes out rather than keeping them); [`Plan::split_accounts`] gives back each
//! account's part as a plan of one account, for the per-account steps of
//! apply (the stale guard, the check against the manifest, the joins).

use chrono::{DateTime, Utc};

use super::file::FORMAT_VERSION;
use super::{AccountId, AccountStatus, Change, GroupSummary, ManifestInfo, Missing, Plan, Totals};

/// One account's part of a plan over several: the account's plan, or why
/// there is none.
pub type AccountPlan = (AccountStatus, Result<Plan, String>);

/// What names its account in a plan over several.
trait InAccount: Clone {
    fn account_id(&mut self) -> &mut AccountId;
}

macro_rules! in_account {
    ($($item:ty),*) => {$(
        impl InAccount for $item {
            fn account_id(&mut self) -> &mut AccountId {
                &mut self.account_id
            }
        }
    )*};
}

in_account!(Change, Missing, GroupSummary);

/// `items`, each marked with the account `id`.
fn marked<T: InAccount>(items: Vec<T>, id: AccountId) -> impl Iterator<Item = T> {
    items.into_iter().map(move |mut item| {
        *item.account_id() = id.clone();
        item
    })
}

/// The items of `account`, without their account.
fn of_account<T: InAccount>(items: &[T], account: &str) -> Vec<T> {
    items
        .iter()
        .filter_map(|item| {
            let mut item = item.clone();
            let mine = item.account_id().as_deref().map(String::as_str) == Some(account);
            mine.then(|| {
                *item.account_id() = None;
                item
            })
        })
        .collect()
}

impl AccountStatus {
    /// The RAM role to assume in the account: the one the plan recorded,
    /// else `fallback` (a plan saved before the role was recorded).
    pub fn role_or<'a>(&'a self, fallback: &'a str) -> &'a str {
        self.role.as_deref().unwrap_or(fallback)
    }
}

/// A plan over several accounts combined one account at a time: all of it
/// but the changes, which each account's [`Combining::add`] hands back
/// marked with the account, and what they count.
pub struct Combining {
    head: Plan,
    totals: Totals,
}

impl Combining {
    pub fn new(manifest: ManifestInfo) -> Combining {
        Combining {
            head: Plan {
                manifest,
                ..Plan::empty()
            },
            totals: Totals::default(),
        }
    }

    /// Takes in the next account's part (in account-id order): an account
    /// that failed is listed with its error and has no changes; one planned
    /// adds its missing entries, groups and warnings (each naming its
    /// account) and its counts. Its changes are given back, marked.
    pub fn add(&mut self, (mut status, part): AccountPlan) -> Vec<Change> {
        let plan = match part {
            Ok(plan) => plan,
            Err(error) => {
                status.error = Some(error);
                self.head.accounts.push(status);
                return Vec::new();
            }
        };
        self.totals += plan.totals();
        let head = &mut self.head;
        let id = Some(status.account_id.clone());
        head.missing.extend(marked(plan.missing, id.clone()));
        head.groups.extend(marked(plan.groups, id.clone()));
        head.warnings.extend(
            plan.warnings
                .into_iter()
                .map(|warning| format!("account {}: {warning}", status.account_id)),
        );
        head.evictions += plan.evictions;
        head.unchanged += plan.unchanged;
        head.accounts.push(status);
        marked(plan.changes, id).collect()
    }

    /// The plan made `now`, without its changes, and what they count.
    pub fn finish(self, now: DateTime<Utc>) -> (Plan, Totals) {
        let head = Plan {
            created_at: now,
            ..self.head
        };
        (head, self.totals)
    }
}

impl Plan {
    /// One plan of every account's, in the order given (by account id):
    /// an account that failed is listed with its error and has no changes.
    pub fn combine(manifest: ManifestInfo, parts: Vec<AccountPlan>, now: DateTime<Utc>) -> Plan {
        let mut combining = Combining::new(manifest);
        let mut changes = Vec::new();
        for part in parts {
            changes.extend(combining.add(part));
        }
        Plan {
            changes,
            ..combining.finish(now).0
        }
    }

    /// Each account's part of a plan over several (those that were
    /// planned), as a plan of one account: its changes, missing entries and
    /// groups without their account, the rest of the plan as it was. One
    /// account at a time, as it is asked for: a saved plan of many
    /// accounts is not copied whole to be shown or applied.
    pub fn split_accounts(&self) -> impl Iterator<Item = (AccountStatus, Plan)> + '_ {
        self.accounts
            .iter()
            .filter(|account| account.error.is_none())
            .map(|account| {
                let changes = of_account(&self.changes, &account.account_id);
                let groups = of_account(&self.groups, &account.account_id);
                let part = Plan {
                    // As the planner counts it: what stays in each group.
                    unchanged: groups.iter().map(|g| g.unchanged).sum(),
                    manifest: self.manifest.clone(),
                    created_at: self.created_at,
                    evictions: changes.iter().filter(|c| c.evict).count(),
                    changes,
                    missing: of_account(&self.missing, &account.account_id),
                    groups,
                    undo: self.undo,
                    undoes: self.undoes.clone(),
                    ..Plan::empty()
                };
                (account.clone(), part)
            })
    }

    /// What a plan names of an account it did not plan, if anything: an
    /// item of a plan over accounts with no account or one not planned, or
    /// an item of a plan of one account that names one. A saved plan is
    /// split by account to be applied, and such an item would be left out
    /// without a word (its checksum proves it unedited only to someone
    /// who did not recompute it).
    pub(super) fn unplanned_account(&self) -> Option<String> {
        let planned: std::collections::HashSet<&str> = self
            .accounts
            .iter()
            .filter(|a| a.error.is_none())
            .map(|a| a.account_id.as_str())
            .collect();
        let named = self
            .changes
            .iter()
            .map(|c| (&c.account_id, c.resource.to_string()))
            .chain(
                self.missing
                    .iter()
                    .map(|m| (&m.account_id, format!("{}/{}", m.rtype, m.id))),
            )
            .chain(
                self.groups
                    .iter()
                    .map(|g| (&g.account_id, format!("group {}", g.group.name))),
            );
        for (account, what) in named {
            match account {
                Some(id) if !planned.contains(id.as_str()) => {
                    return Some(format!(
                        "{what} names account {id}, which the plan did not plan"
                    ))
                }
                None if !self.accounts.is_empty() => {
                    return Some(format!("{what} names no account, in a plan over accounts"))
                }
                _ => {}
            }
        }
        None
    }

    /// A plan with nothing in it, to build one from parts (accounts
    /// combined here, shards merged in `merge`).
    pub(crate) fn empty() -> Plan {
        Plan {
            format_version: FORMAT_VERSION,
            manifest: ManifestInfo {
                file: String::new(),
                sha256: String::new(),
            },
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            accounts: Vec::new(),
            changes: Vec::new(),
            evictions: 0,
            unchanged: 0,
            missing: Vec::new(),
            warnings: Vec::new(),
            groups: Vec::new(),
            undo: false,
            undoes: None,
            merged_from: Vec::new(),
            checksum: String::new(),
        }
    }
}

/// Plans for the tests of plans over several accounts.
#[cfg(test)]
pub mod samples {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};

    use crate::manifest::Manifest;
    use crate::plan::{AccountStatus, Plan, PlanOptions};
    use crate::resource::{Group, Inventory, Resource, ResourceKey, ResourceType};

    /// Two instances to move into `prod`, one already there: a plan of one
    /// account for the tests of plans over several.
    pub fn sample_plan() -> Plan {
        let manifest = Manifest::parse(
            "regroup.yaml",
            "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{tags: {team: a}}]\n",
        )
        .unwrap();
        let group = |id: &str, name: &str| Group {
            id: id.into(),
            name: name.into(),
            status: "OK".into(),
        };
        let resource = |id: &str, group: &str| Resource {
            key: ResourceKey {
                rtype: ResourceType::Instance,
                region: "cn-hangzhou".into(),
                id: id.into(),
            },
            name: id.into(),
            group_id: group.into(),
            tags: [("team".into(), "a".into())].into_iter().collect(),
        };
        let inventory = Inventory {
            groups: vec![group("rg-default", "default"), group("rg-prod", "prod")],
            resources: [
                resource("i-1", "rg-default"),
                resource("i-2", "rg-default"),
                resource("i-3", "rg-prod"),
            ]
            .into_iter()
            .map(|r| (r.key.clone(), r))
            .collect(),
        };
        let now = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        crate::plan::plan(
            &manifest,
            &inventory,
            PlanOptions {
                ignore_missing: false,
            },
            now,
        )
        .unwrap()
    }

    /// A move of instance `id` from `default` into `prod`, in `account`
    /// when given.
    pub fn sample_change(id: &str, account: Option<&str>) -> crate::plan::Change {
        crate::plan::Change {
            resource: ResourceKey {
                rtype: ResourceType::Instance,
                region: "cn-hangzhou".into(),
                id: id.into(),
            },
            name: id.into(),
            from: crate::plan::GroupRef::new("rg-default", "default"),
            to: crate::plan::GroupRef::new("rg-prod", "prod"),
            source: crate::manifest::Location {
                file: "regroup.yaml".into(),
                line: 3,
                column: 5,
            },
            evict: false,
            conflict: None,
            account_id: account.map(|id| Arc::new(id.to_owned())),
        }
    }

    /// An account that was planned.
    pub fn sample_status(id: &str) -> AccountStatus {
        AccountStatus {
            account_id: Arc::new(id.to_owned()),
            name: format!("member-{id}"),
            role: None,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::samples::{sample_plan, sample_status};
    use super::*;

    /// Issue 28: a saved plan names the role of each account, so that it
    /// is applied through that role without its manifest; a plan without
    /// one (saved before) falls back, and one of one account has none.
    #[test]
    fn the_role_of_each_account_is_saved_and_read_back() {
        let one = sample_plan();
        let with_role = AccountStatus {
            role: Some("regroup-mover".to_owned()),
            ..sample_status("1001")
        };
        let parts = vec![
            (with_role, Ok(one.clone())),
            (sample_status("1002"), Ok(one.clone())),
        ];
        let combined = Plan::combine(one.manifest.clone(), parts, one.created_at);
        let mut written = Vec::new();
        combined.write_json(&mut written).expect("writes");
        let json: serde_json::Value = serde_json::from_slice(&written).expect("JSON");
        assert_eq!(json["accounts"][0]["role"], "regroup-mover", "{json}");
        assert!(
            json["accounts"][1].get("role").is_none(),
            "no role key when none was recorded: {json}"
        );
        let back = Plan::from_json(&written).expect("reads back");
        let roles: Vec<&str> = back
            .accounts
            .iter()
            .map(|a| a.role_or("Fallback"))
            .collect();
        assert_eq!(
            roles,
            ["regroup-mover", "Fallback"],
            "recorded, else the fallback"
        );
        let mut single = Vec::new();
        one.write_json(&mut single).expect("writes");
        assert!(
            !String::from_utf8_lossy(&single).contains("\"role\""),
            "a plan of one account has no role"
        );
    }

    #[test]
    fn a_saved_plan_naming_an_account_it_did_not_plan_is_refused() {
        let one = sample_plan();
        let parts = vec![(sample_status("1001"), Ok(one.clone()))];
        let mut edited = Plan::combine(one.manifest.clone(), parts, one.created_at);
        edited.changes[0].account_id = Some(std::sync::Arc::new("1002".to_owned()));
        let mut written = Vec::new();
        edited
            .write_json(&mut written)
            .expect("writes, sealed anew");
        let error = Plan::from_json(&written).expect_err("an account not planned");
        assert_eq!(
            error.to_string(),
            format!(
                "not a valid regroup plan: {} names account 1002, which the plan did not plan",
                edited.changes[0].resource
            )
        );
        edited.changes[0].account_id = None;
        let mut written = Vec::new();
        edited.write_json(&mut written).expect("writes");
        assert!(
            Plan::from_json(&written).is_err(),
            "a change without its account in a plan over accounts"
        );
    }

    #[test]
    fn combines_and_splits_back() {
        let one = sample_plan();
        assert!(one.has_changes(), "the sample moves something");
        let parts = vec![
            (sample_status("1001"), Ok(one.clone())),
            (sample_status("1002"), Err("AssumeRole failed".to_owned())),
            (sample_status("1003"), Ok(one.clone())),
        ];
        let combined = Plan::combine(one.manifest.clone(), parts, one.created_at);
        assert_eq!(
            combined.changes.len(),
            2 * one.changes.len(),
            "both accounts' changes"
        );
        assert_eq!(combined.unchanged, 2 * one.unchanged, "unchanged summed");
        let ids: Vec<&str> = combined
            .changes
            .iter()
            .map(|c| c.account_id.as_deref().map_or("", String::as_str))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "changes ordered by account");
        assert_eq!(
            combined
                .failed_accounts()
                .map(|a| a.account_id.as_str())
                .collect::<Vec<_>>(),
            ["1002"],
            "the failed account is listed with its error"
        );
        let json = serde_json::to_value(&combined).unwrap();
        assert_eq!(
            json["accounts"][1]["error"], "AssumeRole failed",
            "the error in the JSON"
        );
        assert!(
            json["accounts"][0].get("error").is_none(),
            "no error key for a planned account"
        );
        assert_eq!(
            json["changes"][0]["account_id"], "1001",
            "every change names its account"
        );
        assert_eq!(
            json["groups"][0]["account_id"], "1001",
            "so does every group"
        );
        let mut written = Vec::new();
        combined.write_json(&mut written).expect("writes");
        let back = Plan::from_json(&written).expect("reads back");
        let split: Vec<_> = back.split_accounts().collect();
        assert_eq!(split.len(), 2, "the two planned accounts");
        for (account, part) in split {
            assert_eq!(
                part.changes, one.changes,
                "{}: its changes, without the account",
                account.account_id
            );
            assert_eq!(
                part.groups, one.groups,
                "{}: its groups",
                account.account_id
            );
            assert_eq!(
                part.unchanged, one.unchanged,
                "{}: what stays, counted again from its groups",
                account.account_id
            );
        }
    }

    #[test]
    fn a_plan_of_one_account_has_no_account_fields() {
        let json = serde_json::to_string(&sample_plan()).unwrap();
        assert!(!json.contains("account"), "nothing about accounts: {json}");
    }
}
