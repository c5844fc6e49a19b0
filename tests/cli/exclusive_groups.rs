//! Exclusive groups: an `exclusive` group evicts its unlisted members to
//! `evict_to`, a failed listing refuses evictions, and `export --exclusive`
//! round-trips.

use crate::harness::{assert_has_line, groups_of, stdout_of, Setup};
use regroup::resource::ResourceType;

/// prod is exclusive and names two of its five instances; a disk in prod
/// is of a type the manifest does not cover.
const PROD_EXCLUSIVE: &str = "\
version: 1
regions: [cn-hangzhou]
groups:
  prod:
    exclusive: true
    resources:
      - instance/i-bp1test00000
      - instance/i-bp1test00001
";

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
    assert_has_line(&out, "Plan: 0 to move, 3 to evict, 2 unchanged.");
    assert!(
        !out.contains("d-bp1inprod"),
        "a type the manifest does not cover: {out}"
    );

    let (code, json, _) = stdout_of(env.regroup(&["plan", "--format", "json"]));
    assert_eq!(code, 0, "exit code 0 expected:\n{json}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["evictions"], 3, "3 evictions planned: {json:#}");
    let evicted = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["evict"] == true)
        .count();
    assert_eq!(evicted, 3, "3 changes are evictions: {json:#}");
    let (_, markdown, _) = stdout_of(env.regroup(&["plan", "--format", "markdown"]));
    assert_has_line(
        &markdown,
        "<details><summary><b>Plan: 0 to move, 3 to evict, 2 unchanged.</b></summary>",
    );
    assert_eq!(
        markdown.matches("\n| - | `instance/").count(),
        3,
        "{markdown}"
    );

    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 0, "{err}");
    assert_has_line(&out, "Apply complete! 3 moved, 0 failed.");
    assert_eq!(
        groups_of(&env, 5),
        [
            "rg-prod",
            "rg-prod",
            "rg-default",
            "rg-default",
            "rg-default"
        ],
        "the two listed instances in prod, the three unlisted evicted to the default"
    );
    assert_eq!(
        env.group_of("d-bp1inprod"),
        "rg-prod",
        "d-bp1inprod should end in rg-prod"
    );
    let (code, out, _) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "exit code 0 expected:\n{out}");
    assert_has_line(
        &out,
        "No changes. All 2 resources the manifest manages are in their groups.",
    );
}

#[test]
fn evict_to_names_where_evictions_go_and_cannot_be_exclusive_itself() {
    let manifest = format!("{PROD_EXCLUSIVE}evict_to: legacy\n");
    let env = prod_with_unlisted_members().manifest(&manifest).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("prod → legacy"), "{out}");
    assert_has_line(&out, "Plan: 0 to move, 3 to evict, 2 unchanged.");

    std::fs::write(&env.manifest, format!("{PROD_EXCLUSIVE}evict_to: prod\n")).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
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
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
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
    assert_has_line(
        &out,
        "No changes. All 8 resources the manifest manages are in their groups.",
    );

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
