//! The manifest loader: a full manifest, positions, hints, duplicate keys,
//! agreement with the JSON Schema, region limits, and that no input makes
//! it panic or shows an internal name. The table of malformed manifests,
//! with their exact messages, runs through the CLI in `tests/cli/validate.rs`.

use super::*;

const HEAD: &str = "version: 1\nregions: [cn-hangzhou]\ngroups:\n";

#[test]
fn errors_carry_a_fix_hint() {
    let error = Manifest::parse("m.yaml", "version: 1\ngroup: {}\n")
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with("\n  hint: did you mean `groups`? The keys allowed here: `version`, `regions`, `max_changes`, `evict_to`, `accounts`, `groups`"),
        "{error}"
    );
}

/// The problem and place of a manifest that must fail.
fn failure(text: &str) -> (Location, String, Problem) {
    match Manifest::parse("m.yaml", text) {
        Err(ManifestError::Invalid {
            location,
            path,
            problem,
        }) => (location, path.to_string(), *problem),
        other => panic!("expected a problem, got {other:?}"),
    }
}

#[test]
fn duplicate_keys_at_every_level_name_both_places() {
    let cases = [
        (
            "version: 1\nversion: 1\nregions: [cn-hangzhou]\ngroups:\n  a:\n    resources: [instance/i-1]\n",
            "",
            "version",
            (1, 1),
            (2, 1),
        ),
        (
            "version: 1\nregions: [cn-hangzhou]\nregions: [cn-beijing]\ngroups:\n  a:\n    resources: [instance/i-1]\n",
            "",
            "regions",
            (2, 1),
            (3, 1),
        ),
        (
            &format!("{HEAD}  prod:\n    resources: [instance/i-1]\n  prod:\n    resources: [instance/i-2]\n"),
            "groups",
            "prod",
            (4, 3),
            (6, 3),
        ),
        (
            &format!("{HEAD}  prod:\n    select:\n      - tags:\n          team: a\n          env: b\n          team: c\n"),
            "groups.prod.select[0].tags",
            "team",
            (7, 11),
            (9, 11),
        ),
        (
            &format!("{HEAD}  prod:\n    select:\n      - type: disk\n        type: eni\n"),
            "groups.prod.select[0]",
            "type",
            (6, 9),
            (7, 9),
        ),
        (
            &format!("{HEAD}  prod:\n    resources:\n      - {{type: disk, id: d-1, region: cn-beijing, region: cn-hangzhou}}\n"),
            "groups.prod.resources[0]",
            "region",
            (6, 31),
            (6, 51),
        ),
    ];
    for (text, path, key, first, second) in cases {
        let (location, at, problem) = failure(text);
        let position = |(line, column)| Position { line, column };
        assert_eq!(
            problem,
            Problem::DuplicateKey {
                key: key.into(),
                first: position(first),
                second: position(second),
            },
            "{text}"
        );
        assert_eq!((location.line, location.column), second, "{text}");
        assert_eq!(at, path, "{text}");
        let message = Manifest::parse("m.yaml", text).unwrap_err().to_string();
        let both = format!(
            "first at {}:{}, again at {}:{}",
            first.0, first.1, second.0, second.1
        );
        assert!(message.contains(&both), "{message}");
    }
}

#[test]
fn positions_are_those_of_groups_entries_and_rules() {
    let text = format!("{HEAD}  prod:\n    resources:\n      - instance/i-1\n      - {{type: disk, id: d-1}}\n      - type: eni\n        id: eni-1\n    select:\n      - tags: {{a: b}}\n  dev:\n    resources: [instance/i-2]\n");
    let manifest = Manifest::parse("m.yaml", &text).unwrap();
    let at = |l: &Location| (l.line, l.column);
    // Groups come sorted by key.
    let (dev, prod) = (&manifest.groups[0], &manifest.groups[1]);
    assert_eq!(at(&prod.location), (4, 3));
    let entries: Vec<_> = prod.resources.iter().map(|e| at(&e.location)).collect();
    assert_eq!(entries, [(6, 9), (7, 10), (8, 9)]);
    assert_eq!(at(&prod.rules[0].location), (11, 9));
    assert_eq!(at(&dev.location), (12, 3));
    assert_eq!(at(&dev.resources[0].location), (13, 17));
}

