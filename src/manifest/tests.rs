use super::*;

const HEAD: &str = "version: 1\nregions: [cn-hangzhou]\ngroups:\n";

/// Malformed manifests: each must fail with exactly this location and a
/// message that starts like this.
const MALFORMED: &[(&str, &str, &str)] = &[
    ("empty file", "", "m.yaml:1:1: missing field `version`"),
    ("not a map", "- a\n- b\n", "m.yaml:1:1: invalid type: sequence, expected struct RawManifest"),
    ("syntax error", "version: 1\ngroups: \"prod\n", "m.yaml:3:1: found unexpected end of stream"),
    ("tab indentation", "version: 1\ngroups:\n\tprod: {}\n", "m.yaml:3:1: found character that cannot start any token"),
    ("missing version", "groups:\n  prod:\n    resources: [instance/i-1]\n", "m.yaml:1:1: missing field `version`"),
    ("version 2", "version: 2\ngroups: {}\n", "m.yaml:1:10: version: unsupported manifest version 2; this regroup reads version 1"),
    ("version as text", "version: one\ngroups: {}\n", "m.yaml:1:10: version: invalid type: string \"one\", expected the manifest version, 1"),
    ("missing groups", "version: 1\n", "m.yaml:1:1: missing field `groups`"),
    ("unknown top-level key", "version: 1\ngroup: {}\n", "m.yaml:2:1: unknown field `group`, expected one of `version`, `regions`, `groups`"),
    ("regions not a list", "version: 1\nregions: cn-hangzhou\ngroups: {}\n", "m.yaml:2:10: regions: invalid type: string \"cn-hangzhou\", expected a sequence"),
    ("bad region id", "version: 1\nregions: [CN_Hangzhou]\ngroups: {}\n", "m.yaml:2:11: regions[0]: `CN_Hangzhou` is not a region id"),
    ("empty groups", "version: 1\nregions: [cn-hangzhou]\ngroups: {}\n", "m.yaml:3:1: `groups` is empty"),
    ("groups as a list", "version: 1\ngroups:\n  - prod\n", "m.yaml:3:3: groups: invalid type: sequence, expected a map"),
    ("empty group", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod: {}\n", "m.yaml:4:3: group `prod` is empty"),
    ("group of nothing", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: []\n", "m.yaml:4:3: group `prod` is empty"),
    ("unknown group key", "version: 1\ngroups:\n  prod:\n    resource: [instance/i-1]\n", "m.yaml:4:5: groups.prod: unknown field `resource`, expected `resources` or `select`"),
    ("resources not a list", "version: 1\ngroups:\n  prod:\n    resources: instance/i-1\n", "m.yaml:4:16: groups.prod.resources: invalid type: string \"instance/i-1\", expected a sequence"),
    ("entry without slash", "version: 1\ngroups:\n  prod:\n    resources: [i-bp1abc]\n", "m.yaml:4:17: groups.prod.resources[0]: `i-bp1abc` is not `type/id` (like instance/i-bp1abc)"),
    ("unknown type", "version: 1\ngroups:\n  prod:\n    resources: [vm/i-bp1abc]\n", "m.yaml:4:17: groups.prod.resources[0]: unknown resource type `vm` (one of: instance, disk, snapshot, image, securitygroup, ddh, eni, keypair, launchtemplate)"),
    ("type in capitals", "version: 1\ngroups:\n  prod:\n    resources: [Instance/i-bp1abc]\n", "m.yaml:4:17: groups.prod.resources[0]: unknown resource type `Instance`"),
    ("id of another type", "version: 1\ngroups:\n  prod:\n    resources: [instance/d-bp1abc]\n", "m.yaml:4:17: groups.prod.resources[0]: `d-bp1abc` is not a instance id: instance ids start with `i-`"),
    ("id with a space", "version: 1\ngroups:\n  prod:\n    resources: [\"disk/d-bp1 abc\"]\n", "m.yaml:4:17: groups.prod.resources[0]: `d-bp1 abc` is not a disk id: expected `d-` followed by 1 to 64 letters and digits"),
    ("empty id", "version: 1\ngroups:\n  prod:\n    resources: [snapshot/]\n", "m.yaml:4:17: groups.prod.resources[0]: `` is not a snapshot id: snapshot ids start with `s-`"),
    ("bad key pair name", "version: 1\ngroups:\n  prod:\n    resources: [keypair/9lives]\n", "m.yaml:4:17: groups.prod.resources[0]: `9lives` is not a key pair name"),
    ("entry as a number", "version: 1\ngroups:\n  prod:\n    resources: [42]\n", "m.yaml:4:17: groups.prod.resources[0]: invalid type: integer `42`, expected a resource as `type/id` or as a map {type, id, region}"),
    ("map entry unknown key", "version: 1\ngroups:\n  prod:\n    resources:\n      - {type: disk, id: d-1, zone: a}\n", "m.yaml:5:31: groups.prod.resources[0]: unknown field `zone`, expected one of `type`, `id`, `region`"),
    ("map entry without id", "version: 1\ngroups:\n  prod:\n    resources:\n      - {type: disk}\n", "m.yaml:5:9: groups.prod.resources[0]: missing field `id`"),
    ("map entry unknown type", "version: 1\ngroups:\n  prod:\n    resources:\n      - {type: volume, id: d-1}\n", "m.yaml:5:16: groups.prod.resources[0].type: unknown variant `volume`"),
    ("map entry bad region", "version: 1\ngroups:\n  prod:\n    resources:\n      - {type: disk, id: d-1, region: Hangzhou}\n", "m.yaml:5:39: groups.prod.resources[0].region: `Hangzhou` is not a region id"),
    ("no region anywhere", "version: 1\ngroups:\n  prod:\n    resources:\n      - instance/i-1\n", "m.yaml:5:9: instance/i-1 names no region and the manifest has no `regions`"),
    ("rule without region", "version: 1\ngroups:\n  prod:\n    select:\n      - tags: {a: b}\n", "m.yaml:5:9: this select rule names no region"),
    ("duplicate in a group", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-1\n      - instance/i-1\n", "m.yaml:7:9: instance/i-1 is listed twice in group `prod` (also at m.yaml:6:9)"),
    ("same resource in two groups", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  dev:\n    resources: [instance/i-1]\n  prod:\n    resources: [instance/i-1]\n", "m.yaml:7:17: instance/i-1 is in group `prod` here and in group `dev` at m.yaml:5:17"),
    ("unknown rule key", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tag: {a: b}\n", "m.yaml:6:9: groups.prod.select[0]: unknown field `tag`, expected one of `type`, `tags`, `name`, `in_group`, `region`"),
    ("rule with unknown type", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: [instance, vm]\n", "m.yaml:6:26: groups.prod.select[0].type[1]: unknown variant `vm`"),
    ("rule with empty type list", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: []\n", "m.yaml:6:15: groups.prod.select[0].type: an empty list matches nothing"),
    ("rule with bad glob", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - name: \"pay-[\"\n", "m.yaml:6:15: groups.prod.select[0].name: `pay-[` is not a valid glob: unclosed character class"),
    ("tags not a map", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: [team]\n", "m.yaml:6:15: groups.prod.select[0].tags: invalid type: sequence, expected a map"),
    ("select not a list", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: {tags: {a: b}}\n", "m.yaml:5:13: groups.prod.select: invalid type: map, expected a sequence"),
    ("empty group key", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  \"\":\n    resources: [instance/i-1]\n", "m.yaml:4:3: a group key is empty"),
];

#[test]
fn malformed_manifests_say_what_and_where() {
    assert!(MALFORMED.len() >= 30);
    let mut wrong = Vec::new();
    for (name, text, expected) in MALFORMED {
        match Manifest::parse("m.yaml", text) {
            Ok(_) => wrong.push(format!("{name}: parsed, expected `{expected}`")),
            Err(error) => {
                let message = error.to_string();
                if !message.starts_with(expected) {
                    wrong.push(format!(
                        "{name}:\n    got      {message}\n    expected {expected}"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

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
    assert_eq!(prod.resources[1].regions, vec!["cn-shanghai".to_owned()]);
    assert_eq!(prod.resources[0].regions, vec!["cn-hangzhou".to_owned()]);
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
