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
/// groups. Each sample is `(what, YAML)`, the YAML written as in a file
/// and read through `indoc`.
pub const AGREEMENT: &[(&str, &str)] = &[
    (
        "minimal",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "full",
        "
        version: 1
        regions: [cn-hangzhou, cn-shanghai]
        groups:
          prod:
            resources:
              - instance/i-1
              - {type: keypair, id: deploy-key, region: cn-beijing}
            select:
              - type: [instance, disk]
                tags: {team: payments, cost: \"1\"}
                name: \"pay-*\"
                in_group: legacy
                region: cn-shanghai
              - type: eni
                region: [cn-hangzhou]
        ",
    ),
    (
        "null optional keys",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - {type: ~, name: ~, in_group: ~, region: ~, tags: {a: b}}
        ",
    ),
    (
        "max_changes a count",
        "
        version: 1
        regions: [cn-hangzhou]
        max_changes: 50
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "max_changes a share",
        "
        version: 1
        regions: [cn-hangzhou]
        max_changes: 5%
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "max_changes null",
        "
        version: 1
        regions: [cn-hangzhou]
        max_changes: ~
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "max_changes over 100%",
        "
        version: 1
        regions: [cn-hangzhou]
        max_changes: 101%
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "max_changes negative",
        "
        version: 1
        regions: [cn-hangzhou]
        max_changes: -1
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "max_changes a word",
        "
        version: 1
        regions: [cn-hangzhou]
        max_changes: many
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "max_changes a list",
        "
        version: 1
        regions: [cn-hangzhou]
        max_changes: [1]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "a rule without conditions",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: [{}]
        ",
    ),
    (
        "a rule with only a region",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: [{region: cn-hangzhou}]
        ",
    ),
    (
        "a rule with empty tags",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: [{tags: {}}]
        ",
    ),
    (
        "a rule that says all",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: [{all: true}]
        ",
    ),
    (
        "a rule that says all and more",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: [{all: true, type: disk}]
        ",
    ),
    (
        "a rule that says not all",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: [{all: false}]
        ",
    ),
    (
        "all a word",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: [{all: yes, type: disk}]
        ",
    ),
    (
        "exclusive and evict_to",
        "
        version: 1
        regions: [cn-hangzhou]
        evict_to: legacy
        groups:
          prod:
            exclusive: true
            resources: [instance/i-1]
        ",
    ),
    (
        "exclusive a word",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            exclusive: yes
            resources: [instance/i-1]
        ",
    ),
    (
        "exclusive alone",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            exclusive: true
        ",
    ),
    (
        "evict_to null",
        "
        version: 1
        regions: [cn-hangzhou]
        evict_to: ~
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "exclusive null",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            exclusive: ~
            resources: [instance/i-1]
        ",
    ),
    (
        "all null",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: [{all: ~, type: disk}]
        ",
    ),
    (
        "evict_to a number",
        "
        version: 1
        regions: [cn-hangzhou]
        evict_to: 7
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "numeric group key",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          2024:
            resources: [disk/d-1]
        ",
    ),
    (
        "version 1.0",
        "
        version: 1.0
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "tag value a number",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - tags: {n: 1}
        ",
    ),
    (
        "tag value a boolean",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - tags: {n: true}
        ",
    ),
    (
        "tag value null",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - tags: {n: ~}
        ",
    ),
    (
        "tag value a list",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - tags: {n: [a]}
        ",
    ),
    (
        "tags null",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - tags: ~
        ",
    ),
    (
        "in_group a number",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - in_group: 7
        ",
    ),
    (
        "name a number",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - name: 7
        ",
    ),
    (
        "version quoted",
        "
        version: \"1\"
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "version 2",
        "
        version: 2
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "no version",
        "
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    ("no groups", "version: 1\n"),
    (
        "unknown top-level key",
        "
        version: 1
        region: [cn-hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "unknown group key",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resource: [instance/i-1]
        ",
    ),
    (
        "unknown rule key",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - tag: {a: b}
        ",
    ),
    (
        "unknown entry key",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources:
              - {type: disk, id: d-1, zone: a}
        ",
    ),
    (
        "regions a string",
        "
        version: 1
        regions: cn-hangzhou
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "regions null",
        "
        version: 1
        regions: ~
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "bad region",
        "
        version: 1
        regions: [CN_Hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "region with two dashes",
        "
        version: 1
        regions: [cn--hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "region too long",
        "
        version: 1
        regions: [cn-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]
        groups:
          prod:
            resources: [instance/i-1]
        ",
    ),
    (
        "empty groups",
        "
        version: 1
        regions: [cn-hangzhou]
        groups: {}
        ",
    ),
    (
        "empty group",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod: {}
        ",
    ),
    (
        "null group",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
        ",
    ),
    (
        "group of empty lists",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: []
            select: []
        ",
    ),
    (
        "empty group key",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          \" \":
            resources: [instance/i-1]
        ",
    ),
    (
        "resources null",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: ~
            select: [{tags: {a: b}}]
        ",
    ),
    (
        "entry a number",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [42]
        ",
    ),
    (
        "entry of unknown type",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [vm/i-1]
        ",
    ),
    (
        "entry without slash",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [i-1]
        ",
    ),
    (
        "map entry without id",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources:
              - {type: disk}
        ",
    ),
    (
        "map entry id a number",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources:
              - {type: keypair, id: 12}
        ",
    ),
    (
        "empty type list",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - type: []
        ",
    ),
    (
        "unknown rule type",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - type: vm
        ",
    ),
    (
        "rule a string",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: [everything]
        ",
    ),
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
        .map(|(_, text)| yaml_to_json("m.yaml", &indoc(text)).expect("the sample is YAML"))
        .collect();
    let verdicts = schema_accepts(&schema(), &documents);
    let mut disagreements = Vec::new();
    for ((what, text), schema_says) in AGREEMENT.iter().zip(&verdicts) {
        let loader = Manifest::parse("m.yaml", &indoc(text));
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
        *types,
        regroup::resource::accepted_names(),
        "the schema lists every resource type and alias: {types:?}"
    );
    assert_eq!(
        schema["$defs"]["Rule"]["additionalProperties"], false,
        "a rule allows no unknown key: {schema:#}"
    );
}
