//! Safety rails for real accounts (issue 15): the blast-radius limits
//! `--max-changes` (and the manifest's `max_changes`), `--max-errors` and
//! `--canary`.

use regroup::resource::ResourceType;

use crate::harness::{read_json, stdout_of, Running, Setup, ALL_INTO_PROD};

/// Every instance into prod, with the manifest's own limit.
fn all_into_prod_at_most(max_changes: &str) -> String {
    format!("{ALL_INTO_PROD}max_changes: {max_changes}\n")
}

/// Where every instance `i-bp1test<n>` is, in order.
fn groups_of(env: &Running, count: usize) -> Vec<String> {
    (0..count)
        .map(|n| env.group_of(&format!("i-bp1test{n:05}")))
        .collect()
}

#[test]
fn max_changes_refuses_a_plan_over_the_limit_and_apply_writes_nothing() {
    let env = Setup::new().instances(20).manifest(ALL_INTO_PROD).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan", "--max-changes", "10"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("the plan moves 20 resource(s), more than the 10 allowed by --max-changes 10"),
        "{err}"
    );
    // The plan is still shown, so that the moves can be looked at.
    assert!(out.contains("Plan: 20 to move"), "{out}");

    let saved = env.path("plan.json");
    let (code, _, err) =
        stdout_of(env.regroup(&["plan", "--max-changes", "10", "-o", saved.to_str().unwrap()]));
    assert_eq!(code, 1, "{err}");
    assert!(!saved.exists(), "a plan over the limit was saved");

    let (code, _, err) =
        stdout_of(env.regroup(&["apply", "--auto-approve", "--max-changes", "10"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("more than the 10 allowed"), "{err}");
    assert_eq!(env.writes(), 0);
    assert!(groups_of(&env, 20).iter().all(|g| g == "rg-default"));

    // At the limit is allowed.
    let (code, _, err) = stdout_of(env.regroup(&["plan", "--max-changes", "20"]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_share_counts_the_managed_resources_and_a_saved_plan_is_checked_too() {
    let env = Setup::new().instances(20).manifest(ALL_INTO_PROD).start();
    let saved = env.path("plan.json");
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", saved.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) =
        stdout_of(env.regroup(&["apply", saved.to_str().unwrap(), "--max-changes", "50%"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "the plan moves 20 resource(s), more than the 10 allowed by --max-changes 50% (of 20 managed resources)"
        ),
        "{err}"
    );
    assert_eq!(env.writes(), 0);
}

#[test]
fn the_manifest_sets_the_limit_and_the_flag_wins() {
    let env = Setup::new()
        .instances(20)
        .manifest(&all_into_prod_at_most("5"))
        .start();
    let (code, _, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("more than the 5 allowed by `max_changes: 5` in")
            && err.contains("regroup.yaml, so"),
        "{err}"
    );
    let (code, _, err) = stdout_of(env.regroup(&["plan", "--max-changes", "25"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.writes(), 0);
}

#[test]
fn max_errors_stops_starting_joins_after_that_many_failures() {
    let env = Setup::new().instances(6).manifest(ALL_INTO_PROD).start();
    let report = env.path("report.json");
    let mut session = rexpect::session::spawn_command(
        env.process(&[
            "apply",
            "--parallelism",
            "1",
            "--max-errors",
            "1",
            "--report",
            report.to_str().unwrap(),
        ]),
        Some(20_000),
    )
    .unwrap();
    session.exp_string("Enter a value:").unwrap();
    // The first join (the changes go in order, one at a time) now fails.
    env.delete(ResourceType::Instance, "i-bp1test00000");
    session.send_line("yes").unwrap();
    let rest = session.exp_eof().unwrap();
    assert!(
        rest.contains("Apply stopped: 0 moved, 1 failed, 5 not started, because 1 join(s) failed, the most that --max-errors 1 allows"),
        "{rest}"
    );
    assert_eq!(env.writes(), 1);
    let report = read_json(&report);
    assert_eq!(report["not_started"].as_u64(), Some(5));
    let outcomes = report["outcomes"].as_array().unwrap();
    let not_started: Vec<&serde_json::Value> = outcomes
        .iter()
        .filter(|o| o["status"] == "not_started")
        .collect();
    assert_eq!(not_started.len(), 5);
    assert!(not_started
        .iter()
        .all(|o| o["message"].as_str().unwrap().contains("--max-errors 1")));
    for n in 1..6 {
        assert_eq!(env.group_of(&format!("i-bp1test{n:05}")), "rg-default");
    }
}

#[test]
fn a_canary_that_does_not_land_stops_the_run() {
    let env = Setup::new()
        .instances(20)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| s.phantom_rate = 1.0)
        .start();
    let report = env.path("report.json");
    let (code, out, err) = stdout_of(env.regroup(&[
        "apply",
        "--auto-approve",
        "--canary",
        "5",
        "--report",
        report.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("Apply stopped: 0 moved, 5 failed, 15 not started, because the canary of 5 change(s) did not all land: instance/i-bp1test"),
        "{out}"
    );
    assert!(out.contains("is not_moved_despite_success"), "{out}");
    assert_eq!(env.writes(), 5);
    let report = read_json(&report);
    assert_eq!(report["not_started"].as_u64(), Some(15));
    assert!(report["stopped"].as_str().unwrap().contains("canary"));
}

#[test]
fn a_canary_that_lands_lets_the_rest_go() {
    let env = Setup::new().instances(12).manifest(ALL_INTO_PROD).start();
    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve", "--canary", "5"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Apply complete! 12 moved, 0 failed."), "{out}");
    assert!(groups_of(&env, 12).iter().all(|g| g == "rg-prod"));
    // The canary is read back on its own before the rest start: two
    // read-backs of joined instances, not one.
    let reads_after_first_join = env
        .requests()
        .iter()
        .skip_while(|r| r.action != "JoinResourceGroup")
        .filter(|r| r.action == "DescribeInstances")
        .count();
    assert!(reads_after_first_join >= 2, "{reads_after_first_join}");
}

#[test]
fn a_rule_that_selects_everything_must_say_all() {
    let env = Setup::new()
        .instances(3)
        .manifest("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - {}\n")
        .start();
    for command in ["validate", "plan"] {
        let (code, _, err) = stdout_of(env.regroup(&[command]));
        assert_eq!(code, 1, "{command}: {err}");
        assert!(
            err.contains("regroup.yaml:6:9: groups.prod.select[0]: this rule has no condition, so it selects every resource of its regions")
                && err.contains("hint: add a condition (`type`, `tags`, `name` or `in_group`), or write `all: true`"),
            "{command}: {err}"
        );
    }
    assert_eq!(env.requests().len(), 0, "a refused manifest made calls");
    std::fs::write(
        &env.manifest,
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - all: true\n",
    )
    .unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Plan: 3 to move"), "{out}");
}

/// prod is exclusive and names two of its five instances; a disk in prod
/// is of a type the manifest does not cover.
const PROD_EXCLUSIVE: &str = "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    exclusive: true\n    resources:\n      - instance/i-bp1test00000\n      - instance/i-bp1test00001\n";

fn prod_with_unlisted_members() -> Setup {
    let mut setup = Setup::new();
    for n in 0..5 {
        setup = setup.resource(
            ResourceType::Instance,
            &format!("i-bp1test{n:05}"),
            Some("rg-prod"),
        );
    }
    setup
        .resource(ResourceType::Instance, "i-bp1other", None)
        .resource(ResourceType::Disk, "d-bp1inprod", Some("rg-prod"))
}

#[test]
fn an_exclusive_group_evicts_its_unlisted_members_and_settles() {
    let env = prod_with_unlisted_members()
        .manifest(PROD_EXCLUSIVE)
        .start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    for n in 2..5 {
        assert!(
            out.contains(&format!(
                "  - instance/i-bp1test{n:05} (cn-hangzhou)  prod → default  # "
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("Plan: 0 to move, 3 to evict, 2 unchanged."),
        "{out}"
    );
    assert!(
        !out.contains("d-bp1inprod"),
        "a type the manifest does not cover: {out}"
    );

    let (code, json, _) = stdout_of(env.regroup(&["plan", "--format", "json"]));
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["evictions"], 3);
    let evicted = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["evict"] == true)
        .count();
    assert_eq!(evicted, 3);
    let (_, markdown, _) = stdout_of(env.regroup(&["plan", "--format", "markdown"]));
    assert!(
        markdown.contains("Plan: 0 to move, 3 to evict, 2 unchanged."),
        "{markdown}"
    );
    assert_eq!(
        markdown.matches("\n| - | `instance/").count(),
        3,
        "{markdown}"
    );

    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Apply complete! 3 moved, 0 failed."), "{out}");
    assert_eq!(
        groups_of(&env, 5),
        [
            "rg-prod",
            "rg-prod",
            "rg-default",
            "rg-default",
            "rg-default"
        ]
    );
    assert_eq!(env.group_of("d-bp1inprod"), "rg-prod");
    let (code, out, _) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0);
    assert!(out.contains("No changes."), "{out}");
}

#[test]
fn evict_to_names_where_evictions_go_and_cannot_be_exclusive_itself() {
    let manifest = format!("{PROD_EXCLUSIVE}evict_to: legacy\n");
    let env = prod_with_unlisted_members().manifest(&manifest).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("prod → legacy"), "{out}");
    assert!(out.contains("3 to evict"), "{out}");

    std::fs::write(&env.manifest, format!("{PROD_EXCLUSIVE}evict_to: prod\n")).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("regroup.yaml:9:11: evictions would go to `prod`, which is itself exclusive"),
        "{err}"
    );
}

#[test]
fn a_failed_listing_refuses_evictions_and_says_which() {
    let mut setup = prod_with_unlisted_members();
    setup.fleet.access_keys[0].denied_actions = vec!["ecs:DescribeInstances".into()];
    let env = setup.manifest(PROD_EXCLUSIVE).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("no plan was made, evictions included: an exclusive group's evictions are planned only from complete listings")
            && err.contains("DescribeInstances"),
        "{err}"
    );
    assert_eq!(env.writes(), 0);
}

#[test]
fn export_exclusive_marks_every_group_but_the_default_and_plans_no_changes() {
    let env = prod_with_unlisted_members()
        .resource(ResourceType::Instance, "i-bp1legacy", Some("rg-legacy"))
        .start();
    let (code, exported, err) =
        stdout_of(env.regroup(&["export", "--region", "cn-hangzhou", "--exclusive"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        exported.contains("  prod:\n    exclusive: true\n"),
        "{exported}"
    );
    assert!(
        exported.contains("  legacy:\n    exclusive: true\n"),
        "{exported}"
    );
    assert!(
        exported.contains("  default:\n    resources:"),
        "{exported}"
    );
    std::fs::write(&env.manifest, &exported).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("No changes."), "{out}");

    // Without the default group in the manifest, a resource that joins an
    // exclusive group behind its back is evicted.
    let (code, exported, err) = stdout_of(env.regroup(&[
        "export",
        "--region",
        "cn-hangzhou",
        "--group",
        "prod",
        "--group",
        "legacy",
        "--exclusive",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(!exported.contains("default"), "{exported}");
    std::fs::write(&env.manifest, &exported).unwrap();
    env.edit(|account| {
        for resource in account.resources.values_mut() {
            if resource.id == "i-bp1other" {
                resource.group = Some("rg-legacy".into());
            }
        }
    });
    let (_, out, _) = stdout_of(env.regroup(&["plan"]));
    assert!(
        out.contains("  - instance/i-bp1other (cn-hangzhou)  legacy → default"),
        "{out}"
    );
}

/// `export` without its header line (which carries the time).
fn membership(env: &Running) -> String {
    let (code, out, err) = stdout_of(env.regroup(&["export", "--region", "cn-hangzhou"]));
    assert_eq!(code, 0, "{err}");
    out.lines()
        .filter(|line| !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Six instances in default, two in legacy, a disk in dev; the manifest
/// puts every instance in prod.
fn mixed() -> Running {
    Setup::new()
        .instances(6)
        .resource(ResourceType::Instance, "i-bp1legacy0", Some("rg-legacy"))
        .resource(ResourceType::Instance, "i-bp1legacy1", Some("rg-legacy"))
        .resource(ResourceType::Disk, "d-bp1dev", Some("rg-dev"))
        .manifest(ALL_INTO_PROD)
        .start()
}

/// `apply --auto-approve --undo-plan undo.json --report report.json`,
/// which must succeed: the undo plan's path and what apply printed.
fn apply_with_undo(env: &Running) -> (std::path::PathBuf, String) {
    let (undo, _, out) = crate::harness::apply_recorded(env);
    (undo, out)
}

#[test]
fn an_undo_plan_restores_the_membership_before_the_apply() {
    let env = mixed();
    let before = membership(&env);
    let (undo, out) = apply_with_undo(&env);
    assert!(out.contains("Apply complete! 8 moved, 0 failed."), "{out}");
    assert!(
        out.contains("Saved the undo plan to")
            && out.contains("moves the 8 resource(s) moved here back"),
        "{out}"
    );
    assert_ne!(membership(&env), before);
    let saved = read_json(&undo);
    assert_eq!(saved["undo"], true);
    assert_eq!(saved["format_version"], 1);
    assert_eq!(saved["changes"].as_array().unwrap().len(), 8);

    let (code, out, err) = stdout_of(env.regroup(&["apply", undo.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Applying the undo plan"), "{out}");
    assert!(out.contains("Apply complete! 8 moved, 0 failed."), "{out}");
    assert_eq!(membership(&env), before);
}

#[test]
fn an_undo_plan_leaves_a_resource_moved_since_and_restores_the_rest() {
    let env = mixed();
    let (undo, _) = apply_with_undo(&env);
    env.edit(|account| {
        for resource in account.resources.values_mut() {
            if resource.id == "i-bp1test00002" {
                resource.group = Some("rg-dev".into());
            }
        }
    });
    let (code, out, _) = stdout_of(env.regroup(&["apply", undo.to_str().unwrap()]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("stale, not moved back: instance/i-bp1test00002 (cn-hangzhou): planned from rg-prod, now in rg-dev"),
        "{out}"
    );
    assert!(out.contains("7 moved, 0 failed, 1 not started"), "{out}");
    assert_eq!(env.group_of("i-bp1test00002"), "rg-dev");
    for id in ["i-bp1test00000", "i-bp1test00005"] {
        assert_eq!(env.group_of(id), "rg-default", "{id}");
    }
    for id in ["i-bp1legacy0", "i-bp1legacy1"] {
        assert_eq!(env.group_of(id), "rg-legacy", "{id}");
    }
}

#[test]
fn the_undo_plan_holds_exactly_what_moved_also_when_the_run_stops() {
    let env = Setup::new()
        .instances(20)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.phantom_rate = 0.5;
            s.seed = Some(7);
        })
        .start();
    let undo = env.path("undo.json");
    let report = env.path("report.json");
    let (code, _, err) = stdout_of(env.regroup(&[
        "apply",
        "--auto-approve",
        "--undo-plan",
        undo.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{err}");
    let report = read_json(&report);
    let moved: Vec<&str> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "moved")
        .map(|o| o["change"]["resource"]["id"].as_str().unwrap())
        .collect();
    assert!(!moved.is_empty() && moved.len() < 20, "{moved:?}");
    let saved = read_json(&undo);
    let undone: Vec<&str> = saved["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["resource"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(undone, moved);
    assert!(saved["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["from"]["id"] == "rg-prod" && c["to"]["id"] == "rg-default"));
}

#[test]
fn the_undo_plan_and_the_report_cannot_be_one_file() {
    let env = mixed();
    let (code, _, err) = stdout_of(env.regroup(&[
        "apply",
        "--auto-approve",
        "--undo-plan",
        "out.json",
        "--report",
        "out.json",
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("--report and --undo-plan name the same file"),
        "{err}"
    );
    assert_eq!(env.writes(), 0);
}
