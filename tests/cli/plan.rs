//! `plan`: what it moves, what it leaves, and how few reads it takes.

use crate::harness::{assert_has_line, calls_of, ok, stdout_of, Setup, TWO_INTO_PROD};
use crate::support;
use crate::text::indoc;
use regroup::resource::ResourceType;

#[test]
fn plan_apply_then_nothing_left_to_do() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();

    let (code, out, _) = stdout_of(env.regroup(&["plan", "--detailed-exitcode"]));
    assert_eq!(code, 2, "{out}");
    let home = env.home().to_str().expect("a UTF-8 temporary folder");
    assert_eq!(
        out.replace(home, "HOME"),
        indoc(
            "
            regroup will move these resources:

              ~ instance/i-bp1test00000 (cn-hangzhou)  default → prod  # HOME/regroup.yaml:6:9
              ~ instance/i-bp1test00001 (cn-hangzhou)  default → prod  # HOME/regroup.yaml:7:9

            Groups, before → after:
              default (rg-default)
                - instance/i-bp1test00000 (cn-hangzhou)
                - instance/i-bp1test00001 (cn-hangzhou)
              prod (rg-prod)
                + instance/i-bp1test00000 (cn-hangzhou)
                + instance/i-bp1test00001 (cn-hangzhou)

            Plan: 2 to move, 0 unchanged.
            ",
        ),
        "the plan, line for line (the third instance is not in it)"
    );
    assert_eq!(env.writes(), 0, "plan never writes");

    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_has_line(&out, "Apply complete! 2 moved, 0 failed.");
    assert_eq!(
        env.group_of("i-bp1test00000"),
        "rg-prod",
        "i-bp1test00000 should end in rg-prod"
    );
    assert_eq!(
        env.group_of("i-bp1test00001"),
        "rg-prod",
        "i-bp1test00001 should end in rg-prod"
    );
    assert_eq!(
        env.group_of("i-bp1test00002"),
        "rg-default",
        "i-bp1test00002 should end in rg-default"
    );

    let (code, out, _) = stdout_of(env.regroup(&["plan", "--detailed-exitcode"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("No changes."), "{out}");
}

#[test]
fn a_thousand_explicit_instances_take_ten_reads() {
    let mut manifest = indoc(
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources:
        ",
    );
    for n in 0..1_000 {
        manifest.push_str(&format!("      - instance/i-bp1test{n:05}\n"));
    }
    let env = Setup::new().instances(1_500).manifest(&manifest).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert_has_line(&out, "Plan: 1000 to move, 0 unchanged.");
    let calls = calls_of(&env);
    assert_eq!(calls.get("DescribeInstances"), Some(&10), "{calls:?}");
    assert_eq!(calls.get("ListResourceGroups"), Some(&1), "{calls:?}");
    // Auto grouping is off: its status is read, no rules are listed.
    assert_eq!(calls.get("GetAutoGroupingStatus"), Some(&1), "{calls:?}");
    assert_eq!(calls.len(), 3, "{calls:?}");
}

#[test]
fn a_select_over_a_thousand_disks_takes_two_reads() {
    let env = Setup::new()
        .many(ResourceType::Disk, 1_000)
        .instances(10)
        .manifest(&indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                select:
                  - type: disk
            ",
        ))
        .start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert_has_line(&out, "Plan: 1000 to move, 0 unchanged.");
    let calls = calls_of(&env);
    assert_eq!(calls.get("DescribeDisks"), Some(&2), "{calls:?}");
    assert_eq!(
        calls.len(),
        3,
        "only disks, the groups and the auto-grouping status are read: {calls:?}"
    );
}

#[test]
fn an_unknown_group_name_lists_the_closest_and_writes_nothing() {
    let env = Setup::new()
        .instances(1)
        .manifest(&indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prd:
                resources: [instance/i-bp1test00000]
            ",
        ))
        .start();
    let (code, _, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "regroup.yaml:4:3: no resource group has the id or name `prd`; closest names: prod"
        ),
        "{err}"
    );
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
}

