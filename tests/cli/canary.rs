//! `--canary`: a first move that does not land stops the run; one that
//! lands lets the rest go.

use crate::harness::{assert_has_line, groups_of, read_json, stdout_of, Setup, ALL_INTO_PROD};

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
    assert_has_line(&out, "Apply stopped: 0 moved, 5 failed, 15 not started, because the canary of 5 change(s) did not all land: instance/i-bp1test00000 (cn-hangzhou) is not_moved_despite_success");
    assert!(out.contains("is not_moved_despite_success"), "{out}");
    assert_eq!(env.writes(), 5, "exactly 5 joins expected");
    let report = read_json(&report);
    assert_eq!(
        report["not_started"].as_u64(),
        Some(15),
        "the 15 after the canary are not started: {report:#}"
    );
    assert!(
        report["stopped"].as_str().unwrap().contains("canary"),
        "the report says the canary stopped the run: {report:#}"
    );
}

#[test]
fn a_canary_that_lands_lets_the_rest_go() {
    let env = Setup::new().instances(12).manifest(ALL_INTO_PROD).start();
    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve", "--canary", "5"]));
    assert_eq!(code, 0, "{err}");
    assert_has_line(&out, "Apply complete! 12 moved, 0 failed.");
    assert!(
        groups_of(&env, 12).iter().all(|g| g == "rg-prod"),
        "all 12 instances end in rg-prod: {:?}",
        groups_of(&env, 12)
    );
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