#[test]
fn values_yaml_reads_as_numbers_or_booleans_are_not_text() {
    for (value, found) in [
        ("1", Found::Number("1".into())),
        ("1.5", Found::Number("1.5".into())),
        ("0x1f", Found::Number("0x1f".into())),
        ("true", Found::Bool("true".into())),
        ("FALSE", Found::Bool("FALSE".into())),
    ] {
        let text = format!("{HEAD}  prod:\n    select:\n      - tags: {{n: {value}}}\n");
        let (_, path, problem) = failure(&text);
        assert_eq!(path, "groups.prod.select[0].tags.n");
        assert_eq!(
            problem,
            Problem::Unquoted {
                expected: "a tag value (text)",
                found
            }
        );
        assert!(problem.hint().contains(&format!("\"{value}\"")));
        // Quoted, or words YAML 1.2 reads as text, they are tag values.
        for written in [format!("\"{value}\""), format!("'{value}'")] {
            let text = format!("{HEAD}  prod:\n    select:\n      - tags: {{n: {written}}}\n");
            let manifest = Manifest::parse("m.yaml", &text).unwrap();
            assert_eq!(manifest.groups[0].rules[0].tags["n"], value);
        }
    }
    let text = format!("{HEAD}  2024:\n    select:\n      - tags: {{n: yes, m: \"01\"}}\n");
    let manifest = Manifest::parse("m.yaml", &text).unwrap();
    assert_eq!(manifest.groups[0].key, "2024");
    assert_eq!(manifest.groups[0].rules[0].tags["n"], "yes");
}

#[test]
fn yaml_to_json_reads_the_core_schema_and_refuses_duplicates() {
    let value = yaml_to_json(
        "f.yaml",
        "a: [1, -2, 0x10, 0o7, 1.5, .inf, true, ~, '1', yes, \"x\"]\nb: {c: {d: e}}\n",
    )
    .unwrap();
    assert_eq!(
        value,
        serde_json::json!({"a": [1, -2, 16, 7, 1.5, null, true, null, "1", "yes", "x"], "b": {"c": {"d": "e"}}})
    );
    let error = yaml_to_json("f.yaml", "a:\n  b: 1\n  c: 2\n  b: 3\n")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("f.yaml:4:3: a: `b` is given twice: first at 2:3, again at 4:3"),
        "{error}"
    );
    let error = yaml_to_json("f.yaml", "a: &x [1]\nb: *x\n")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("f.yaml:2:4: b: aliases"), "{error}");
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let error = yaml_to_json("f.yaml", &deep).unwrap_err().to_string();
    assert!(error.contains("nested too deeply"), "{error}");
}

