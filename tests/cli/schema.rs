//! The manifest's JSON Schema (`regroup schema`) and the loader agree: a
//! manifest loads exactly when the schema accepts it, for everything a
//! schema can say. The schema is checked by check-jsonschema (PyPI, by
//! `tools`), the validator editors and CI pipelines run, so the schema is
//! tested as its users read it.

use std::path::Path;
use std::process::Command;

use regroup::{yaml_to_json, Manifest};

use crate::harness::{stdout_of, Setup};
use crate::text::indoc;

/// The pinned validator.
const CHECK_JSONSCHEMA: &str = "check-jsonschema==0.39.0";

/// Manifests that load must be exactly those the JSON Schema accepts, for
/// everything a schema can say: shapes, keys, value kinds, non-empty
/// groups. Each sample is `(what, YAML)`.
#[rustfmt::skip]
pub const AGREEMENT: &[(&str, &str)] = &[
    ("minimal", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("full", "version: 1\nregions: [cn-hangzhou, cn-shanghai]\ngroups:\n  prod:\n    resources:\n      - instance/i-1\n      - {type: keypair, id: deploy-key, region: cn-beijing}\n    select:\n      - type: [instance, disk]\n        tags: {team: payments, cost: \"1\"}\n        name: \"pay-*\"\n        in_group: legacy\n        region: cn-shanghai\n      - type: eni\n        region: [cn-hangzhou]\n"),
    ("null optional keys", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - {type: ~, name: ~, in_group: ~, region: ~, tags: {a: b}}\n"),
    ("max_changes a count", "version: 1\nregions: [cn-hangzhou]\nmax_changes: 50\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("max_changes a share", "version: 1\nregions: [cn-hangzhou]\nmax_changes: 5%\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("max_changes null", "version: 1\nregions: [cn-hangzhou]\nmax_changes: ~\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("max_changes over 100%", "version: 1\nregions: [cn-hangzhou]\nmax_changes: 101%\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("max_changes negative", "version: 1\nregions: [cn-hangzhou]\nmax_changes: -1\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("max_changes a word", "version: 1\nregions: [cn-hangzhou]\nmax_changes: many\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("max_changes a list", "version: 1\nregions: [cn-hangzhou]\nmax_changes: [1]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("a rule without conditions", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{}]\n"),
    ("a rule with only a region", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{region: cn-hangzhou}]\n"),
    ("a rule with empty tags", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{tags: {}}]\n"),
    ("a rule that says all", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{all: true}]\n"),
    ("a rule that says all and more", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{all: true, type: disk}]\n"),
    ("a rule that says not all", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{all: false}]\n"),
    ("all a word", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{all: yes, type: disk}]\n"),
    ("exclusive and evict_to", "version: 1\nregions: [cn-hangzhou]\nevict_to: legacy\ngroups:\n  prod:\n    exclusive: true\n    resources: [instance/i-1]\n"),
    ("exclusive a word", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    exclusive: yes\n    resources: [instance/i-1]\n"),
    ("exclusive alone", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    exclusive: true\n"),
    ("evict_to null", "version: 1\nregions: [cn-hangzhou]\nevict_to: ~\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("exclusive null", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    exclusive: ~\n    resources: [instance/i-1]\n"),
    ("all null", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{all: ~, type: disk}]\n"),
    ("evict_to a number", "version: 1\nregions: [cn-hangzhou]\nevict_to: 7\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("numeric group key", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  2024:\n    resources: [disk/d-1]\n"),
    ("version 1.0", "version: 1.0\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("tag value a number", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: {n: 1}\n"),
    ("tag value a boolean", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: {n: true}\n"),
    ("tag value null", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: {n: ~}\n"),
    ("tag value a list", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: {n: [a]}\n"),
    ("tags null", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: ~\n"),
    ("in_group a number", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - in_group: 7\n"),
    ("name a number", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - name: 7\n"),
    ("version quoted", "version: \"1\"\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("version 2", "version: 2\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("no version", "regions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("no groups", "version: 1\n"),
    ("unknown top-level key", "version: 1\nregion: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("unknown group key", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resource: [instance/i-1]\n"),
    ("unknown rule key", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tag: {a: b}\n"),
    ("unknown entry key", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - {type: disk, id: d-1, zone: a}\n"),
    ("regions a string", "version: 1\nregions: cn-hangzhou\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("regions null", "version: 1\nregions: ~\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("bad region", "version: 1\nregions: [CN_Hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("region with two dashes", "version: 1\nregions: [cn--hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("region too long", "version: 1\nregions: [cn-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\ngroups:\n  prod:\n    resources: [instance/i-1]\n"),
    ("empty groups", "version: 1\nregions: [cn-hangzhou]\ngroups: {}\n"),
    ("empty group", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod: {}\n"),
    ("null group", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n"),
    ("group of empty lists", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: []\n    select: []\n"),
    ("empty group key", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  \" \":\n    resources: [instance/i-1]\n"),
    ("resources null", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: ~\n    select: [{tags: {a: b}}]\n"),
    ("entry a number", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [42]\n"),
    ("entry of unknown type", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [vm/i-1]\n"),
    ("entry without slash", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [i-1]\n"),
    ("map entry without id", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - {type: disk}\n"),
    ("map entry id a number", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - {type: keypair, id: 12}\n"),
    ("empty type list", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: []\n"),
    ("unknown rule type", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: vm\n"),
    ("rule a string", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [everything]\n"),
    ("a list", "- a\n"),
];

/// The manifest's schema, as `regroup schema` prints it.
fn schema() -> String {
    let env = Setup::new().start();
    let (code, schema, err) = stdout_of(env.regroup(&["schema"]));
    assert_eq!(code, 0, "{err}");
    schema
}

/// For each document, whether the schema accepts it, from one run of
/// check-jsonschema over all of them.
pub fn schema_accepts(schema: &str, documents: &[serde_json::Value]) -> Vec<bool> {
    let dir = tempfile::tempdir().expect("a folder");
    let schema_path = dir.path().join("schema.json");
    std::fs::write(&schema_path, schema).expect("the schema is written");
    let files: Vec<String> = (0..documents.len())
        .map(|index| {
            let name = format!("{index:03}.json");
            let text = serde_json::to_string(&documents[index]).expect("JSON");
            std::fs::write(dir.path().join(&name), text).expect("written");
            name
        })
        .collect();
    let output = Command::new(crate::tools::python(&[CHECK_JSONSCHEMA]))
        .args([
            "-m",
            "check_jsonschema",
            "--output-format",
            "json",
            "--schemafile",
        ])
        .arg(&schema_path)
        .args(&files)
        .current_dir(dir.path())
        .output()
        .expect("check-jsonschema runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "check-jsonschema printed no JSON report ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let failed = |name: &str| {
        ["errors", "parse_errors"].iter().any(|list| {
            report[list].as_array().is_some_and(|errors| {
                errors.iter().any(|error| {
                    error["filename"]
                        .as_str()
                        .is_some_and(|f| Path::new(f).ends_with(name))
                })
            })
        })
    };
    assert!(
        report["parse_errors"].as_array().is_none_or(Vec::is_empty),
        "the schema and documents parse: {report}"
    );
    files.iter().map(|name| !failed(name)).collect()
}

#[test]
fn the_loader_and_the_schema_agree() {
    let documents: Vec<serde_json::Value> = AGREEMENT
        .iter()
        .map(|(_, text)| yaml_to_json("m.yaml", text).expect("the sample is YAML"))
        .collect();
    let verdicts = schema_accepts(&schema(), &documents);
    let mut disagreements = Vec::new();
    for ((what, text), schema_says) in AGREEMENT.iter().zip(&verdicts) {
        let loader = Manifest::parse("m.yaml", text);
        if *schema_says != loader.is_ok() {
            disagreements.push(format!(
                "{what}: schema {}, loader {:?}",
                if *schema_says { "accepts" } else { "refuses" },
                loader.map(|_| "accepts")
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    let accepted = verdicts.iter().filter(|ok| **ok).count();
    let refused = verdicts.len() - accepted;
    assert!(
        accepted >= 5 && refused >= 30,
        "{accepted} accepted, {refused} refused"
    );
}

/// What the schema cannot say, the loader checks alone: the id's shape for
/// its type, a resource named twice, a region for every entry. These
/// samples fit the schema and must still fail to load.
#[test]
fn checks_beyond_the_schema_are_the_loaders() {
    let texts = [
        indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                resources: [instance/d-1]
            ",
        ),
        indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                resources: [instance/i-1, instance/i-1]
            ",
        ),
        indoc(
            "
            version: 1
            groups:
              prod:
                resources: [instance/i-1]
            ",
        ),
        indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                select: [{name: \"[\"}]
            ",
        ),
    ];
    let documents: Vec<serde_json::Value> = texts
        .iter()
        .map(|text| yaml_to_json("m.yaml", text).expect("YAML"))
        .collect();
    for (text, fits) in texts.iter().zip(schema_accepts(&schema(), &documents)) {
        assert!(fits, "the schema accepts {text}");
        assert!(
            Manifest::parse("m.yaml", text).is_err(),
            "the loader refuses {text}"
        );
    }
}

#[test]
fn the_schema_describes_the_manifest() {
    let env = Setup::new().start();
    let (code, out, _) = stdout_of(env.regroup(&["schema"]));
    assert_eq!(code, 0, "exit code 0 expected:\n{out}");
    let schema: serde_json::Value = serde_json::from_str(&out).expect("the schema is JSON");
    assert_eq!(
        schema["additionalProperties"], false,
        "the manifest allows no unknown top-level key: {schema:#}"
    );
    assert_eq!(
        schema["required"],
        serde_json::json!(["version", "groups"]),
        "version and groups are required: {schema:#}"
    );
    let types = schema["$defs"]["ResourceType"]["enum"]
        .as_array()
        .expect("the types are listed");
    assert_eq!(
        types.len(),
        regroup::resource::ResourceType::ALL.len(),
        "the schema lists every resource type: {types:?}"
    );
    assert_eq!(
        schema["$defs"]["Rule"]["additionalProperties"], false,
        "a rule allows no unknown key: {schema:#}"
    );
}
