//! Merging shards' plans: every field carried, the refusals named.

use chrono::TimeZone;

use super::*;
use crate::manifest::Location;
use crate::plan::{
    AccountStatus, Change, GroupRef, GroupSummary, ManifestInfo, Missing, ReportRef, FORMAT_VERSION,
};
use crate::resource::ResourceType;

fn group(name: &str) -> GroupRef {
    GroupRef::new(format!("rg-{name}"), name)
}

fn at(line: usize) -> Location {
    Location {
        file: "regroup.yaml".into(),
        line,
        column: 3,
    }
}

fn change(id: &str, evict: bool) -> Change {
    Change {
        resource: ResourceKey {
            rtype: ResourceType::Instance,
            region: "cn-hangzhou".into(),
            id: id.into(),
        },
        name: format!("web-{id}").into(),
        from: group("default"),
        to: group("prod"),
        source: at(4),
        evict,
        conflict: None,
        account_id: None,
    }
}

/// A plan with something in every field that merging adds up.
fn shard(file: &str, id: &str, hour: u32, warnings: &[&str]) -> ShardPlan {
    ShardPlan {
        file: file.to_owned(),
        plan: Plan {
            format_version: FORMAT_VERSION,
            manifest: ManifestInfo {
                file: "regroup.yaml".into(),
                sha256: "a1b2c3d4e5f6a7b8c9d0".into(),
            },
            created_at: chrono::Utc
                .with_ymd_and_hms(2026, 12, 6, hour, 0, 0)
                .unwrap(),
            accounts: Vec::new(),
            changes: vec![change(id, false), change(&format!("{id}-x"), true)],
            evictions: 1,
            unchanged: 10,
            missing: vec![Missing {
                rtype: ResourceType::Disk,
                id: format!("d-{id}"),
                regions: vec!["cn-hangzhou".into()],
                source: at(9),
                account_id: None,
            }],
            warnings: warnings.iter().map(|w| (*w).to_owned()).collect(),
            groups: vec![
                GroupSummary {
                    group: group(id),
                    unchanged: 10,
                    account_id: None,
                },
                GroupSummary {
                    group: group("prod"),
                    unchanged: 1,
                    account_id: None,
                },
            ],
            undo: false,
            undoes: None,
            merged_from: Vec::new(),
            checksum: String::new(),
        }
        .seal(),
    }
}

#[test]
fn every_field_is_merged() {
    let one = shard("shard-1.json", "i-1", 12, &["same", "first"]);
    let two = shard("shard-2.json", "i-2", 11, &["same", "second"]);
    let checksums = [one.plan.checksum.clone(), two.plan.checksum.clone()];
    let merged = merge(vec![one, two]).expect("two disjoint shards merge");
    // Every field named: a field added to `Plan` fails to compile here
    // until this test says what merging does with it.
    let Plan {
        format_version,
        manifest,
        created_at,
        accounts,
        changes,
        evictions,
        unchanged,
        missing,
        warnings,
        groups,
        undo,
        undoes,
        merged_from,
        checksum,
    } = merged;
    assert_eq!(format_version, FORMAT_VERSION, "the current format");
    assert_eq!(manifest.file, "regroup.yaml", "the shards' manifest");
    assert_eq!(
        created_at.to_rfc3339(),
        "2026-12-06T11:00:00+00:00",
        "the earliest shard's time"
    );
    assert!(accounts.is_empty(), "plans of one account name none");
    let ids: Vec<&str> = changes.iter().map(|c| &*c.resource.id).collect();
    assert_eq!(
        ids,
        ["i-1", "i-1-x", "i-2", "i-2-x"],
        "changes in the order of the files"
    );
    assert_eq!((evictions, unchanged), (2, 20), "counts summed");
    let missing: Vec<&str> = missing.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(missing, ["d-i-1", "d-i-2"], "missing entries concatenated");
    assert_eq!(
        warnings,
        ["same", "first", "second"],
        "each warning once, in order"
    );
    let groups: Vec<(&str, usize)> = groups
        .iter()
        .map(|g| (&*g.group.name, g.unchanged))
        .collect();
    assert_eq!(
        groups,
        [("i-1", 10), ("i-2", 10), ("prod", 2)],
        "each group once, its unchanged members summed, in a plan's order"
    );
    assert!(!undo && undoes.is_none(), "a merge is no undo plan");
    assert_eq!(
        merged_from,
        [
            MergedInput {
                file: "shard-1.json".into(),
                checksum: checksums[0].clone()
            },
            MergedInput {
                file: "shard-2.json".into(),
                checksum: checksums[1].clone()
            },
        ],
        "the inputs named with their checksums"
    );
    assert_eq!(
        checksum, "",
        "sealed as it is written, as every plan is (Plan::write_json)"
    );
}