#[test]
fn exported_scalars_read_back_as_the_same_text() {
    for text in [
        "prod",
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "n",
        "true",
        "null",
        "~",
        "1",
        "0x1f",
        "1.5",
        "",
        " lead",
        "trail ",
        "a: b",
        "a #b",
        "-x",
        "- x",
        "*x",
        "&x",
        "!x",
        "%x",
        "@x",
        "`x",
        "a,b",
        "[x]",
        "{x}",
        "it's",
        "say \"hi\"",
        "back\\slash",
        "two\nlines",
        "tab\there",
        "日本",
        "<<",
        "=",
    ] {
        let written = export::scalar(text);
        let read = yaml_to_json("e.yaml", &format!("k: {written}\nl: [{written}]\n")).unwrap();
        assert_eq!(read["k"], text, "{text:?} written as {written}");
        assert_eq!(read["l"][0], text, "{text:?} written as {written}");
    }
    // What needs no quotes gets none.
    assert_eq!(export::scalar("rg-acfmprod00000001"), "rg-acfmprod00000001");
    assert_eq!(export::scalar("instance/i-bp1abc"), "instance/i-bp1abc");
    assert_eq!(export::scalar("yes"), "\"yes\"");
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
    assert_eq!(prod.rules[1].types, ResourceType::ALL.to_vec());
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

/// Whether a message is free of the names of our types and of serde's
/// wording, which mean nothing to the person who wrote the manifest.
fn says_nothing_internal(message: &str) -> bool {
    [
        "Raw",
        "expected struct",
        "variant",
        "invalid type",
        "serde",
        "Option<",
        "Vec<",
    ]
    .iter()
    .all(|name| !message.contains(name))
}

#[test]
fn messages_name_no_internal_type() {
    for text in [
        "- a\n",
        "version: 1\ngroups: [a]\n",
        "version: 1\ngroups:\n  prod: [a]\n",
        "version: 1\ngroups:\n  prod:\n    resources: {a: b}\n",
        "version: 1\ngroups:\n  prod:\n    select: [a]\n",
        "version: 1\ngroups:\n  prod:\n    select: [{type: vm}]\n",
        "version: 1\ngroups:\n  prod:\n    resources: [{type: volume, id: v}]\n",
        "version: one\n",
    ] {
        let message = Manifest::parse("m.yaml", text).unwrap_err().to_string();
        assert!(says_nothing_internal(&message), "{message}");
        assert!(message.contains("\n  hint: "), "{message}");
    }
}

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    /// YAML-shaped values: scalars, lists and maps, nested a few levels.
    fn yaml_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z/0-9*-]{0,12}".prop_map(serde_json::Value::from),
            Just(serde_json::json!(1)),
            Just(serde_json::json!("instance/i-1")),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("version".to_owned()),
                        Just("regions".to_owned()),
                        Just("groups".to_owned()),
                        Just("resources".to_owned()),
                        Just("select".to_owned()),
                        Just("type".to_owned()),
                        Just("tags".to_owned()),
                        "[a-z]{1,6}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn on_arbitrary_text(text in ".{0,400}") {
            let _ = Manifest::parse("m.yaml", &text);
        }

        #[test]
        fn on_arbitrary_yaml(value in yaml_value()) {
            // JSON is YAML (flow style).
            let text = value.to_string();
            if let Err(error) = Manifest::parse("m.yaml", &text) {
                prop_assert!(says_nothing_internal(&error.to_string()), "{error}");
            }
        }

        #[test]
        fn on_a_valid_manifest_with_bytes_changed(at in 0usize..200, with in any::<char>()) {
            let mut text: Vec<char> = format!("{HEAD}  prod:\n    resources:\n      - instance/i-bp1aaa\n      - {{type: keypair, id: k1, region: cn-shanghai}}\n    select:\n      - {{type: [disk], tags: {{a: b}}, name: \"x*\", in_group: g}}\n").chars().collect();
            let at = at % text.len();
            text[at] = with;
            let text: String = text.into_iter().collect();
            if let Err(error) = Manifest::parse("m.yaml", &text) {
                let message = error.to_string();
                prop_assert!(message.starts_with("m.yaml:"), "{message}");
                prop_assert!(message.contains("\n  hint: "), "{message}");
                prop_assert!(says_nothing_internal(&message), "{message}");
            }
        }
    }
}

#[test]
fn max_changes_is_a_count_or_a_share_and_a_bad_one_says_where() {
    let limit = |text: &str| {
        Manifest::parse(
            "m.yaml",
            &format!("{HEAD}  prod:\n    resources: [instance/i-1]\nmax_changes: {text}\n"),
        )
        .map(|m| m.max_changes)
    };
    assert_eq!(limit("50").unwrap(), Some(MaxChanges::Count(50)));
    assert_eq!(limit("\"50\"").unwrap(), Some(MaxChanges::Count(50)));
    assert_eq!(limit("2.5%").unwrap(), Some(MaxChanges::Percent(2.5)));
    assert_eq!(limit("~").unwrap(), None);
    let (location, path, problem) = failure(&format!(
        "{HEAD}  prod:\n    resources: [instance/i-1]\nmax_changes: 120%\n"
    ));
    assert_eq!((location.line, location.column), (6, 14));
    assert_eq!(path, "max_changes");
    assert_eq!(problem.to_string(), "`120%` is not a share from 0% to 100%");
    let (_, _, problem) = failure(&format!(
        "{HEAD}  prod:\n    resources: [instance/i-1]\nmax_changes: true\n"
    ));
    assert!(matches!(problem, Problem::WrongShape { .. }), "{problem:?}");
}

#[test]
fn a_share_of_the_managed_resources_rounds_down() {
    assert_eq!(MaxChanges::Percent(10.0).limit(15), 1);
    assert_eq!(MaxChanges::Percent(50.0).limit(20), 10);
    assert_eq!(MaxChanges::Percent(100.0).limit(7), 7);
    assert_eq!(MaxChanges::Count(3).limit(1_000), 3);
    for bad in ["-1", "1.5", "x%", "%", "-5%", "100.1%"] {
        assert!(bad.parse::<MaxChanges>().is_err(), "{bad}");
    }
    assert_eq!(MaxChanges::Percent(5.0).to_string(), "5%");
}

