//! The planner on hand-made accounts: moves, group lookup, selector
//! semantics, precedence, conflicts, missing resources, determinism and
//! convergence.

use chrono::TimeZone;

use super::*;
use crate::resource::Resource;

fn group(id: &str, name: &str) -> Group {
    Group {
        id: id.into(),
        name: name.into(),
        status: "OK".into(),
    }
}

fn resource(
    rtype: ResourceType,
    id: &str,
    name: &str,
    group: &str,
    tags: &[(&str, &str)],
) -> Resource {
    Resource {
        key: ResourceKey {
            rtype,
            region: "cn-hangzhou".into(),
            id: id.into(),
        },
        name: name.into(),
        group_id: group.into(),
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    }
}

fn inventory(resources: Vec<Resource>) -> Inventory {
    Inventory {
        groups: vec![
            group("rg-default", "default"),
            group("rg-prod", "prod"),
            group("rg-legacy", "legacy"),
            group("rg-dev", "dev"),
        ],
        resources: resources.into_iter().map(|r| (r.key.clone(), r)).collect(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

fn plan_of(manifest: &str, inventory: &Inventory) -> Result<Plan, PlanError> {
    let manifest = Manifest::parse("m.yaml", manifest).expect("test manifests are valid");
    plan(&manifest, inventory, PlanOptions::default(), now())
}

fn moved(plan: &Plan) -> Vec<(String, String, String)> {
    plan.changes
        .iter()
        .map(|c| {
            (
                c.resource.id.to_string(),
                c.from.name.to_string(),
                c.to.name.to_string(),
            )
        })
        .collect()
}

const I1: &str = "i-bp1aaaa";
const I2: &str = "i-bp1bbbb";
const I3: &str = "i-bp1cccc";

#[test]
fn explicit_entries_move_and_record_where_they_were_asked_for() {
    let inv = inventory(vec![
        resource(ResourceType::Instance, I1, "web-1", "rg-default", &[]),
        resource(ResourceType::Instance, I2, "web-2", "rg-prod", &[]),
    ]);
    let plan = plan_of(
        &format!("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/{I1}\n      - instance/{I2}\n"),
        &inv,
    )
    .unwrap();
    assert_eq!(
        moved(&plan),
        vec![(I1.into(), "default".into(), "prod".into())]
    );
    assert_eq!(plan.unchanged, 1);
    assert_eq!(
        (plan.changes[0].source.line, plan.changes[0].source.column),
        (6, 9)
    );
    assert_eq!(&*plan.changes[0].from.id, "rg-default");
}

#[test]
fn groups_are_found_by_id_or_name() {
    let inv = inventory(vec![resource(
        ResourceType::Instance,
        I1,
        "web-1",
        "rg-default",
        &[],
    )]);
    let by_id = plan_of(&format!("version: 1\nregions: [cn-hangzhou]\ngroups:\n  rg-dev:\n    resources: [instance/{I1}]\n"), &inv).unwrap();
    assert_eq!(
        moved(&by_id),
        vec![(I1.into(), "default".into(), "dev".into())]
    );
}

#[test]
fn an_unknown_group_names_the_closest_ones() {
    let inv = inventory(vec![]);
    let err = plan_of(
        &format!(
            "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prd:\n    resources: [instance/{I1}]\n"
        ),
        &inv,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with(
            "m.yaml:4:3: no resource group has the id or name `prd`; closest names: prod"
        ),
        "{err}"
    );
}

#[test]
fn a_name_two_groups_share_must_be_given_as_an_id() {
    let mut inv = inventory(vec![]);
    inv.groups.push(group("rg-prod2", "prod"));
    let err = plan_of(&format!("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/{I1}]\n"), &inv)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2 resource groups are named `prod` (rg-prod, rg-prod2); use the id"),
        "{err}"
    );
}

#[test]
fn selectors_need_tags_and_name_and_in_group_all_to_hold() {
    let inv = inventory(vec![
        resource(
            ResourceType::Instance,
            I1,
            "pay-1",
            "rg-legacy",
            &[("team", "payments")],
        ),
        // Wrong group.
        resource(
            ResourceType::Instance,
            I2,
            "pay-2",
            "rg-default",
            &[("team", "payments")],
        ),
        // Wrong name.
        resource(
            ResourceType::Instance,
            I3,
            "web-3",
            "rg-legacy",
            &[("team", "payments")],
        ),
        // Wrong tag value.
        resource(
            ResourceType::Instance,
            "i-bp1dddd",
            "pay-4",
            "rg-legacy",
            &[("team", "data")],
        ),
        // Wrong type.
        resource(
            ResourceType::Disk,
            "d-bp1eeee",
            "pay-5",
            "rg-legacy",
            &[("team", "payments")],
        ),
    ]);
    let plan = plan_of(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: instance\n        tags: {team: payments}\n        name: \"pay-*\"\n        in_group: legacy\n",
        &inv,
    )
    .unwrap();
    assert_eq!(
        moved(&plan),
        vec![(I1.into(), "legacy".into(), "prod".into())]
    );
}

#[test]
fn explicit_beats_select() {
    let inv = inventory(vec![resource(
        ResourceType::Instance,
        I1,
        "pay-1",
        "rg-default",
        &[("team", "payments")],
    )]);
    let plan = plan_of(
        &format!("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: {{team: payments}}\n  dev:\n    resources: [instance/{I1}]\n"),
        &inv,
    )
    .unwrap();
    assert_eq!(
        moved(&plan),
        vec![(I1.into(), "default".into(), "dev".into())]
    );
}

#[test]
fn rules_of_two_groups_matching_one_resource_conflict_naming_both() {
    let inv = inventory(vec![resource(
        ResourceType::Instance,
        I1,
        "pay-1",
        "rg-default",
        &[("team", "payments")],
    )]);
    let err = plan_of(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: {team: payments}\n  dev:\n    select:\n      - name: \"pay-*\"\n",
        &inv,
    )
    .unwrap_err()
    .to_string();
    // Groups are read in key order: dev before prod.
    assert!(
        err.contains("m.yaml:9:9: group `dev`") && err.contains("m.yaml:6:9: group `prod`"),
        "{err}"
    );
}

#[test]
fn rules_of_one_group_may_overlap() {
    let inv = inventory(vec![resource(
        ResourceType::Instance,
        I1,
        "pay-1",
        "rg-default",
        &[("team", "payments")],
    )]);
    let plan = plan_of(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: {team: payments}\n      - name: \"pay-*\"\n",
        &inv,
    )
    .unwrap();
    assert_eq!(plan.changes.len(), 1);
}

#[test]
fn missing_resources_fail_unless_ignored() {
    let inv = inventory(vec![]);
    let text = format!(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/{I1}]\n"
    );
    let err = plan_of(&text, &inv).unwrap_err().to_string();
    assert!(
        err.contains("m.yaml:5:17: instance/i-bp1aaaa in cn-hangzhou")
            && err.contains("--ignore-missing"),
        "{err}"
    );

    let manifest = Manifest::parse("m.yaml", &text).unwrap();
    let plan = plan(
        &manifest,
        &inv,
        PlanOptions {
            ignore_missing: true,
        },
        now(),
    )
    .unwrap();
    assert_eq!(plan.missing.len(), 1);
    assert!(
        plan.warnings[0].contains("does not exist"),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn a_rule_that_matches_nothing_is_a_warning() {
    let inv = inventory(vec![]);
    let plan = plan_of("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: {team: nobody}\n", &inv).unwrap();
    assert_eq!(
        plan.warnings,
        vec!["m.yaml:6:9: this select rule matches no resource".to_owned()]
    );
}

#[test]
fn resources_the_manifest_does_not_mention_are_left_alone() {
    let inv = inventory(vec![
        resource(ResourceType::Instance, I1, "a", "rg-default", &[]),
        resource(ResourceType::Instance, I2, "b", "rg-default", &[]),
    ]);
    let plan = plan_of(&format!("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/{I1}]\n"), &inv).unwrap();
    assert!(plan.changes.iter().all(|c| &*c.resource.id != I2));
}

#[test]
fn planning_is_deterministic() {
    let inv = inventory(vec![
        resource(
            ResourceType::Instance,
            I2,
            "pay-2",
            "rg-default",
            &[("team", "payments")],
        ),
        resource(
            ResourceType::Instance,
            I1,
            "pay-1",
            "rg-default",
            &[("team", "payments")],
        ),
    ]);
    let text = "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: {team: payments}\n";
    let a = serde_json::to_string(&plan_of(text, &inv).unwrap()).unwrap();
    let b = serde_json::to_string(&plan_of(text, &inv).unwrap()).unwrap();
    assert_eq!(a, b);
    assert!(a.find(I1) < a.find(I2));
}

/// Found by the fixpoint property: rules that select by current group can
/// pass a resource along a chain of groups, one apply at a time.
#[test]
fn an_in_group_chain_is_refused_because_it_would_not_settle() {
    let inv = inventory(vec![resource(
        ResourceType::Instance,
        I1,
        "pay-1",
        "rg-legacy",
        &[],
    )]);
    let err = plan_of(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - in_group: legacy\n  dev:\n    select:\n      - in_group: prod\n",
        &inv,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("the manifest does not settle: this plan moves instance/i-bp1aaaa (cn-hangzhou) to `prod`, and then the rule at m.yaml:9:9 would move it on to `dev`"),
        "{err}"
    );
}

#[test]
fn a_rule_that_empties_a_group_settles() {
    let inv = inventory(vec![resource(
        ResourceType::Instance,
        I1,
        "pay-1",
        "rg-legacy",
        &[],
    )]);
    let plan = plan_of("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - in_group: legacy\n", &inv).unwrap();
    assert_eq!(
        moved(&plan),
        vec![(I1.into(), "legacy".into(), "prod".into())]
    );
}

/// docs/manifest.md: an entry without a region is looked for in every one of
/// `regions`, so a key pair named alike in two of them moves in both.
#[test]
fn an_entry_without_a_region_is_found_in_every_default_region() {
    let mut in_shanghai = resource(
        ResourceType::KeyPair,
        "deploy-key",
        "deploy-key",
        "rg-default",
        &[],
    );
    in_shanghai.key.region = "cn-shanghai".into();
    let inv = inventory(vec![
        resource(
            ResourceType::KeyPair,
            "deploy-key",
            "deploy-key",
            "rg-default",
            &[],
        ),
        in_shanghai,
    ]);
    let plan = plan_of(
        "version: 1\nregions: [cn-hangzhou, cn-shanghai]\ngroups:\n  prod:\n    resources: [keypair/deploy-key]\n",
        &inv,
    )
    .unwrap();
    let regions: Vec<&str> = plan.changes.iter().map(|c| &*c.resource.region).collect();
    assert_eq!(regions, ["cn-hangzhou", "cn-shanghai"]);
}

#[test]
fn a_target_group_being_created_or_deleted_is_refused_with_where_it_is_named() {
    let mut account = inventory(vec![resource(
        ResourceType::Instance,
        I1,
        "web",
        "rg-default",
        &[],
    )]);
    account.groups[1].status = "PendingDelete".into();
    let manifest = format!(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/{I1}]\n"
    );
    let err = plan_of(&manifest, &account).unwrap_err().to_string();
    assert!(
        err.starts_with("m.yaml:4:3: resource group `prod` (rg-prod) is `PendingDelete`, not `OK`"),
        "{err}"
    );
    // A group in another state may still be where resources come from.
    account.groups[1].status = "OK".into();
    account.groups[2].status = "Creating".into();
    assert!(plan_of(&manifest, &account).is_ok());
}

#[test]
fn resources_reported_without_a_group_are_in_the_default_group() {
    let account = Inventory::new(
        inventory(Vec::new()).groups,
        [resource(ResourceType::Instance, I1, "web", "", &[])]
            .into_iter()
            .map(|r| (r.key.clone(), r))
            .collect(),
    );
    let manifest = format!(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  default:\n    resources: [instance/{I1}]\n  prod:\n    select: [{{name: nothing}}]\n"
    );
    let plan = plan_of(&manifest, &account).unwrap();
    assert!(!plan.has_changes(), "{:?}", plan.changes);
    let manifest = format!(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/{I1}]\n"
    );
    let plan = plan_of(&manifest, &account).unwrap();
    assert_eq!(
        moved(&plan),
        vec![(I1.to_owned(), "default".to_owned(), "prod".to_owned())]
    );
    assert!(plan.changes[0].from.holds(""));
    assert!(!plan.changes[0].to.holds(""));
}

#[test]
fn a_saved_plan_may_only_make_changes_the_manifest_asks_for() {
    let inv = inventory(vec![
        resource(ResourceType::Instance, I1, "web-1", "rg-default", &[]),
        resource(ResourceType::Instance, I2, "web-2", "rg-default", &[]),
        resource(ResourceType::Instance, I3, "web-3", "rg-default", &[]),
    ]);
    let manifest = format!(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/{I1}\n      - instance/{I2}\n"
    );
    let fresh = plan_of(&manifest, &inv).unwrap();
    assert_eq!(check_saved_against(&fresh, &fresh).map_err(|e| e.0), Ok(()));
    // A plan of fewer changes than the manifest asks for is still asked for.
    let mut fewer = fresh.clone();
    fewer.changes.truncate(1);
    assert!(check_saved_against(&fewer, &fresh).is_ok());

    let mut forged = fresh.clone();
    // Into a group the manifest does not name for it...
    forged.changes[0].to = GroupRef::new("rg-legacy", "prod");
    // ...and a resource the manifest does not mention.
    forged.changes[1].resource.id = I3.into();
    let error = check_saved_against(&forged, &fresh).unwrap_err();
    assert_eq!(
        error
            .0
            .iter()
            .map(|u| (
                &*u.change.resource.id,
                u.manifest_wants.as_ref().map(|g| &*g.id)
            ))
            .collect::<Vec<_>>(),
        [(I1, Some("rg-prod")), (I3, None)]
    );
    let text = error.to_string();
    assert!(
        text.contains(&format!("instance/{I1} (cn-hangzhou): the plan moves it to `prod` (rg-legacy); the manifest puts it in `prod` (rg-prod)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("instance/{I3} (cn-hangzhou): the plan moves it to `prod` (rg-prod); the manifest asks for no move of it")),
        "{text}"
    );
}

#[test]
fn max_changes_counts_the_moves_against_the_managed_resources() {
    // Four instances managed by the rule, three of them to move.
    let inventory = inventory(vec![
        resource(ResourceType::Instance, "i-1", "a", "rg-default", &[]),
        resource(ResourceType::Instance, "i-2", "b", "rg-default", &[]),
        resource(ResourceType::Instance, "i-3", "c", "rg-default", &[]),
        resource(ResourceType::Instance, "i-4", "d", "rg-prod", &[]),
    ]);
    let manifest = Manifest::parse(
        "m.yaml",
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{type: instance}]\n",
    )
    .unwrap();
    let plan = plan(&manifest, &inventory, PlanOptions::default(), now()).unwrap();
    assert!(plan
        .totals()
        .check_max_changes(MaxChanges::Count(3), None)
        .is_ok());
    assert!(plan
        .totals()
        .check_max_changes(MaxChanges::Percent(75.0), None)
        .is_ok());
    let error = plan
        .totals()
        .check_max_changes(MaxChanges::Percent(50.0), None)
        .unwrap_err();
    assert_eq!((error.count, error.limit, error.managed), (3, 2, 4));
    assert!(
        error.to_string().starts_with(
            "the plan moves 3 resource(s), more than the 2 allowed by --max-changes 50% (of 4 managed resources)"
        ),
        "{error}"
    );
    let error = plan
        .totals()
        .check_max_changes(MaxChanges::Count(2), Some("m.yaml"))
        .unwrap_err();
    assert!(
        error.to_string().starts_with(
            "the plan moves 3 resource(s), more than the 2 allowed by `max_changes: 2` in m.yaml,"
        ),
        "{error}"
    );
}

#[test]
fn an_exclusive_group_evicts_what_the_manifest_places_nowhere() {
    let resources = vec![
        resource(ResourceType::Instance, "i-1", "a", "rg-prod", &[]),
        resource(ResourceType::Instance, "i-2", "b", "rg-prod", &[]),
        resource(ResourceType::Instance, "i-3", "c", "rg-prod", &[]),
        resource(ResourceType::Instance, "i-4", "d", "rg-legacy", &[]),
    ];
    // i-1 stays, i-2 is placed in dev (an ordinary move), i-3 is evicted.
    let manifest = Manifest::parse(
        "m.yaml",
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    exclusive: true\n    resources: [instance/i-1]\n  dev:\n    resources: [instance/i-2]\n",
    )
    .unwrap();
    let plan = plan(
        &manifest,
        &inventory(resources.clone()),
        PlanOptions::default(),
        now(),
    )
    .unwrap();
    let moves: Vec<(&str, &str, bool)> = plan
        .changes
        .iter()
        .map(|c| (&*c.resource.id, &*c.to.name, c.evict))
        .collect();
    assert_eq!(moves, [("i-2", "dev", false), ("i-3", "default", true)]);
    assert_eq!(plan.evictions, 1);
    assert_eq!(
        plan.changes[1].source.line, 4,
        "an eviction points at its group"
    );

    // Without a group named `default` and without `evict_to`, nowhere to go.
    let mut without_default = inventory(resources.clone());
    without_default.groups.retain(|g| &*g.name != "default");
    let error = super::plan(&manifest, &without_default, PlanOptions::default(), now())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("m.yaml:4:3: this group is exclusive, the manifest has no `evict_to`"),
        "{error}"
    );

    // A group that is not ready cannot take evictions.
    let text = "version: 1\nregions: [cn-hangzhou]\nevict_to: legacy\ngroups:\n  prod:\n    exclusive: true\n    resources: [instance/i-1]\n";
    let manifest = Manifest::parse("m.yaml", text).unwrap();
    let mut deleting = inventory(resources);
    deleting.groups[2].status = "PendingDelete".into();
    let error = super::plan(&manifest, &deleting, PlanOptions::default(), now())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("m.yaml:3:11: resource group `legacy`"),
        "{error}"
    );
}

