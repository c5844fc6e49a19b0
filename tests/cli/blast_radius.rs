//! Blast-radius limits for real accounts: `--max-changes` (and the
//! manifest's `max_changes`), `--max-errors`, and a rule that selects
//! everything must say `all`. `--canary` is in `canary.rs`.

use crate::harness::{assert_has_line, groups_of, read_json, stdout_of, Setup, ALL_INTO_PROD};
use crate::text::indoc;
use regroup::resource::ResourceType;

/// Every instance into prod, with the manifest's own limit.
fn all_into_prod_at_most(max_changes: &str) -> String {
    format!("{ALL_INTO_PROD}max_changes: {max_changes}\n")
}

#[test]
fn max_changes_refuses_a_plan_over_the_limit_and_apply_writes_nothing() {
    let env = Setup::new().instances(20).manifest(ALL_INTO_PROD).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan", "--max-changes", "10"]));
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(&err, "Error: the plan moves 20 resource(s), more than the 10 allowed by --max-changes 10, so nothing was changed");
    // The plan is still shown, so that the moves can be looked at.
    assert_has_line(&out, "Plan: 20 to move, 0 unchanged.");

    let saved = env.path("plan.json");
    let (code, _, err) =
        stdout_of(env.regroup(&["plan", "--max-changes", "10", "-o", saved.to_str().unwrap()]));
    assert_eq!(code, 1, "{err}");
    assert!(!saved.exists(), "a plan over the limit was saved");

    let (code, _, err) =
        stdout_of(env.regroup(&["apply", "--auto-approve", "--max-changes", "10"]));
    assert_eq!(code, 1, "{err}");
    assert_has_line(&err, "Error: the plan moves 20 resource(s), more than the 10 allowed by --max-changes 10, so nothing was changed");
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
    assert!(
        groups_of(&env, 20).iter().all(|g| g == "rg-default"),
        "every instance stays in rg-default: {:?}",
        groups_of(&env, 20)
    );

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
    assert_has_line(&err, "Error: the plan moves 20 resource(s), more than the 10 allowed by --max-changes 50% (of 20 managed resources), so nothing was changed");
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
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
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
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
    assert_has_line(&rest, "Apply stopped: 0 moved, 1 failed, 5 not started, because 1 join(s) failed, the most that --max-errors 1 allows");
    assert_eq!(env.writes(), 1, "exactly 1 join expected");
    let report = read_json(&report);
    assert_eq!(
        report["not_started"].as_u64(),
        Some(5),
        "5 not started after the first failure: {report:#}"
    );
    let outcomes = report["outcomes"].as_array().unwrap();
    let not_started: Vec<&serde_json::Value> = outcomes
        .iter()
        .filter(|o| o["status"] == "not_started")
        .collect();
    assert_eq!(
        not_started.len(),
        5,
        "5 outcomes are not_started: {not_started:?}"
    );
    assert!(
        not_started
            .iter()
            .all(|o| o["message"].as_str().unwrap().contains("--max-errors 1")),
        "each not_started outcome names --max-errors 1: {not_started:?}"
    );
    for n in 1..6 {
        assert_eq!(
            env.group_of(&format!("i-bp1test{n:05}")),
            "rg-default",
            "i-bp1test{n:05} should end in rg-default"
        );
    }
}

#[test]
fn a_rule_that_selects_everything_must_say_all() {
    let env = Setup::new()
        .instances(3)
        .manifest(&indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                select:
                  - {}
            ",
        ))
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
        indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                select:
                  - all: true
            ",
        ),
    )
    .unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert_has_line(&out, "Plan: 3 to move, 0 unchanged.");
}