#[test]
fn a_merged_plan_reads_back_and_merges_again_flat() {
    let first = merge(vec![
        shard("a.json", "i-1", 1, &[]),
        shard("b.json", "i-2", 1, &[]),
    ])
    .expect("merges");
    let mut json = Vec::new();
    first.write_json(&mut json).expect("writes");
    let read = Plan::from_json(&json).expect("a merged plan is a valid, sealed plan file");
    assert_eq!(read, first.clone().seal(), "read back unchanged");
    let again = merge(vec![
        ShardPlan {
            file: "ab.json".into(),
            plan: read,
        },
        shard("c.json", "i-3", 1, &[]),
    ])
    .expect("a merge merges again");
    let files: Vec<&str> = again.merged_from.iter().map(|i| i.file.as_str()).collect();
    assert_eq!(
        files,
        ["a.json", "b.json", "c.json"],
        "the shards' plans, not the merge between"
    );
}

#[test]
fn apply_refuses_a_merged_plan_naming_its_inputs() {
    let plain = shard("a.json", "i-1", 1, &[]).plan;
    assert_eq!(
        plain.check_not_merged("a.json"),
        Ok(()),
        "a shard's own plan applies"
    );
    let merged = merge(vec![
        shard("a.json", "i-1", 1, &[]),
        shard("b.json", "i-2", 1, &[]),
    ])
    .expect("merges");
    assert_eq!(
        merged.check_not_merged("all.json").map_err(|e| e.to_string()),
        Err("all.json cannot be applied: it merges 2 plans (a.json, b.json) for review; apply each shard's own plan in its job instead, e.g. regroup apply a.json".to_owned()),
        "the refusal says what to apply instead"
    );
}

#[test]
fn overlapping_shards_are_refused_naming_both_files() {
    let error = merge(vec![
        shard("a.json", "i-1", 1, &[]),
        shard("b.json", "i-1", 1, &[]),
    ])
    .expect_err("the same resource in two shards");
    assert_eq!(
        error.to_string(),
        "instance/i-1 (cn-hangzhou) is planned in both a.json and b.json: the shards overlap (plan each shard once, with its own --shard I/N)",
        "both files named"
    );
}

#[test]
fn a_file_named_twice_is_refused() {
    assert_eq!(
        merge(vec![
            shard("a.json", "i-1", 1, &[]),
            shard("a.json", "i-1", 1, &[])
        ]),
        Err(MergeError::Twice("a.json".into())),
        "one shard's plan counted twice would double its moves"
    );
}

#[test]
fn plans_of_other_manifests_and_undo_plans_are_refused() {
    let mut other = shard("b.json", "i-2", 1, &[]);
    other.plan.manifest.sha256 = "ffffffffffffffffffff".into();
    assert_eq!(
        merge(vec![shard("a.json", "i-1", 1, &[]), other]).map_err(|e| e.to_string()),
        Err("a.json and b.json were planned from different manifests (regroup.yaml with sha256 a1b2c3d4e5f6…, regroup.yaml with sha256 ffffffffffff…): merge the shards of one manifest".to_owned()),
        "both files and both manifests named"
    );
    let undo = shard("a.json", "i-1", 1, &[]).plan.undo(
        std::iter::empty(),
        ReportRef {
            file: "report.json".into(),
            sha256: "00".into(),
        },
        chrono::Utc::now(),
    );
    assert_eq!(
        merge(vec![ShardPlan {
            file: "undo.json".into(),
            plan: undo
        }]),
        Err(MergeError::Undo("undo.json".into())),
        "an undo plan is applied alone"
    );
    assert_eq!(
        merge(Vec::new()),
        Err(MergeError::Empty),
        "nothing to merge"
    );
}