#[test]
fn an_undo_plan_swaps_each_move_and_reads_back_as_a_saved_plan() {
    let manifest = Manifest::parse(
        "m.yaml",
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{type: instance}]\n",
    )
    .unwrap();
    let inventory = inventory(vec![
        resource(ResourceType::Instance, "i-1", "a", "rg-default", &[]),
        resource(ResourceType::Instance, "i-2", "b", "rg-legacy", &[]),
    ]);
    let forward = plan(&manifest, &inventory, PlanOptions::default(), now()).unwrap();
    let report = crate::plan::ReportRef {
        file: "/r.json".into(),
        sha256: "ab".into(),
    };
    let undo = forward.undo(forward.changes.iter().skip(1), report.clone(), now());
    assert_eq!(undo.undoes, Some(report));
    assert!(undo.undo);
    assert_eq!(undo.changes.len(), 1);
    let back = &undo.changes[0];
    assert_eq!(&*back.resource.id, "i-2");
    assert_eq!((&*back.from.name, &*back.to.name), ("prod", "legacy"));
    assert_eq!(undo.manifest, forward.manifest);
    let mut json = Vec::new();
    undo.write_json(&mut json).unwrap();
    assert_eq!(Plan::from_json(&json).unwrap(), undo.seal());
    // A forward plan says nothing of undo, so plans saved before read the same.
    assert!(!String::from_utf8(serde_json::to_vec(&forward).unwrap())
        .unwrap()
        .contains("undo"));
}