#[test]
fn a_rule_without_conditions_needs_all_true() {
    for rule in [
        "{}",
        "{region: cn-hangzhou}",
        "{tags: {}}",
        "{all: false}",
        "{type: ~, name: ~}",
    ] {
        let (location, path, problem) =
            failure(&format!("{HEAD}  prod:\n    select:\n      - {rule}\n"));
        assert_eq!(problem, Problem::SelectsEverything, "{rule}");
        assert_eq!(location.line, 6, "{rule}");
        assert_eq!(path, "groups.prod.select[0]", "{rule}");
        assert!(problem.hint().contains("`all: true`"), "{rule}");
    }
    let manifest = Manifest::parse(
        "m.yaml",
        &format!("{HEAD}  prod:\n    select: [{{all: true}}]\n"),
    )
    .unwrap();
    let rule = &manifest.groups[0].rules[0];
    assert_eq!(rule.types, ResourceType::ALL.to_vec());
    assert!(rule.tags.is_empty() && rule.name.is_none() && rule.in_group.is_none());
}

#[test]
fn exclusive_and_evict_to_are_read_with_their_places() {
    let manifest = Manifest::parse(
        "m.yaml",
        &format!("{HEAD}  prod:\n    exclusive: true\n    resources: [instance/i-1]\n  dev:\n    resources: [instance/i-2]\nevict_to: legacy\n"),
    )
    .unwrap();
    let exclusive: Vec<bool> = manifest.groups.iter().map(|g| g.exclusive).collect();
    assert_eq!(exclusive, [false, true], "dev, prod");
    assert!(manifest.has_exclusive());
    let (key, at) = manifest.evict_to.expect("evict_to is read");
    assert_eq!((key.as_str(), at.line, at.column), ("legacy", 9, 11));
    let (_, path, problem) = failure(&format!(
        "{HEAD}  prod:\n    exclusive: 1\n    resources: [instance/i-1]\n"
    ));
    assert_eq!(path, "groups.prod.exclusive");
    assert!(matches!(problem, Problem::WrongShape { .. }), "{problem:?}");
}

/// The manifest the hash tests edit: every key that carries meaning.
const MEANING_BASE: &str = "\
version: 1
regions: [cn-hangzhou]
max_changes: 5%
evict_to: legacy
groups:
  prod:
    exclusive: true
    resources:
      - instance/i-bp1aaa
      - {type: disk, id: d-bp1bbb, region: cn-shanghai}
    select:
      - type: [instance, disk]
        tags: {team: payments, env: prod}
        name: \"pay-*\"
        in_group: old
  staging:
    select:
      - {all: true, region: cn-qingdao}
";

fn meaning_sha256(text: &str) -> String {
    match Manifest::parse("m.yaml", text) {
        Ok(manifest) => manifest.sha256,
        Err(error) => panic!("{error}\n{text}"),
    }
}

#[test]
fn comments_and_layout_keep_the_manifest_hash() {
    let base = meaning_sha256(MEANING_BASE);
    let same_meaning = [
        (
            "a comment",
            MEANING_BASE.replace(
                "  prod:\n",
                "  prod:            # the payments team\n# end\n",
            ),
        ),
        (
            "blank lines and trailing spaces",
            MEANING_BASE.replace('\n', "  \n\n"),
        ),
        (
            "keys in another order",
            MEANING_BASE.replace(
                "max_changes: 5%\nevict_to: legacy\n",
                "evict_to: legacy\nmax_changes: 5%\n",
            ),
        ),
        (
            "tags in another order",
            MEANING_BASE.replace("{team: payments, env: prod}", "{env: prod, team: payments}"),
        ),
        (
            "groups in another order",
            MEANING_BASE
                .replace(
                    "groups:\n",
                    "groups:\n  staging:\n    select: [{all: true, region: cn-qingdao}]\n",
                )
                .replace(
                    "  staging:\n    select:\n      - {all: true, region: cn-qingdao}\n",
                    "",
                ),
        ),
        (
            "quoting",
            MEANING_BASE
                .replace("\"pay-*\"", "'pay-*'")
                .replace("old\n", "\"old\"\n"),
        ),
        (
            "block instead of flow style",
            MEANING_BASE.replace(
                "      - {type: disk, id: d-bp1bbb, region: cn-shanghai}\n",
                "      - type: disk\n        id: d-bp1bbb\n        region: cn-shanghai\n",
            ),
        ),
        (
            "an entry as a map",
            MEANING_BASE.replace("- instance/i-bp1aaa", "- {type: instance, id: i-bp1aaa}"),
        ),
        (
            "the default region written on the entry",
            MEANING_BASE.replace(
                "- instance/i-bp1aaa",
                "- {type: instance, id: i-bp1aaa, region: cn-hangzhou}",
            ),
        ),
    ];
    for (edit, text) in same_meaning {
        assert_ne!(text, MEANING_BASE, "the edit `{edit}` changed nothing");
        assert_eq!(
            meaning_sha256(&text),
            base,
            "{edit} changed the hash:\n{text}"
        );
    }
}

