//! A plan over several accounts, made of one plan per account and taken
//! apart again: [`Plan::combine`] puts each account's plan into one, every
//! change, missing entry and group marked with its account, changes ordered
//! by account then resource; [`Plan::split_accounts`] gives back each
//! account's part as a plan of one account, for the per-account steps of
//! apply (the stale guard, the check against the manifest, the joins).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{AccountStatus, ManifestInfo, Plan};

/// One account's part of a plan over several: the account's plan, or why
/// there is none.
pub type AccountPlan = (AccountStatus, Result<Plan, String>);

impl Plan {
    /// One plan of every account's, in the order given (by account id):
    /// an account that failed is listed with its error and has no changes.
    pub fn combine(manifest: ManifestInfo, parts: Vec<AccountPlan>, now: DateTime<Utc>) -> Plan {
        let mut combined = Plan::empty(manifest, now);
        for (mut status, part) in parts {
            let plan = match part {
                Ok(plan) => plan,
                Err(error) => {
                    status.error = Some(error);
                    combined.accounts.push(status);
                    continue;
                }
            };
            let id = Some(status.account_id.clone());
            combined
                .changes
                .extend(plan.changes.into_iter().map(|mut change| {
                    change.account_id = id.clone();
                    change
                }));
            combined
                .missing
                .extend(plan.missing.into_iter().map(|mut missing| {
                    missing.account_id = id.clone();
                    missing
                }));
            combined
                .groups
                .extend(plan.groups.into_iter().map(|mut group| {
                    group.account_id = id.clone();
                    group
                }));
            combined.warnings.extend(
                plan.warnings
                    .into_iter()
                    .map(|warning| format!("account {}: {warning}", status.account_id)),
            );
            combined.evictions += plan.evictions;
            combined.unchanged += plan.unchanged;
            combined.accounts.push(status);
        }
        combined.seal()
    }

    /// Each account's part of a plan over several (those that were
    /// planned), as a plan of one account: its changes, missing entries and
    /// groups without their account, the rest of the plan as it was.
    pub fn split_accounts(&self) -> Vec<(AccountStatus, Plan)> {
        let mine = |id: &Option<Arc<String>>, account: &AccountStatus| {
            id.as_deref() == Some(&*account.account_id)
        };
        self.accounts
            .iter()
            .filter(|account| account.error.is_none())
            .map(|account| {
                let part = Plan {
                    accounts: Vec::new(),
                    changes: self
                        .changes
                        .iter()
                        .filter(|c| mine(&c.account_id, account))
                        .map(|c| super::Change {
                            account_id: None,
                            ..c.clone()
                        })
                        .collect(),
                    missing: self
                        .missing
                        .iter()
                        .filter(|m| mine(&m.account_id, account))
                        .map(|m| super::Missing {
                            account_id: None,
                            ..m.clone()
                        })
                        .collect(),
                    groups: self
                        .groups
                        .iter()
                        .filter(|g| mine(&g.account_id, account))
                        .map(|g| super::GroupSummary {
                            account_id: None,
                            ..g.clone()
                        })
                        .collect(),
                    warnings: Vec::new(),
                    checksum: String::new(),
                    ..self.clone_head()
                };
                let evictions = part.changes.iter().filter(|c| c.evict).count();
                (account.clone(), Plan { evictions, ..part }.seal())
            })
            .collect()
    }

    /// The plan without its lists, for building a part of it.
    fn clone_head(&self) -> Plan {
        Plan {
            format_version: self.format_version,
            manifest: self.manifest.clone(),
            created_at: self.created_at,
            accounts: Vec::new(),
            changes: Vec::new(),
            evictions: 0,
            unchanged: 0,
            missing: Vec::new(),
            warnings: Vec::new(),
            groups: Vec::new(),
            undo: self.undo,
            undoes: self.undoes.clone(),
            merged_from: Vec::new(),
            checksum: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::manifest::Manifest;
    use crate::plan::PlanOptions;
    use crate::resource::{Group, Inventory, Resource, ResourceKey, ResourceType};

    /// Two instances to move into `prod`, one already there.
    fn sample_plan() -> Plan {
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
            .collect::<BTreeMap<_, _>>(),
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

    fn status(id: &str) -> AccountStatus {
        AccountStatus {
            account_id: Arc::new(id.to_owned()),
            name: format!("member-{id}"),
            error: None,
        }
    }

    #[test]
    fn combines_and_splits_back() {
        let one = sample_plan();
        assert!(one.has_changes(), "the sample moves something");
        let parts = vec![
            (status("1001"), Ok(one.clone())),
            (status("1002"), Err("AssumeRole failed".to_owned())),
            (status("1003"), Ok(one.clone())),
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
        let back = Plan::from_json(&serde_json::to_vec(&combined).unwrap()).expect("reads back");
        let split = back.split_accounts();
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
        }
    }

    #[test]
    fn a_plan_of_one_account_has_no_account_fields() {
        let json = serde_json::to_string(&sample_plan()).unwrap();
        assert!(!json.contains("account"), "nothing about accounts: {json}");
    }
}