#[test]
fn ignore_missing_plans_the_rest_with_a_warning() {
    let env = Setup::new()
        .instances(1)
        .manifest(&indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                resources:
                  - instance/i-bp1test00000
                  - instance/i-bp1gone
            ",
        ))
        .start();
    let (code, _, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert!(
        err.contains("regroup.yaml:7:9: instance/i-bp1gone in cn-hangzhou"),
        "{err}"
    );
    let (code, out, err) =
        stdout_of(env.regroup(&["plan", "--ignore-missing", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        plan["missing"][0]["id"], "i-bp1gone",
        "the missing resource is listed: {plan:#}"
    );
    assert_eq!(
        plan["changes"].as_array().unwrap().len(),
        1,
        "the rest is planned: {plan:#}"
    );
    assert!(
        plan["warnings"][0]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "a warning says it does not exist: {plan:#}"
    );
}

#[test]
fn a_thousand_resources_of_every_type_are_read_in_the_fewest_calls() {
    let fleet = support::fleet(1_000);
    let minimum_by_id = support::minimum_calls_by_id(&fleet);
    let minimum_listing = support::minimum_calls_to_list(&fleet);
    for (manifest, minimum) in [
        (support::explicit_manifest(&fleet), minimum_by_id),
        (support::select_manifest(), minimum_listing),
    ] {
        let env = Setup::new()
            .fleet(fleet.clone())
            .manifest(&manifest)
            .start();
        let (code, out, err) = stdout_of(env.regroup(&["plan", "--format", "json"]));
        assert_eq!(code, 0, "{err}");
        let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
        let planned = plan["changes"].as_array().unwrap().len()
            + plan["unchanged"].as_u64().unwrap() as usize;
        assert_eq!(
            planned, 1_000,
            "every one of the 1,000 resources is planned or unchanged"
        );
        // And one GetAutoGroupingStatus (off here), for a plan with moves.
        let calls = env.requests().len();
        assert_eq!(calls, minimum + 1, "{:?}", calls_of(&env));
    }
    eprintln!("1,000 resources: {minimum_by_id} calls by id, {minimum_listing} by listing");
}

#[test]
fn counts_of_one_are_singular() {
    let env = Setup::new().example_fleet().start();
    std::fs::write(
        env.path("one.yaml"),
        indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                resources: [instance/i-bp1ooooooooooooooooo]
                select:
                  - {type: keypair}
            ",
        ),
    )
    .expect("written");
    let (valid, _) = ok(&env, &["validate", "-f", "one.yaml"]);
    assert_has_line(
        &valid,
        "one.yaml is valid: 1 group, 1 explicit resource, 1 select rule.",
    );
    std::fs::write(
        env.path("one.yaml"),
        indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                resources: [instance/i-bp1ooooooooooooooooo]
            ",
        ),
    )
    .expect("written");
    let (plan, _) = ok(&env, &["plan", "-f", "one.yaml"]);
    assert_has_line(
        &plan,
        "No changes. The 1 resource the manifest manages is in its group.",
    );
}

#[test]
fn a_markdown_plan_of_thousands_of_missing_ids_shows_the_move_within_the_limit() {
    let env = Setup::new().example_fleet().start();
    let mut manifest = indoc(
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources:
              - instance/i-bp1aaaaaaaaaaaaaaaaa
        ",
    );
    for n in 0..3_000 {
        manifest.push_str(&format!("      - instance/i-bp1gone{n:05}\n"));
    }
    env.write("missing.yaml", &manifest);
    let (out, _) = ok(
        &env,
        &[
            "plan",
            "-f",
            "missing.yaml",
            "--ignore-missing",
            "--format",
            "markdown",
        ],
    );
    assert!(
        out.chars().count() <= 65_536,
        "{} characters",
        out.chars().count()
    );
    assert!(
        out.contains("`instance/i-bp1aaaaaaaaaaaaaaaaa`"),
        "the move is shown"
    );
    assert!(
        out.contains("more warnings are not shown"),
        "the cut is said"
    );
}
