//! `export`: a manifest of the account as it is, narrowed by region, type and group.

use crate::harness::{assert_has_line, ok, stdout_of, Setup, TRICKY_FLEET};
use crate::support;
use regroup::resource::ResourceType;

#[test]
fn export_then_plan_gives_no_changes() {
    let fleet = support::fleet(900);
    let env = Setup::new().fleet(fleet).start();
    let mut args = vec!["export"];
    for region in support::REGIONS {
        args.extend(["--region", region]);
    }
    let (code, exported, err) = stdout_of(env.regroup(&args));
    assert_eq!(code, 0, "{err}");
    assert!(exported.starts_with("# Exported by regroup"), "{exported}");
    // Groups keyed by name, all five, each with its members.
    for (_, name) in support::GROUPS {
        assert!(
            exported.contains(&format!("\n  {name}:\n    resources:\n")),
            "{name} missing"
        );
    }
    std::fs::write(env.path("exported.yaml"), &exported).unwrap();

    let (code, out, err) = stdout_of(env.regroup(&["-f", "exported.yaml", "validate"]));
    assert_eq!(code, 0, "{err}");
    assert_has_line(
        &out,
        "exported.yaml is valid: 5 groups, 900 explicit resources, 0 select rules.",
    );
    let (code, out, err) =
        stdout_of(env.regroup(&["-f", "exported.yaml", "plan", "--detailed-exitcode"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("No changes. All 900 resources"), "{out}");

    // The manifest's own JSON Schema accepts it.
    let (_, schema, _) = stdout_of(env.regroup(&["schema"]));
    let manifest = regroup::yaml_to_json("exported.yaml", &exported).unwrap();
    // And it would catch a mistake.
    let mut broken = manifest.clone();
    broken["groups"]["prod"]["resources"][0] = serde_json::json!("vm/i-1");
    assert_eq!(
        crate::schema::schema_accepts(&schema, &[manifest, broken]),
        [true, false],
        "the schema accepts the export and refuses a bad type"
    );
}

#[test]
fn export_narrows_by_type_and_group_and_keys_by_name() {
    let env = Setup::new()
        .instances(2)
        .resource(ResourceType::Disk, "d-bp1disk", Some("rg-prod"))
        .resource(ResourceType::Instance, "i-bp1prod", Some("rg-prod"))
        .start();
    let (code, out, err) = stdout_of(env.regroup(&[
        "export",
        "--region",
        "cn-hangzhou",
        "--type",
        "instance",
        "--group",
        "prod",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("regions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-bp1prod  # i-bp1prod-name\n"), "{out}");
    let (code, _, err) =
        stdout_of(env.regroup(&["export", "--region", "cn-hangzhou", "--group", "prd"]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert_has_line(&err, "Error: --group: no resource group has the id or name `prd`; closest names: prod, dev, legacy");
    let (code, _, err) = stdout_of(env.regroup(&["export"]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    // The test's manifest is empty: with no --region and nothing to read
    // the regions from, export says what to pass.
    assert!(
        err.starts_with(
            "Error: export reads the manifest's regions when no --region is given, and "
        ) && err.contains("does not load: pass --region ID (repeatable)"),
        "{err}"
    );
}

#[test]
fn an_export_of_tricky_names_validates_and_plans_no_changes() {
    let fleet: regroup::emulator::fleet::Fleet = serde_json::from_value(
        regroup::yaml_to_json("fleet.yaml", TRICKY_FLEET).expect("the fleet is YAML"),
    )
    .expect("the fleet parses");
    fleet.check().expect("the fleet is valid");
    let env = Setup::new().fleet(fleet).examples().start();
    let (text, _) = ok(
        &env,
        &[
            "export",
            "--region",
            "cn-hangzhou",
            "--region",
            "cn-shanghai",
        ],
    );
    assert!(text.contains("\n  \"yes\":\n"), "{text}");
    assert_has_line(
        &text,
        "      - {type: keypair, id: \"on\", region: cn-hangzhou}  # on",
    );
    assert_has_line(
        &text,
        "      - {type: keypair, id: \"No\", region: cn-shanghai}  # No",
    );
    // rg-b's name is rg-c's id, which a key would be read as: rg-b is
    // keyed by its own id.
    assert!(!text.contains("\n  rg-c:\n"), "{text}");
    assert!(text.contains("\n  rg-b:\n"), "{text}");
    env.write("exported.yaml", &text);
    ok(&env, &["validate", "-f", "exported.yaml"]);
    let (plan, _) = ok(
        &env,
        &["plan", "-f", "exported.yaml", "--detailed-exitcode"],
    );
    assert_has_line(
        &plan,
        "No changes. All 5 resources the manifest manages are in their groups.",
    );
}

#[test]
fn an_export_with_nothing_to_export_is_an_error_not_an_invalid_file() {
    let env = Setup::new().example_fleet().start();
    let (code, out, err) = env.run(&["export", "--region", "cn-beijing"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty(), "{out}");
    assert_has_line(
        &err,
        "Error: nothing to export: no resources in cn-beijing, and a manifest needs at least one",
    );
    assert_has_line(
        &err,
        "Error: nothing to export: no resources in cn-beijing, and a manifest needs at least one",
    );
}

/// Issue 24 item 11: without `--region`, export reads the regions of the
/// manifest (`-f`), and `--region` still chooses others; every entry is
/// followed by its resource's name as a comment.
#[test]
fn export_without_region_reads_the_manifests_regions_and_names_each_resource() {
    let env = Setup::new()
        .resource(ResourceType::Instance, "i-bp1hz", Some("rg-prod"))
        .resource_in("cn-shanghai", ResourceType::Disk, "d-uf6sh", Some("rg-prod"))
        .manifest("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-bp1hz]\n")
        .start();
    let body = |out: &str| out.lines().skip(2).collect::<Vec<_>>().join("\n");
    let (code, out, err) = stdout_of(env.regroup(&["export"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        body(&out),
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-bp1hz  # i-bp1hz-name",
        "the manifest's region only, the name after the entry"
    );
    let (code, out, err) = stdout_of(env.regroup(&["export", "--region", "cn-shanghai"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        body(&out),
        "version: 1\nregions: [cn-shanghai]\ngroups:\n  prod:\n    resources:\n      - disk/d-uf6sh  # d-uf6sh-name",
        "--region still chooses"
    );

    // The export, names and all, plans to no changes.
    let (_, exported, _) = stdout_of(env.regroup(&[
        "export",
        "--region",
        "cn-hangzhou",
        "--region",
        "cn-shanghai",
    ]));
    assert!(
        exported
            .contains("      - {type: disk, id: d-uf6sh, region: cn-shanghai}  # d-uf6sh-name\n"),
        "{exported}"
    );
    env.write("exported.yaml", &exported);
    let (code, out, err) =
        stdout_of(env.regroup(&["-f", "exported.yaml", "plan", "--detailed-exitcode"]));
    assert_eq!(code, 0, "{out}{err}");
}