#[test]
fn every_change_of_meaning_changes_the_manifest_hash() {
    let base = meaning_sha256(MEANING_BASE);
    let changed = [
        ("a group key", ("  prod:\n", "  production:\n")),
        ("an id", ("i-bp1aaa", "i-bp1aab")),
        ("a type", ("type: [instance, disk]", "type: [instance]")),
        ("a tag value", ("team: payments", "team: paymnts")),
        ("a name glob", ("\"pay-*\"", "\"pay-?\"")),
        ("in_group", ("in_group: old", "in_group: older")),
        ("an entry's region", ("region: cn-shanghai", "region: cn-beijing")),
        ("the default regions", ("regions: [cn-hangzhou]", "regions: [cn-hangzhou, cn-beijing]")),
        ("a rule's region", ("region: cn-qingdao", "region: cn-zhangjiakou")),
        ("max_changes", ("max_changes: 5%", "max_changes: 6%")),
        ("max_changes as a count", ("max_changes: 5%", "max_changes: 5")),
        ("evict_to", ("evict_to: legacy", "evict_to: archive")),
        ("exclusive", ("exclusive: true", "exclusive: false")),
        ("an entry's order", ("      - instance/i-bp1aaa\n      - {type: disk, id: d-bp1bbb, region: cn-shanghai}\n", "      - {type: disk, id: d-bp1bbb, region: cn-shanghai}\n      - instance/i-bp1aaa\n")),
        ("an added entry", ("- instance/i-bp1aaa\n", "- instance/i-bp1aaa\n      - instance/i-bp1ccc\n")),
    ];
    let mut seen = std::collections::HashMap::from([(base, "the base")]);
    for (what, (from, to)) in changed {
        let text = MEANING_BASE.replacen(from, to, 1);
        assert_ne!(text, MEANING_BASE, "the edit of {what} changed nothing");
        let hash = meaning_sha256(&text);
        if let Some(other) = seen.insert(hash, what) {
            panic!("changing {what} hashes like {other}:\n{text}");
        }
    }
    let without_evict_to = MEANING_BASE.replace("evict_to: legacy\n", "");
    assert_ne!(
        meaning_sha256(&without_evict_to),
        meaning_sha256(MEANING_BASE),
        "removing evict_to kept the hash"
    );
}

#[test]
fn other_services_types_are_named_like_ecs_ones_and_aliases_read_as_the_doc_codes() {
    let manifest = Manifest::parse(
        "m.yaml",
        &format!(
            "{HEAD}  prod:\n    resources: [eip:eip/eip-bp1abc, vpc:eip/eip-bp1def, {{type: oss:bucket, id: my-bucket}}]\n    select:\n      - {{type: [slb:instance, rds:dbinstance], in_group: dev}}\n"
        ),
    )
    .unwrap();
    let group = &manifest.groups[0];
    let entries: Vec<String> = group
        .resources
        .iter()
        .map(|e| format!("{}/{}", e.rtype, e.id))
        .collect();
    assert_eq!(
        entries,
        vec![
            "eip:eip/eip-bp1abc",
            "eip:eip/eip-bp1def",
            "oss:bucket/my-bucket"
        ]
    );
    let types: Vec<String> = group.rules[0].types.iter().map(|t| t.to_string()).collect();
    assert_eq!(types, vec!["slb:loadbalancer", "rds:dbinstance"]);
}