#[test]
fn evictions_and_moves_are_listed_together_in_resource_order() {
    // i-1 is evicted and i-3 too, i-2 and i-4 are moves: the evictions,
    // found apart from the moves, go between them.
    let resources = vec![
        resource(ResourceType::Instance, "i-1", "a", "rg-prod", &[]),
        resource(ResourceType::Instance, "i-2", "b", "rg-legacy", &[]),
        resource(ResourceType::Instance, "i-3", "c", "rg-prod", &[]),
        resource(ResourceType::Instance, "i-4", "d", "rg-legacy", &[]),
        resource(ResourceType::Instance, "i-5", "e", "rg-prod", &[]),
    ];
    let manifest = Manifest::parse(
        "m.yaml",
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    exclusive: true\n    resources: [instance/i-2, instance/i-4, instance/i-5]\n",
    )
    .unwrap();
    let plan = plan(
        &manifest,
        &inventory(resources),
        PlanOptions::default(),
        now(),
    )
    .unwrap();
    let changes: Vec<(&str, bool)> = plan
        .changes
        .iter()
        .map(|c| (&*c.resource.id, c.evict))
        .collect();
    assert_eq!(
        changes,
        [("i-1", true), ("i-2", false), ("i-3", true), ("i-4", false)],
        "one list in resource order"
    );
    assert_eq!(plan.evictions, 2, "two of them evictions");
}

