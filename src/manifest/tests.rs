//! The manifest loader: a full manifest, hints, region limits, and that no
//! input makes it panic. The table of malformed manifests, with their exact
//! messages, runs through the CLI in `tests/cli.rs`.

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
            let text = serde_yaml::to_string(&value).unwrap_or_default();
            let _ = Manifest::parse("m.yaml", &text);
        }

        #[test]
        fn on_a_valid_manifest_with_bytes_changed(at in 0usize..200, with in any::<char>()) {
            let mut text: Vec<char> = format!("{HEAD}  prod:\n    resources:\n      - instance/i-bp1aaa\n      - {{type: keypair, id: k1, region: cn-shanghai}}\n    select:\n      - {{type: [disk], tags: {{a: b}}, name: \"x*\", in_group: g}}\n").chars().collect();
            let at = at % text.len();
            text[at] = with;
            let text: String = text.into_iter().collect();
            if let Err(error) = Manifest::parse("m.yaml", &text) {
                prop_assert!(error.to_string().starts_with("m.yaml:"), "{error}");
            }
        }
    }
}