#[test]
fn tags_and_names_select_other_services_types_resource_center_searches() {
    // Resource Center has an `ACS::…` type for EIPs and buckets: accepted
    // here, served (or refused, per account) when planning.
    for rule in [
        "{type: eip:eip, tags: {team: a}}",
        "{type: [instance, oss:bucket], name: web-*}",
    ] {
        let text = format!("{HEAD}  prod:\n    select:\n      - {rule}\n");
        assert!(
            Manifest::parse("m.yaml", &text).is_ok(),
            "{rule} is planned through SearchResources"
        );
    }
    for rule in [
        "{type: cdn:domain, tags: {team: a}}",
        "{type: [instance, cdn:domain], name: web-*}",
    ] {
        let (location, path, problem) =
            failure(&format!("{HEAD}  prod:\n    select:\n      - {rule}\n"));
        assert_eq!(
            problem,
            Problem::UnreadTagsOrNames {
                rtype: "cdn:domain".parse().unwrap()
            },
            "{rule}"
        );
        assert_eq!(
            (location.line, path.as_str()),
            (6, "groups.prod.select[0]"),
            "{rule}"
        );
        assert!(
            problem
                .to_string()
                .ends_with("no Resource Center type (`ACS::…`) is known for cdn:domain"),
            "{problem}"
        );
    }
    let (_, _, problem) = failure(&format!(
        "{HEAD}  prod:\n    resources: [oss:bucket/My_Bucket]\n"
    ));
    assert!(
        problem
            .to_string()
            .starts_with("`My_Bucket` is not a bucket name"),
        "{problem}"
    );
}

#[test]
fn a_resource_named_again_is_reported_at_its_first_repeat_with_its_first_place() {
    // The same id in another region or of another type is another
    // resource; `i-2` is named again in `b` (line 9) before `i-1` is in
    // `c` (line 11), and its first place is in `a`, not `b`'s own `i-2`.
    let text = "version: 1\nregions: [cn-hangzhou, cn-beijing]\ngroups:\n  a:\n    resources:\n      - instance/i-2\n      - {type: disk, id: d-1, region: cn-beijing}\n  b:\n    resources: [{type: disk, id: d-1, region: cn-shanghai}, instance/i-1, instance/i-2]\n  c:\n    resources: [instance/i-1]\n";
    let (location, path, problem) = failure(text);
    assert_eq!(
        (location.line, location.column, path.as_str()),
        (9, 75, "groups.b.resources[2]"),
        "the first repeat in the manifest's order: {problem}"
    );
    assert_eq!(
        problem.to_string(),
        "instance/i-2 is in group `b` here and in group `a` at m.yaml:6:9",
        "the place that named it first"
    );

    let in_one_group = format!(
        "{HEAD}  a:\n    resources: [instance/i-1, instance/i-2, instance/i-1, instance/i-2]\n"
    );
    assert_eq!(
        failure(&in_one_group).2.to_string(),
        "instance/i-1 is listed twice in group `a` (also at m.yaml:5:17)",
        "named twice in one group"
    );
}

#[test]
fn a_problem_before_the_first_repeat_is_reported_first_and_one_after_it_is_not() {
    // Groups are walked in their keys' order: `a` (which repeats) before
    // `b` (which names no region).
    let repeat_first = "version: 1\ngroups:\n  b:\n    resources: [instance/i-9]\n  a:\n    resources: [{type: instance, id: i-1, region: cn-hangzhou}, {type: instance, id: i-1, region: cn-hangzhou}]\n";
    assert!(
        matches!(failure(repeat_first).2, Problem::ListedTwice { .. }),
        "the repeat in `a` comes before `b`'s entry with no region"
    );
    let no_region_first = "version: 1\ngroups:\n  a:\n    resources: [instance/i-9]\n  b:\n    resources: [{type: instance, id: i-1, region: cn-hangzhou}, {type: instance, id: i-1, region: cn-hangzhou}]\n";
    assert!(
        matches!(failure(no_region_first).2, Problem::NoRegion { .. }),
        "`a`'s entry with no region comes before the repeat in `b`"
    );
}

#[test]
fn entries_naming_the_same_region_share_one_list() {
    let text = format!("{HEAD}  a:\n    resources:\n      - {{type: instance, id: i-1, region: cn-beijing}}\n      - {{type: instance, id: i-2, region: cn-beijing}}\n      - instance/i-3\n      - instance/i-4\n");
    let manifest = Manifest::parse("m.yaml", &text).unwrap();
    let entries = &manifest.groups[0].resources;
    assert_eq!(
        &*entries[0].regions,
        ["cn-beijing"],
        "the entry's own region"
    );
    assert!(
        Arc::ptr_eq(&entries[0].regions, &entries[1].regions),
        "one list for every entry in cn-beijing, not one each"
    );
    assert!(
        Arc::ptr_eq(&entries[2].regions, &entries[3].regions),
        "the manifest's default regions shared too"
    );
    assert_eq!(
        &*entries[2].regions,
        ["cn-hangzhou"],
        "the manifest's regions"
    );
}