#[test]
fn a_change_stays_within_its_memory_budget() {
    // A 1,000,000-resource plan holds a million changes at once, beside the
    // inventory it was made from: 128 bytes each on a 64-bit target (its
    // ids and names shared, not copied; an account's id is one pointer).
    // An inline rule reference made it 208; `from` and `to` as four
    // `Arc<str>` (64 bytes) rather than two shared `GroupRef` handles
    // (16), 176.
    let budget = 16 * std::mem::size_of::<usize>();
    assert!(
        std::mem::size_of::<Change>() <= budget,
        "a change is {} bytes, over its budget of {budget}",
        std::mem::size_of::<Change>()
    );
}

#[test]
fn changes_share_one_handle_per_group() {
    // Two moves from `default`, one eviction from `prod`, all to `default`
    // or `dev`: each group the plan names is one allocation, which is what
    // keeps a change at its budget above.
    let manifest = Manifest::parse(
        "m.yaml",
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  dev:\n    resources: [instance/i-1, instance/i-2]\n  legacy:\n    exclusive: true\n    resources: [instance/i-4]\n",
    )
    .unwrap();
    let inventory = inventory(vec![
        resource(ResourceType::Instance, "i-1", "a", "rg-default", &[]),
        resource(ResourceType::Instance, "i-2", "b", "rg-default", &[]),
        resource(ResourceType::Instance, "i-3", "c", "rg-legacy", &[]),
        resource(ResourceType::Instance, "i-4", "d", "rg-legacy", &[]),
    ]);
    let plan = plan(&manifest, &inventory, PlanOptions::default(), now()).unwrap();
    let [first, second, eviction] = plan.changes.as_slice() else {
        panic!("three changes expected: {:?}", plan.changes);
    };
    assert!(eviction.evict, "i-3 leaves the exclusive group");
    let shared = |a: &GroupRef, b: &GroupRef| std::ptr::eq::<super::GroupNames>(&**a, &**b);
    assert!(
        shared(&first.from, &second.from),
        "both moves leave `default`"
    );
    assert!(shared(&first.to, &second.to), "both moves join `dev`");
    assert!(
        shared(&first.from, &eviction.to),
        "the eviction goes to the `default` the moves leave"
    );
    assert!(
        plan.groups
            .iter()
            .any(|g| shared(&g.group, &first.to) && g.unchanged == 0),
        "the summary names the changes' own handle: {:?}",
        plan.groups
    );
    // Read back from its file, the plan shares them again: the JSON holds a
    // copy of a group per change.
    let mut written = Vec::new();
    plan.write_json(&mut written).unwrap();
    let read = Plan::from_json(&written).unwrap();
    let [first, second, eviction] = read.changes.as_slice() else {
        panic!("three changes read back: {:?}", read.changes);
    };
    assert!(
        shared(&first.to, &second.to) && shared(&first.from, &eviction.to),
        "a saved plan's changes share one handle per group"
    );
    assert!(
        read.groups.iter().any(|g| shared(&g.group, &first.to)),
        "and so does its summary"
    );
}

