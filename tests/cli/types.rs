//! Every resource type `JoinResourceGroup` takes, end to end through the
//! real binary against an in-process emulator: plan → apply → plan again
//! has no changes, and an exported manifest plans to no changes; the same
//! with an emulator whose Describe* items leave the default group's
//! `ResourceGroupId` empty; and a target group that is not `OK` is refused
//! before any write; the default group is found by its name, not its display
//! name.

use crate::harness::{assert_has_line, stdout_of, Running, Setup};
use crate::text::indoc;
use regroup::resource::ResourceType;

const REGION: &str = "cn-hangzhou";

/// The `n`th resource of `rtype`, in `group` (`None`: the default).
fn resource(setup: Setup, rtype: ResourceType, n: usize, group: Option<&str>) -> Setup {
    setup.resource(rtype, &crate::support::id_of(rtype, n), group)
}

/// Each resource's id and group, as the account has them now.
fn groups(env: &Running) -> Vec<(String, Option<String>)> {
    env.snapshot()
        .resources
        .into_iter()
        .map(|r| (r.id, r.group))
        .collect()
}

/// Exports the account and checks that planning the export changes nothing.
fn export_round_trips(env: &Running, resources: usize) -> String {
    let (code, exported, err) = env.run(&["export", "--region", REGION]);
    assert_eq!(code, 0, "{err}");
    env.write("exported.yaml", &exported);
    let (code, out, err) = env.run(&["-f", "exported.yaml", "plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{exported}\n{out}{err}");
    assert!(
        out.starts_with(&format!("No changes. All {resources} resources")),
        "{out}"
    );
    exported
}

#[test]
fn every_type_plans_applies_converges_and_exports() {
    for rtype in ResourceType::ALL {
        // Two in the default group, one in dev; for dedicated hosts, one of
        // them in a state the API hides unless asked for.
        let mut setup = Setup::new();
        setup = resource(setup, rtype, 0, None);
        setup = resource(setup, rtype, 1, None);
        setup = resource(setup, rtype, 2, Some("rg-dev"));
        if rtype == ResourceType::Ddh {
            setup.fleet.resources[1].status = Some("UnderAssessment".into());
        }
        if rtype == ResourceType::Image {
            setup.fleet.resources[1].status = Some("CreateFailed".into());
        }
        let ids: Vec<String> = setup.fleet.resources.iter().map(|r| r.id.clone()).collect();
        let env = setup
            .manifest(&indoc(&format!(
                "
                version: 1
                regions: [{REGION}]
                groups:
                  prod:
                    resources:
                      - {rtype}/{}
                      - {rtype}/{}
                  default:
                    resources: [{rtype}/{}]
                ",
                ids[0], ids[1], ids[2]
            )))
            .start();

        let (code, out, err) = env.run(&["plan", "--detailed-exitcode", "-o", "plan.json"]);
        assert_eq!(code, 2, "{rtype}: {out}{err}");
        assert!(
            out.contains("Plan: 3 to move, 0 unchanged."),
            "{rtype}: {out}"
        );
        let (code, out, err) = env.run(&["apply", "plan.json", "--auto-approve"]);
        assert_eq!(code, 0, "{rtype}: {out}{err}");
        assert!(
            out.contains("Apply complete! 3 moved, 0 failed."),
            "{rtype}: {out}"
        );
        let mut groups = groups(&env);
        groups.sort();
        assert_eq!(
            groups,
            vec![
                (ids[0].clone(), Some("rg-prod".to_owned())),
                (ids[1].clone(), Some("rg-prod".to_owned())),
                (ids[2].clone(), None),
            ],
            "{rtype}"
        );
        let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(code, 0, "{rtype}: {out}{err}");
        assert!(out.starts_with("No changes."), "{rtype}: {out}");

        let exported = export_round_trips(&env, 3);
        for id in &ids {
            assert!(
                exported.contains(&format!("{rtype}/{id}")),
                "{rtype}: {exported}"
            );
        }
    }
}

#[test]
fn an_empty_default_group_id_is_read_as_the_default_group_either_way() {
    for empty in [true, false] {
        let mut setup = Setup::new().emulator(|s| s.empty_default_group_id = empty);
        for (n, rtype) in ResourceType::ALL.into_iter().enumerate() {
            setup = resource(setup, rtype, n, None);
            setup = resource(setup, rtype, 100 + n, Some("rg-prod"));
        }
        let resources = setup.fleet.resources.clone();

        // Everything in default to prod and back, through a saved plan, so
        // that the stale guard and verification read empty ids too.
        let mut manifest = indoc(&format!(
            "
            version: 1
            regions: [{REGION}]
            groups:
            "
        ));
        for (key, from) in [("prod", None), ("default", Some("rg-prod"))] {
            manifest.push_str(&format!("  {key}:\n    resources:\n"));
            for r in resources.iter().filter(|r| r.group.as_deref() == from) {
                manifest.push_str(&format!("      - {}/{}\n", r.rtype, r.id));
            }
        }
        let env = setup.manifest(&manifest).start();
        export_round_trips(&env, resources.len());
        let (code, out, err) = env.run(&["plan", "-o", "plan.json"]);
        assert_eq!(code, 0, "empty={empty}: {out}{err}");
        assert!(
            out.contains(&format!("Plan: {} to move, 0 unchanged.", resources.len())),
            "empty={empty}: {out}"
        );
        let (code, out, err) = env.run(&["apply", "plan.json", "--auto-approve"]);
        assert_eq!(code, 0, "empty={empty}: {out}{err}");
        assert!(
            out.contains(&format!(
                "Apply complete! {} moved, 0 failed.",
                resources.len()
            )),
            "empty={empty}: {out}"
        );
        let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(code, 0, "empty={empty}: {out}{err}");
        assert!(out.starts_with("No changes."), "empty={empty}: {out}");
        export_round_trips(&env, resources.len());
    }
}

#[test]
fn the_emulator_flag_leaves_the_default_group_id_empty() {
    let setup = resource(Setup::new(), ResourceType::Instance, 0, None);
    let env = resource(setup, ResourceType::Command, 1, Some("rg-prod")).start();
    env.save_fleet("fleet.yaml");
    let (code, out, err) = env.run(&[
        "emulator",
        "--fleet",
        "fleet.yaml",
        "--default-group-id",
        "empty",
        "--",
        "export",
        "--region",
        REGION,
    ]);
    assert_eq!(code, 0, "{err}");
    let instance = crate::support::id_of(ResourceType::Instance, 0);
    assert!(
        out.contains(&format!(
            "  default:\n    resources:\n      - instance/{instance}  # {instance}-name\n"
        )),
        "{out}"
    );
    let (code, _, err) = env.run(&[
        "emulator",
        "--fleet",
        "fleet.yaml",
        "--default-group-id",
        "none",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_has_line(
        &err,
        "error: invalid value 'none' for '--default-group-id <DEFAULT_GROUP_ID>'",
    );
}

#[test]
fn a_target_group_being_deleted_is_refused_before_any_write() {
    let mut setup = resource(Setup::new(), ResourceType::Disk, 0, None);
    setup.fleet.resource_groups[1].status = Some("PendingDelete".into());
    let disk = crate::support::id_of(ResourceType::Disk, 0);
    let env = setup
        .manifest(&indoc(&format!(
            "
            version: 1
            regions: [{REGION}]
            groups:
              prod:
                resources: [disk/{disk}]
            "
        )))
        .start();
    let (code, out, err) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(
            "regroup.yaml:4:3: resource group `prod` (rg-prod) is `PendingDelete`, not `OK`"
        ),
        "{err}"
    );
    assert!(
        env.requests()
            .iter()
            .all(|r| r.action != "JoinResourceGroup"),
        "no join is sent to a group being deleted"
    );
}

/// As docs/manifest.md "The default group" says: the
/// default group is the one whose `Name` is `default`, whatever the display
/// names say, and an empty `ResourceGroupId` is read as its id. (Pins
/// documented behaviour.)
#[test]
fn the_default_group_is_found_by_name_not_display_name() {
    let env = Setup::new()
        .instances(1)
        .manifest("version: 1\nregions: [cn-hangzhou]\ngroups:\n  default:\n    resources: [instance/i-bp1test00000]\n")
        .emulator(|s| s.empty_default_group_id = true)
        .start();
    env.edit(|account| {
        for group in &mut account.groups {
            group.display_name = match group.name.as_str() {
                "default" => Some("Default Resource Group".into()),
                "dev" => Some("default".into()),
                _ => None,
            };
        }
    });
    let (code, out, err) = stdout_of(env.regroup(&["plan", "--detailed-exitcode"]));
    assert_eq!(
        code, 0,
        "the instance in the default group was planned to move: {out}{err}"
    );
    assert!(out.contains("No changes."), "{out}");
    assert_eq!(env.group_of("i-bp1test00000"), "rg-default");
}
