//! Regions: a mistyped `--region` suggests the closest, and a region the
//! manifest does not read is a warning (a failure under `--strict`).

use crate::harness::{assert_has_line, Setup, EXAMPLE};

#[test]
fn a_mistyped_region_is_an_error_that_suggests_the_closest() {
    let env = Setup::new().example_fleet().start();
    let (code, out, err) = env.run(&[
        "plan",
        "-f",
        EXAMPLE,
        "--region",
        "cn-hangzou",
        "--detailed-exitcode",
    ]);
    assert_eq!(code, 1, "{out}");
    assert_has_line(&err, "Error: --region: `cn-hangzou` is not an Alibaba Cloud region id; did you mean cn-hangzhou?");
    assert_has_line(&err, "Error: --region: `cn-hangzou` is not an Alibaba Cloud region id; did you mean cn-hangzhou?");
    let (code, out, err) = env.run(&["export", "--region", "cn-shangai"]);
    assert_eq!(code, 1, "{out}");
    assert_has_line(&err, "Error: --region: `cn-shangai` is not an Alibaba Cloud region id; did you mean cn-shanghai?");
    let typo = std::fs::read_to_string(env.path(EXAMPLE))
        .expect("read")
        .replace("regions: [cn-hangzhou]", "regions: [cn-hangzou]");
    env.write("typo.yaml", &typo);
    let (code, out, err) = env.run(&["plan", "-f", "typo.yaml"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("typo.yaml:") && err.contains("did you mean cn-hangzhou?"),
        "{err}"
    );
    assert!(env.emulator.requests().is_empty(), "nothing was read");
}

#[test]
fn a_region_the_manifest_does_not_read_is_a_warning_and_a_strict_failure() {
    let env = Setup::new().example_fleet().start();
    let (code, out, err) = env.run(&["plan", "-f", EXAMPLE, "--region", "eu-central-1"]);
    assert_eq!(code, 0, "{err}");
    for expected in [
        "Warning: --region eu-central-1: examples/regroup.yaml reads no resource in this region (it reads cn-hangzhou, cn-shanghai)",
        "Warning: this plan manages 0 resources",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    let (code, _, err) = env.run(&[
        "plan",
        "-f",
        EXAMPLE,
        "--region",
        "eu-central-1",
        "--strict",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_has_line(&err, "Error: --strict fails the run on 2 warnings:");
}
