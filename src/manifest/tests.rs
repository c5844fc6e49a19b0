use super::*;

const HEAD: &str = "version: 1\nregions: [cn-hangzhou]\ngroups:\n";

#[test]
fn errors_carry_a_fix_hint() {
    let error = Manifest::parse("m.yaml", "version: 1\ngroup: {}\n")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("\n  hint: remove or correct the key"),
        "{error}"
    );
}

#[test]
fn a_full_manifest_parses() {
    let text = format!(
        "{HEAD}  prod:\n    resources:\n      - instance/i-bp1aaa\n      - {{type: keypair, id: deploy-key, region: cn-shanghai}}\n    select:\n      - type: [instance, disk]\n        tags: {{team: payments}}\n        name: \"pay-*\"\n        in_group: legacy\n        region: cn-shanghai\n      - name: \"db-*\"\n"
    );
    let manifest = Manifest::parse("m.yaml", &text).unwrap();
    let prod = &manifest.groups[0];
    assert_eq!(prod.key, "prod");
    assert_eq!(*prod.resources[1].regions, ["cn-shanghai".to_owned()]);
    assert_eq!(*prod.resources[0].regions, ["cn-hangzhou".to_owned()]);
    assert_eq!(
        prod.rules[0].types,
        vec![ResourceType::Instance, ResourceType::Disk]
    );
    assert_eq!(prod.rules[0].in_group.as_deref(), Some("legacy"));
    assert_eq!(prod.rules[1].types.len(), 9);
    assert_eq!(prod.rules[1].location.line, 14);
    assert_eq!(manifest.sha256.len(), 64);
}

#[test]
fn region_limits_drop_what_lies_elsewhere() {
    let text = format!("{HEAD}  prod:\n    resources:\n      - instance/i-1\n      - {{type: disk, id: d-1, region: cn-shanghai}}\n");
    let mut manifest = Manifest::parse("m.yaml", &text).unwrap();
    manifest.limit_to_regions(&["cn-shanghai".to_owned()]);
    assert_eq!(manifest.groups[0].resources.len(), 1);
    assert_eq!(manifest.groups[0].resources[0].rtype, ResourceType::Disk);
}
