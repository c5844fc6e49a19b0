//! `validate` and the manifest errors every command shares: what and where, and no call made.

use crate::harness::{stdout_of, Setup, TWO_INTO_PROD};
use crate::text::indoc;

/// The manifest size limit that docs/manifest.md states.
const MAX_MANIFEST_BYTES: u64 = 128 * 1024 * 1024;

#[test]
fn a_malformed_manifest_makes_no_call_at_all() {
    let env = Setup::new()
        .instances(1)
        .manifest(&indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                resources: [instance/d-bp1test00000]
            ",
        ))
        .start();
    for command in [&["validate"][..], &["plan"], &["apply", "--auto-approve"]] {
        // The manifest is read before credentials are looked for, so the
        // error is about the manifest even where there are none.
        let (code, _, err) = stdout_of(
            env.regroup(command)
                .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
                .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        );
        assert_eq!(code, 1, "{command:?}: {err}");
        assert!(
            err.contains("regroup.yaml:5:17: groups.prod.resources[0]: `d-bp1test00000` is not an instance id"),
            "{command:?}: {err}"
        );
    }
    assert!(env.requests().is_empty(), "{:?}", env.requests());
}

#[test]
fn validate_needs_no_credentials() {
    let env = Setup::new().manifest(TWO_INTO_PROD).start();
    let (code, out, err) = stdout_of(
        env.regroup(&["validate"])
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .env_remove("REGROUP_ENDPOINT"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("is valid: 1 group, 2 explicit resources, 0 select rules."),
        "{out}"
    );
}

/// Malformed manifests: each must fail with exactly this location and a
/// message that starts like this. A manifest of several lines is written
/// as it would be in the file (`indoc` strips the indentation), so that the
/// line:column of the message can be read off the text.
const MALFORMED: &[(&str, &str, &str)] = &[
    ("empty file", "", "regroup.yaml:1:1: the manifest is empty\n  hint: start with `version: 1`"),
    ("not a map", "- a\n- b\n", "regroup.yaml:1:1: expected a map with `version` and `groups`, found a list\n  hint: write it like"),
    ("syntax error", "version: 1\ngroups: \"prod\n", "regroup.yaml:2:9: groups: this is not valid YAML: while scanning a quoted scalar, found unexpected end of stream\n  hint: check the indentation, and that quotes and brackets are closed"),
    ("tab indentation", "version: 1\ngroups:\n\tprod: {}\n", "regroup.yaml:3:2: groups: this is not valid YAML: tabs disallowed within this context (block indentation)\n  hint: indent with spaces"),
    (
        "missing version",
        "
        groups:
          prod:
            resources: [instance/i-1]
        ",
        "regroup.yaml:1:1: `version` is missing\n  hint: start the manifest with `version: 1`",
    ),
    ("version 2", "version: 2\ngroups: {}\n", "regroup.yaml:1:10: version: unsupported manifest version 2; this regroup reads version 1\n  hint: write `version: 1`"),
    ("version as text", "version: one\ngroups: {}\n", "regroup.yaml:1:10: version: expected the manifest version, the number 1, found the text `one`\n  hint: write it like `version: 1`"),
    ("missing groups", "version: 1\n", "regroup.yaml:1:1: `groups` is missing\n  hint: declare groups under `groups:`"),
    ("unknown top-level key", "version: 1\ngroup: {}\n", "regroup.yaml:2:1: unknown key `group`\n  hint: did you mean `groups`? The keys allowed here: `version`, `regions`, `max_changes`, `evict_to`, `accounts`, `groups`"),
    (
        "regions not a list",
        "
        version: 1
        regions: cn-hangzhou
        groups: {}
        ",
        "regroup.yaml:2:10: regions: expected a list of region ids, found the text `cn-hangzhou`\n  hint: write it like `[cn-hangzhou, cn-shanghai]`",
    ),
    (
        "bad region id",
        "
        version: 1
        regions: [CN_Hangzhou]
        groups: {}
        ",
        "regroup.yaml:2:11: regions[0]: `CN_Hangzhou` is not a region id\n  hint: region ids look like cn-hangzhou",
    ),
    (
        "empty groups",
        "
        version: 1
        regions: [cn-hangzhou]
        groups: {}
        ",
        "regroup.yaml:3:1: `groups` is empty\n  hint: declare at least one group",
    ),
    (
        "groups as a list",
        "
        version: 1
        groups:
          - prod
        ",
        "regroup.yaml:3:3: groups: expected a map of groups, found a list\n  hint: write it like `prod:` indented under `groups:`",
    ),
    (
        "empty group",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod: {}
        ",
        "regroup.yaml:4:3: groups.prod: group `prod` is empty\n  hint: give it `resources:` or `select:` entries",
    ),
    (
        "group of nothing",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: []
        ",
        "regroup.yaml:4:3: groups.prod: group `prod` is empty",
    ),
    (
        "unknown group key",
        "
        version: 1
        groups:
          prod:
            resource: [instance/i-1]
        ",
        "regroup.yaml:4:5: groups.prod: unknown key `resource`\n  hint: did you mean `resources`? The keys allowed here: `resources`, `select`",
    ),
    (
        "resources not a list",
        "
        version: 1
        groups:
          prod:
            resources: instance/i-1
        ",
        "regroup.yaml:4:16: groups.prod.resources: expected a list of resources, found the text `instance/i-1`\n  hint: write it like `instance/i-bp1abc`",
    ),
    (
        "entry without slash",
        "
        version: 1
        groups:
          prod:
            resources: [i-bp1abc]
        ",
        "regroup.yaml:4:17: groups.prod.resources[0]: `i-bp1abc` is not `type/id`\n  hint: write a resource as `type/id`, like instance/i-bp1abc",
    ),
    (
        "unknown type",
        "
        version: 1
        groups:
          prod:
            resources: [vm/i-bp1abc]
        ",
        "regroup.yaml:4:17: groups.prod.resources[0]: unknown resource type `vm` (one of: instance, disk, snapshot, image, securitygroup, ddh, ddhcluster, eni, keypair, launchtemplate, command, activation, managedinstance)\n  hint: resource types are lower-case",
    ),
    (
        "type in capitals",
        "
        version: 1
        groups:
          prod:
            resources: [Instance/i-bp1abc]
        ",
        "regroup.yaml:4:17: groups.prod.resources[0]: unknown resource type `Instance`",
    ),
    (
        "id of another type",
        "
        version: 1
        groups:
          prod:
            resources: [instance/d-bp1abc]
        ",
        "regroup.yaml:4:17: groups.prod.resources[0]: `d-bp1abc` is not an instance id: instance ids start with `i-`",
    ),
    (
        "id with a space",
        "
        version: 1
        groups:
          prod:
            resources: [\"disk/d-bp1 abc\"]
        ",
        "regroup.yaml:4:17: groups.prod.resources[0]: `d-bp1 abc` is not a disk id: expected `d-` followed by 1 to 64 letters and digits",
    ),
    (
        "empty id",
        "
        version: 1
        groups:
          prod:
            resources: [snapshot/]
        ",
        "regroup.yaml:4:17: groups.prod.resources[0]: `` is not a snapshot id: snapshot ids start with `s-`",
    ),
    (
        "bad key pair name",
        "
        version: 1
        groups:
          prod:
            resources: [keypair/9lives]
        ",
        "regroup.yaml:4:17: groups.prod.resources[0]: `9lives` is not a key pair name",
    ),
    (
        "entry as a number",
        "
        version: 1
        groups:
          prod:
            resources: [42]
        ",
        "regroup.yaml:4:17: groups.prod.resources[0]: expected a resource, found `42`, which YAML reads as a number\n  hint: write it like `instance/i-bp1abc` or `{type: disk, id: d-bp1abc, region: cn-hangzhou}`",
    ),
    (
        "map entry unknown key",
        "
        version: 1
        groups:
          prod:
            resources:
              - {type: disk, id: d-1, zone: a}
        ",
        "regroup.yaml:5:31: groups.prod.resources[0]: unknown key `zone`\n  hint: remove or correct the key; the keys allowed here: `type`, `id`, `region`",
    ),
    (
        "map entry without id",
        "
        version: 1
        groups:
          prod:
            resources:
              - {type: disk}
        ",
        "regroup.yaml:5:10: groups.prod.resources[0]: `id` is missing\n  hint: a resource map needs `type` and `id`",
    ),
    (
        "map entry unknown type",
        "
        version: 1
        groups:
          prod:
            resources:
              - {type: volume, id: d-1}
        ",
        "regroup.yaml:5:16: groups.prod.resources[0].type: unknown resource type `volume`",
    ),
    (
        "map entry bad region",
        "
        version: 1
        groups:
          prod:
            resources:
              - {type: disk, id: d-1, region: Hangzhou}
        ",
        "regroup.yaml:5:39: groups.prod.resources[0].region: `Hangzhou` is not a region id",
    ),
    (
        "no region anywhere",
        "
        version: 1
        groups:
          prod:
            resources:
              - instance/i-1
        ",
        "regroup.yaml:5:9: groups.prod.resources[0]: instance/i-1 names no region and the manifest has no `regions`\n  hint: add `region:` to it",
    ),
    (
        "rule without region",
        "
        version: 1
        groups:
          prod:
            select:
              - tags: {a: b}
        ",
        "regroup.yaml:5:9: groups.prod.select[0]: this select rule names no region",
    ),
    (
        "duplicate in a group",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources:
              - instance/i-1
              - instance/i-1
        ",
        "regroup.yaml:7:9: groups.prod.resources[1]: instance/i-1 is listed twice in group `prod` (also at regroup.yaml:6:9)",
    ),
    (
        "same resource in two groups",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          dev:
            resources: [instance/i-1]
          prod:
            resources: [instance/i-1]
        ",
        "regroup.yaml:7:17: groups.prod.resources[0]: instance/i-1 is in group `prod` here and in group `dev` at regroup.yaml:5:17",
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
        "regroup.yaml:6:9: groups.prod.select[0]: unknown key `tag`\n  hint: did you mean `tags`? The keys allowed here: `type`, `tags`, `name`, `in_group`, `region`, `all`",
    ),
    (
        "rule with unknown type",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - type: [instance, vm]
        ",
        "regroup.yaml:6:26: groups.prod.select[0].type[1]: unknown resource type `vm`",
    ),
    (
        "rule with empty type list",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - type: []
        ",
        "regroup.yaml:6:15: groups.prod.select[0].type: an empty list matches nothing",
    ),
    (
        "rule with bad glob",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - name: \"pay-[\"
        ",
        "regroup.yaml:6:15: groups.prod.select[0].name: `pay-[` is not a valid glob: unclosed character class",
    ),
    (
        "tags not a map",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - tags: [team]
        ",
        "regroup.yaml:6:15: groups.prod.select[0].tags: expected a map of tag keys to values, found a list\n  hint: write it like `tags: {team: payments}`",
    ),
    (
        "select not a list",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select: {tags: {a: b}}
        ",
        "regroup.yaml:5:14: groups.prod.select: expected a list of select rules, found a map",
    ),
    (
        "empty group key",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          \"\":
            resources: [instance/i-1]
        ",
        "regroup.yaml:4:3: groups.\"\": a group key is empty",
    ),
    // Duplicate keys at every level, each naming both places.
    (
        "version twice",
        "
        version: 1
        regions: [cn-hangzhou]
        version: 1
        groups:
          prod:
            resources: [instance/i-1]
        ",
        "regroup.yaml:3:1: `version` is given twice: first at 1:1, again at 3:1\n  hint: YAML would keep only one of the two",
    ),
    (
        "group twice",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
          dev:
            resources: [instance/i-2]
          prod:
            resources: [instance/i-3]
        ",
        "regroup.yaml:8:3: groups: `prod` is given twice: first at 4:3, again at 8:3",
    ),
    (
        "resources twice in a group",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
            resources: [instance/i-2]
        ",
        "regroup.yaml:6:5: groups.prod: `resources` is given twice: first at 5:5, again at 6:5",
    ),
    (
        "tag key twice",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - tags: {team: a, team: b}
        ",
        "regroup.yaml:6:25: groups.prod.select[0].tags: `team` is given twice: first at 6:16, again at 6:25",
    ),
    (
        "rule key twice",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - name: \"a*\"
                name: \"b*\"
        ",
        "regroup.yaml:7:9: groups.prod.select[0]: `name` is given twice: first at 6:9, again at 7:9",
    ),
    (
        "entry key twice",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources:
              - {type: disk, id: d-1, id: d-2}
        ",
        "regroup.yaml:6:31: groups.prod.resources[0]: `id` is given twice: first at 6:22, again at 6:31",
    ),
    // Tag values are text, as kubectl's labels are: a number is refused, not changed.
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
        "regroup.yaml:6:19: groups.prod.select[0].tags.n: expected a tag value (text), found `1`, which YAML reads as a number\n  hint: quote it to keep it text: \"1\"",
    ),
    (
        "tag value a boolean",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - tags: {public: true}
        ",
        "regroup.yaml:6:24: groups.prod.select[0].tags.public: expected a tag value (text), found `true`, which YAML reads as a boolean\n  hint: quote it to keep it text: \"true\"",
    ),
    (
        "in_group a number",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - in_group: 2024
        ",
        "regroup.yaml:6:19: groups.prod.select[0].in_group: expected a group id or name, found `2024`, which YAML reads as a number",
    ),
    (
        "two documents",
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: [instance/i-1]
        ---
        version: 1
        ",
        "regroup.yaml:6:1: the file holds more than one YAML document",
    ),
    (
        "an alias",
        "
        version: 1
        regions: &r [cn-hangzhou]
        groups:
          prod:
            select:
              - region: *r
        ",
        "regroup.yaml:6:17: groups.prod.select[0].region: aliases (`*name`) are not read in a manifest",
    ),
    (
        "a list as a key",
        "
        version: 1
        ? [a]
        : b
        ",
        "regroup.yaml:2:3: a key must be text",
    ),
];

#[test]
fn malformed_manifests_say_what_and_where_and_call_nothing() {
    assert!(MALFORMED.len() >= 30, "the table covers at least 30 cases");
    let env = Setup::new().instances(1).start();
    let mut wrong = Vec::new();
    for (name, text, expected) in MALFORMED {
        std::fs::write(env.path("regroup.yaml"), indoc(text)).unwrap();
        let (code, _, err) = stdout_of(env.regroup(&["-f", "regroup.yaml", "plan"]));
        if code != 1 || !err.starts_with(&format!("Error: {expected}")) {
            wrong.push(format!(
                "{name}:\n    got      {code} {err}\n    expected 1 Error: {expected}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(env.requests().is_empty(), "{:?}", env.requests());
}

#[test]
fn hostile_manifests_get_clear_errors_and_make_no_call() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(env.path(name), bytes).unwrap();
        name.to_owned()
    };
    let mut laughs = indoc(
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            resources: &l0 [instance/i-bp1test00000]
        ",
    );
    for level in 1..=9 {
        let previous = format!("*l{}", level - 1);
        laughs.push_str(&format!(
            "  g{level}:\n    resources: &l{level} [{}]\n",
            vec![previous; 10].join(", ")
        ));
    }
    let deep = indoc(&format!(
        "
        version: 1
        groups:
          prod:
            select:
              - tags: {}{}
        ",
        "[".repeat(5_000),
        "]".repeat(5_000)
    ));
    // One byte over the limit, without writing 128 MiB: the size is checked
    // before a byte is read.
    let huge = env.path("huge.yaml");
    std::fs::File::create(&huge)
        .and_then(|file| file.set_len(MAX_MANIFEST_BYTES + 1))
        .expect("a sparse file");
    let too_big = format!("huge.yaml: is {} bytes", MAX_MANIFEST_BYTES + 1);
    std::fs::create_dir(env.path("a-folder")).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            write("laughs.yaml", laughs.as_bytes()),
            "laughs.yaml:7:21: groups.g1.resources[0]: aliases (`*name`) are not read in a manifest",
        ),
        (
            write("deep.yaml", deep.as_bytes()),
            "deep.yaml:5:15: groups.prod.select[0].tags: expected a map of tag keys to values, found a list",
        ),
        (
            "huge.yaml".to_owned(),
            &too_big,
        ),
        (
            write(
                "latin1.yaml",
                b"version: 1\ngroups:\n  caf\xe9:\n    resources: [instance/i-1]\n",
            ),
            "latin1.yaml: is not UTF-8 text (invalid byte at offset 24)",
        ),
        ("a-folder".to_owned(), "a-folder: is a directory"),
        (
            "missing.yaml".to_owned(),
            "could not read the manifest missing.yaml",
        ),
    ];
    for (file, expected) in cases {
        for command in ["validate", "plan"] {
            let (code, _, err) = stdout_of(env.regroup(&["-f", &file, command]));
            assert_eq!(code, 1, "{file} {command}: {err}");
            assert!(
                err.starts_with(&format!("Error: {expected}")),
                "{file} {command}: {err}"
            );
        }
    }
    assert!(env.requests().is_empty(), "{:?}", env.requests());
}
