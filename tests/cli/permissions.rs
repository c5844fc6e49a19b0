//! RAM permissions end to end: a fleet key denied some actions, and what
//! `regroup plan`, `apply` and `policy` make of it.

use std::collections::BTreeSet;

use crate::harness::{assert_has_line, Setup, ALL_INTO_PROD};
use crate::text::indoc;
use regroup::resource::ResourceType;

const DISKS_AND_INSTANCES: &str = "\
version: 1
regions: [cn-hangzhou]
groups:
  prod:
    resources:
      - disk/d-bp1test00000
      - instance/i-bp1test00000
      - keypair/deploy-key
";

/// A disk, an instance and a key pair in the default group, and a key
/// denied `denied`.
fn three_denied(denied: &[&str]) -> Setup {
    Setup::new()
        .resource(ResourceType::Disk, "d-bp1test00000", None)
        .resource(ResourceType::Instance, "i-bp1test00000", None)
        .resource(ResourceType::KeyPair, "deploy-key", None)
        .deny(denied)
}

#[test]
fn plan_names_the_denied_read_in_one_line_and_writes_nothing() {
    let env = three_denied(&["ecs:DescribeDisks"])
        .manifest(DISKS_AND_INSTANCES)
        .start();
    let (code, out, err) = env.run(&["plan"]);
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].contains("ecs:DescribeDisks"), "{err}");
    assert!(lines[0].contains("SubUser testid"), "the principal: {err}");
    assert!(lines[0].contains("grant"), "the hint: {err}");
    assert!(
        !err.contains("User not authorized"),
        "no raw message: {err}"
    );
    assert_eq!(env.writes(), 0, "no join may reach the cloud");

    let (code, out, err) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(&err, "Error: missing RAM permission for SubUser testid: ecs:DescribeDisks; hint: grant it in RAM (`regroup policy -f MANIFEST` prints every permission regroup needs)");
    assert_eq!(env.writes(), 0, "apply stops before its first write");
}

/// More reads than run at once (32): after the first denial the reads not
/// started are only checked, with `DryRun=true` where the SDK model
/// documents it (DescribeInstances, DescribeDisks) and with one page where
/// it does not (DescribeKeyPairs).
#[test]
fn every_missing_read_is_named_and_dry_run_checks_where_documented() {
    const REGIONS: [&str; 24] = [
        "cn-hangzhou",
        "cn-shanghai",
        "cn-beijing",
        "cn-shenzhen",
        "cn-qingdao",
        "cn-zhangjiakou",
        "cn-huhehaote",
        "cn-chengdu",
        "cn-hongkong",
        "ap-southeast-1",
        "ap-northeast-1",
        "eu-central-1",
        "cn-guangzhou",
        "cn-heyuan",
        "cn-wulanchabu",
        "cn-nanjing",
        "us-east-1",
        "us-west-1",
        "eu-west-1",
        "me-east-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-5",
        "ap-northeast-2",
    ];
    let manifest = indoc(&format!(
        "
        version: 1
        regions: [{}]
        groups:
          prod:
            select:
              - type: [disk, instance, keypair]
        ",
        REGIONS.join(", ")
    ));
    let denied = [
        "ecs:DescribeDisks",
        "ecs:DescribeInstances",
        "ecs:DescribeKeyPairs",
    ];
    let env = three_denied(&denied).manifest(&manifest).start();
    let (code, _, err) = env.run(&["plan"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for action in denied {
        assert!(err.contains(action), "{action} missing from: {err}");
    }
    assert_has_line(&err, "Error: missing RAM permissions for SubUser testid: ecs:DescribeDisks, ecs:DescribeInstances, ecs:DescribeKeyPairs; hint: grant them in RAM (`regroup policy -f MANIFEST` prints every permission regroup needs)");
    let requests = env.requests();
    let dry_runs: Vec<&str> = requests
        .iter()
        .filter(|r| r.params.get("DryRun").is_some_and(|v| v == "true"))
        .map(|r| r.action.as_str())
        .collect();
    assert!(!dry_runs.is_empty(), "no read was checked by a dry run");
    for action in &dry_runs {
        assert!(
            ["DescribeInstances", "DescribeDisks"].contains(action),
            "{action}"
        );
    }
    // No more calls than reading all 72 (region, type) pairs, plus
    // ListResourceGroups and the GetAutoGroupingStatus read beside them.
    assert!(
        requests.len() <= REGIONS.len() * 3 + 2,
        "{} calls: {:?}",
        requests.len(),
        requests
            .iter()
            .map(|r| r.action.as_str())
            .collect::<Vec<_>>()
    );
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
}

#[test]
fn apply_stops_starting_joins_after_a_denied_one() {
    let env = Setup::new()
        .instances(40)
        .deny(&["ecs:JoinResourceGroup"])
        .manifest(ALL_INTO_PROD)
        .start();
    let (code, out, err) = env.run(&["apply", "--auto-approve", "--parallelism", "2"]);
    assert_eq!(code, 1, "{out}{err}");
    // At most the calls in flight when the first denial came back.
    assert!(env.writes() <= 2, "{} joins were sent", env.writes());
    assert!(out.contains("Apply stopped:"), "{out}");
    assert!(out.contains("38 not started"), "{out}");
    assert!(out.contains("ecs:JoinResourceGroup"), "{out}");
    assert_eq!(
        env.group_of("i-bp1test00000"),
        "rg-default",
        "i-bp1test00000 should end in rg-default"
    );
}

/// Every action in a policy document.
fn actions(policy: &serde_json::Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn policy_grants_exactly_what_the_manifest_needs() {
    let manifest = indoc(
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources:
              - disk/d-bp1test00000
            select:
              - type: disk
                tags: {team: pay}
        ",
    );
    let env = Setup::new().manifest(&manifest).start();
    let (code, out, err) = env.run(&["policy"]);
    assert_eq!(code, 0, "{err}");
    assert!(env.requests().is_empty(), "policy is offline");
    let policy: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(policy["Version"], "1", "policy version 1: {policy:#}");
    assert_eq!(
        actions(&policy),
        BTreeSet::from([
            "ecs:DescribeDisks".to_owned(),
            "ecs:JoinResourceGroup".to_owned(),
            "resourcemanager:ListResourceGroups".to_owned(),
        ]),
        "exactly the actions this manifest needs: {policy:#}"
    );
    assert_eq!(
        policy["Statement"][1]["Resource"],
        serde_json::json!(["acs:ecs:cn-hangzhou:*:disk/*"]),
        "the join is scoped to disks in cn-hangzhou: {policy:#}"
    );

    // The policy is enough: a key denied everything else plans fine.
    let everything_else = [
        "ecs:DescribeInstances",
        "ecs:DescribeSnapshots",
        "ecs:DescribeImages",
        "ecs:DescribeSecurityGroups",
        "ecs:DescribeDedicatedHosts",
        "ecs:DescribeNetworkInterfaces",
        "ecs:DescribeKeyPairs",
        "ecs:DescribeLaunchTemplates",
    ];
    let env = Setup::new()
        .resource(ResourceType::Disk, "d-bp1test00000", None)
        .deny(&everything_else)
        .manifest(&manifest)
        .start();
    let (code, out, err) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        env.group_of("d-bp1test00000"),
        "rg-prod",
        "d-bp1test00000 should end in rg-prod"
    );
}