/// Resource Manager rules: one pulls `team: b` into legacy, one `team: a`
/// into prod.
fn pulling_rules() -> crate::resource::auto_grouping::Rules {
    use crate::resource::auto_grouping::{Rule, RuleRef, Rules, Scope};
    let rule = |id: &str, target: &str, team: &str| Rule {
        rule: RuleRef {
            id: id.into(),
            name: format!("rule {id}"),
        },
        target: target.into(),
        scope: Scope::default(),
        tags: [("team".to_owned(), team.to_owned())].into(),
        names: Vec::new(),
    };
    Rules {
        rules: vec![rule("r-b", "rg-legacy", "b"), rule("r-a", "rg-prod", "a")],
        warnings: vec!["a rule could not be read".into()],
        follow_instances: vec!["disk".into()],
    }
}

#[test]
fn moves_and_evictions_a_rule_would_undo_are_marked_whether_the_inventory_is_kept_or_not() {
    let resources = vec![
        resource(
            ResourceType::Instance,
            "i-1",
            "a",
            "rg-prod",
            &[("team", "a")],
        ),
        resource(
            ResourceType::Instance,
            "i-2",
            "b",
            "rg-default",
            &[("team", "b")],
        ),
        resource(
            ResourceType::Instance,
            "i-3",
            "c",
            "rg-legacy",
            &[("team", "c")],
        ),
    ];
    // i-1 is evicted from prod (r-a pulls it back), i-2 moves into prod
    // (r-b pulls it to legacy), i-3 moves to dev (no rule selects it).
    // With `in_group`, the plan is checked to settle, from the inventory
    // kept to the end; without, it is handed back as the changes are made.
    for in_group in ["", ", in_group: legacy"] {
        let text = format!("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    exclusive: true\n    resources: [instance/i-2]\n  dev:\n    select:\n      - {{tags: {{team: c}}{in_group}}}\n");
        let manifest = Manifest::parse("m.yaml", &text).unwrap();
        let plan = plan_marked(
            &manifest,
            inventory(resources.clone()),
            &pulling_rules(),
            PlanOptions::default(),
            now(),
        )
        .unwrap();
        let marked: Vec<(&str, bool, Option<&str>)> = plan
            .changes
            .iter()
            .map(|c| {
                let rule = c.conflict.as_ref().map(|r| r.id.as_str());
                (&*c.resource.id, c.evict, rule)
            })
            .collect();
        assert_eq!(
            marked,
            [
                ("i-1", true, Some("r-a")),
                ("i-2", false, Some("r-b")),
                ("i-3", false, None)
            ],
            "{text}"
        );
        assert_eq!(
            plan.warnings,
            [
                "a rule could not be read",
                "instance/i-1 (cn-hangzhou): associated transfer is on, so its attached resources (disk) move with it to default",
                "instance/i-2 (cn-hangzhou): associated transfer is on, so its attached resources (disk) move with it to prod",
                "instance/i-3 (cn-hangzhou): associated transfer is on, so its attached resources (disk) move with it to dev",
            ],
            "the rules' warnings, once: {text}"
        );
    }
    // Nothing moves: nothing to mark, and nothing to say about the rules.
    let manifest = Manifest::parse(
        "m.yaml",
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  legacy:\n    resources: [instance/i-3]\n",
    )
    .unwrap();
    let plan = plan_marked(
        &manifest,
        inventory(resources),
        &pulling_rules(),
        PlanOptions::default(),
        now(),
    )
    .unwrap();
    assert!(!plan.has_changes(), "{:?}", plan.changes);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn an_inventory_handed_back_as_the_changes_are_made_gives_every_move_in_key_order() {
    // Large enough that the inventory is handed back in several slices.
    let count = 100_000;
    let resources: Vec<Resource> = (0..count)
        .map(|n| {
            let group = if n % 4 == 0 { "rg-prod" } else { "rg-default" };
            let id = format!("i-{n:06}");
            resource(ResourceType::Instance, &id, &format!("n-{n}"), group, &[])
        })
        .collect();
    let plan = plan_of(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: instance\n",
        &inventory(resources),
    )
    .unwrap();
    // Every resource is claimed; those of n % 4 == 0 are in prod already.
    let expected: Vec<(String, String)> = (0..count)
        .filter(|n| n % 4 != 0)
        .map(|n| (format!("i-{n:06}"), format!("n-{n}")))
        .collect();
    let made: Vec<(String, String)> = plan
        .changes
        .iter()
        .map(|c| (c.resource.id.to_string(), c.name.to_string()))
        .collect();
    assert!(
        made == expected,
        "every move, once, in key order, with its own name"
    );
    assert!(
        plan.changes
            .iter()
            .all(|c| &*c.from.id == "rg-default" && &*c.to.id == "rg-prod"),
        "each from default to prod"
    );
    assert_eq!(plan.unchanged, count / 4, "prod's members stay");
}