/// `shard`'s plan made a plan of `accounts`, each with the shard's
/// changes, missing entry and groups under its id.
fn of_accounts(file: &str, accounts: &[&str]) -> ShardPlan {
    let mut shard = shard(file, "i", 1, &[]);
    let plan = &mut shard.plan;
    let per_account = |id: &str| Some(std::sync::Arc::new(id.to_owned()));
    plan.accounts = accounts
        .iter()
        .map(|id| AccountStatus {
            account_id: std::sync::Arc::new((*id).to_owned()),
            name: format!("member {id}"),
            role: None,
            error: None,
        })
        .collect();
    let (changes, missing, groups) = (
        plan.changes.clone(),
        plan.missing.clone(),
        plan.groups.clone(),
    );
    plan.changes = accounts
        .iter()
        .flat_map(|id| {
            changes.iter().map(|c| Change {
                account_id: per_account(id),
                ..c.clone()
            })
        })
        .collect();
    plan.missing = accounts
        .iter()
        .flat_map(|id| {
            missing.iter().map(|m| Missing {
                account_id: per_account(id),
                ..m.clone()
            })
        })
        .collect();
    plan.groups = accounts
        .iter()
        .flat_map(|id| {
            groups.iter().map(|g| GroupSummary {
                account_id: per_account(id),
                ..g.clone()
            })
        })
        .collect();
    shard.plan = shard.plan.clone().seal();
    shard
}

#[test]
fn plans_of_accounts_merge_in_the_order_of_their_ids_whatever_the_files_order() {
    let merged = merge(vec![
        of_accounts("shard-2.json", &["1003", "1001"]),
        of_accounts("shard-1.json", &["1002"]),
    ])
    .expect("disjoint accounts merge");
    let accounts: Vec<&str> = merged
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(accounts, ["1001", "1002", "1003"], "accounts by id");
    let changes: Vec<(&str, &str)> = merged
        .changes
        .iter()
        .map(|c| {
            (
                c.account_id.as_deref().map_or("", String::as_str),
                &*c.resource.id,
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("1001", "i"),
            ("1001", "i-x"),
            ("1002", "i"),
            ("1002", "i-x"),
            ("1003", "i"),
            ("1003", "i-x"),
        ],
        "account by account, each shard's order kept within one"
    );
    let missing: Vec<&str> = merged
        .missing
        .iter()
        .filter_map(|m| m.account_id.as_deref().map(String::as_str))
        .collect();
    assert_eq!(
        missing,
        ["1001", "1002", "1003"],
        "missing entries by account"
    );
    let groups: Vec<(&str, &str, usize)> = merged
        .groups
        .iter()
        .map(|g| {
            (
                g.account_id.as_deref().map_or("", String::as_str),
                &*g.group.name,
                g.unchanged,
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("1001", "i", 10),
            ("1001", "prod", 1),
            ("1002", "i", 10),
            ("1002", "prod", 1),
            ("1003", "i", 10),
            ("1003", "prod", 1),
        ],
        "a group of the same name in two accounts is two groups"
    );
    let swapped = merge(vec![
        of_accounts("shard-1.json", &["1002"]),
        of_accounts("shard-2.json", &["1003", "1001"]),
    ])
    .expect("merges");
    assert_eq!(
        (
            swapped.accounts,
            swapped.changes,
            swapped.missing,
            swapped.groups
        ),
        (
            merged.accounts,
            merged.changes,
            merged.missing,
            merged.groups
        ),
        "the files' order does not change the plan"
    );
}

#[test]
fn an_account_in_two_shards_is_refused_naming_both_files() {
    assert_eq!(
        merge(vec![
            of_accounts("shard-1.json", &["1001", "1002"]),
            of_accounts("shard-2.json", &["1003", "1002"]),
        ])
        .map_err(|e| e.to_string()),
        Err("account 1002 is in both shard-1.json and shard-2.json: the shards overlap (plan each shard once, with its own --shard I/N)".to_owned()),
        "an account planned twice would be applied twice"
    );
}
