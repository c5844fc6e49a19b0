//! Undo plans (`apply --undo-plan FILE`): they restore the membership from
//! before the apply, leave what moved since, hold exactly what moved when a
//! run stops, and cannot share a file with the report.

use crate::harness::{
    assert_has_line, read_json, run_recorded, stdout_of, Running, Setup, ALL_INTO_PROD,
};
use regroup::resource::ResourceType;

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
    assert_has_line(&out, "Apply complete! 8 moved, 0 failed.");
    assert!(
        out.contains("Saved the undo plan to")
            && out.contains("moves the 8 resource(s) moved here back"),
        "{out}"
    );
    assert_ne!(membership(&env), before, "the apply changed the membership");
    let saved = read_json(&undo);
    assert_eq!(
        saved["undo"], true,
        "the undo plan is marked undo: {saved:#}"
    );
    assert_eq!(
        saved["format_version"], 1,
        "the undo plan is a version 1 plan: {saved:#}"
    );
    assert_eq!(
        saved["changes"].as_array().unwrap().len(),
        8,
        "the undo plan moves back the 8 moved: {saved:#}"
    );

    let (code, out, err) = stdout_of(env.regroup(&["apply", undo.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Applying the undo plan"), "{out}");
    assert_has_line(&out, "Apply complete! 8 moved, 0 failed.");
    assert_eq!(
        membership(&env),
        before,
        "the undo plan restored the membership from before the apply"
    );
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
    assert_eq!(
        env.group_of("i-bp1test00002"),
        "rg-dev",
        "i-bp1test00002 should end in rg-dev"
    );
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
    let (code, undo, report, _, err) = run_recorded(&env);
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
    assert_eq!(undone, moved, "the undo plan holds exactly what moved");
    assert!(
        saved["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["from"]["id"] == "rg-prod" && c["to"]["id"] == "rg-default"),
        "every undo change goes from rg-prod back to rg-default: {saved:#}"
    );
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
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert_has_line(
        &err,
        "Error: --report and --undo-plan name the same file, out.json and out.json",
    );
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
}
