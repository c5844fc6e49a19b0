//! `regroup matrix --shards N`: the JSON each CI engine fans out over, and
//! the Argo Workflows example that fans out over it, checked against the
//! models of Argo's official Python SDK.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::harness::{assert_has_line, assert_no_calls, ok, Setup};
use crate::tools;

#[test]
fn matrix_prints_one_entry_per_shard_for_each_engine() {
    let env = Setup::new().start();
    let cases: [(&[&str], &str); 4] = [
        (
            &["matrix", "--shards", "3"],
            "{\"shard\":[\"1/3\",\"2/3\",\"3/3\"]}\n",
        ),
        (
            &["matrix", "--shards", "3", "--for", "github"],
            "{\"shard\":[\"1/3\",\"2/3\",\"3/3\"]}\n",
        ),
        (
            &["matrix", "--shards", "3", "--for", "argo"],
            "[{\"shard\":\"1/3\"},{\"shard\":\"2/3\"},{\"shard\":\"3/3\"}]\n",
        ),
        (
            &["matrix", "--shards", "3", "--for", "gitlab"],
            "[{\"SHARD\":[\"1/3\",\"2/3\",\"3/3\"]}]\n",
        ),
    ];
    for (args, expected) in cases {
        let (out, err) = ok(&env, args);
        assert_eq!(out, expected, "{args:?}");
        assert_eq!(err, "", "{args:?}: nothing on stderr");
    }
    let (out, _) = ok(&env, &["matrix", "--shards", "256"]);
    let matrix: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let shards = matrix["shard"].as_array().expect("a list of shards");
    assert_eq!(shards.len(), 256, "GitHub's limit itself is allowed");
    assert_eq!(shards[255], "256/256", "the last shard");
    assert_no_calls(&env.requests());
}

#[test]
fn matrix_refuses_shards_out_of_range() {
    let env = Setup::new().start();
    for shards in ["0", "257"] {
        let (code, out, err) = env.run(&["matrix", "--shards", shards]);
        assert_eq!((code, out.as_str()), (1, ""), "--shards {shards}: {err}");
        assert!(
            err.contains("--shards <N>") && err.contains("1..=256"),
            "--shards {shards}: the range is named: {err}"
        );
    }
    let (code, out, err) = env.run(&["matrix", "--shards", "201", "--for", "gitlab"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_has_line(
        &err,
        "Error: --shards 201 is out of range: GitLab takes 1 to 200 shards (parallel:matrix makes at most 200 jobs)",
    );
    assert_no_calls(&env.requests());
}

/// Argo's official Python SDK, whose models are generated from Argo's
/// OpenAPI spec.
const ARGO_SDK: &str = "argo-workflows==6.7.18";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Checks a WorkflowTemplate (YAML) with tests/argo/check_template.py: the
/// checker's complaint when it is not valid.
fn check_argo_template(name: &str, yaml: &str) -> Result<(), String> {
    let json = regroup::yaml_to_json(name, yaml).unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(tools::python(&[ARGO_SDK]))
        .arg(root().join("tests/argo/check_template.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json.to_string().as_bytes())
        .expect("the template is written");
    let output = child.wait_with_output().expect("the check ends");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The regroup command lines of an Argo template: each container of a
/// regroup image as `regroup ARGS` (the image's entrypoint), and each line
/// of a shell script that starts with `regroup `, with Argo's `{{…}}`
/// parameters given example values.
fn argo_regroup_commands(template: &serde_json::Value) -> Vec<Vec<String>> {
    let fill = |word: &str| {
        word.replace("{{workflow.parameters.shards}}", "8")
            .replace("{{inputs.parameters.shard}}", "1/8")
    };
    let mut found = Vec::new();
    for body in template["spec"]["templates"].as_array().expect("templates") {
        let container = &body["container"];
        let Some(image) = container["image"].as_str() else {
            continue;
        };
        assert!(image.contains("/regroup:"), "only regroup's image: {image}");
        let args = container["args"].as_array().expect("args");
        let args: Vec<&str> = args.iter().filter_map(|a| a.as_str()).collect();
        if container["command"].is_null() {
            found.push(
                std::iter::once("regroup".to_owned())
                    .chain(args.iter().map(|a| fill(a)))
                    .collect(),
            );
        } else {
            for line in args.iter().flat_map(|script| script.lines()) {
                if line.trim_start().starts_with("regroup ") {
                    found.push(
                        line.split_whitespace()
                            .take_while(|w| !matches!(*w, ">" | "|" | "&&" | ";"))
                            .map(fill)
                            .collect(),
                    );
                }
            }
        }
    }
    found
}

#[test]
fn argo_example_is_a_valid_workflow_template_calling_real_commands() {
    use clap::Parser;
    let path = root().join("examples/gitops/argo-workflow.yaml");
    let yaml = std::fs::read_to_string(&path).expect("the example reads");
    if let Err(problems) = check_argo_template("argo-workflow.yaml", &yaml) {
        panic!(
            "{}: not a valid Argo WorkflowTemplate:\n{problems}",
            path.display()
        );
    }
    // The check is no rubber stamp: a misspelt field, a wrong type and a
    // missing required field are each refused.
    for (from, to, what) in [
        ("withParam:", "withParams:", "a field Argo does not have"),
        (
            "depends: shards",
            "depends: [shards]",
            "a list where a string goes",
        ),
        (
            "mountPath: /manifest",
            "readOnly: true",
            "a volume mount without its path",
        ),
    ] {
        assert!(yaml.contains(from), "the example has `{from}`");
        assert!(
            check_argo_template("bad.yaml", &yaml.replacen(from, to, 1)).is_err(),
            "the check must refuse {what}"
        );
    }
    let template = regroup::yaml_to_json("argo-workflow.yaml", &yaml).expect("YAML");
    let commands = argo_regroup_commands(&template);
    let verbs: Vec<&str> = commands.iter().map(|c| c[1].as_str()).collect();
    assert_eq!(verbs, ["matrix", "plan", "merge"], "fan out, plan, fan in");
    for words in &commands {
        if let Err(error) = regroup::Cli::try_parse_from(words) {
            panic!(
                "`{}` is not a valid regroup command:\n{error}",
                words.join(" ")
            );
        }
    }
    assert_eq!(
        template["spec"]["templates"][0]["dag"]["tasks"][1]["withParam"],
        "{{tasks.shards.outputs.result}}",
        "the shards task's output is what the plans fan out over"
    );
    assert_eq!(
        commands[0][2..],
        ["--shards", "8", "--for", "argo"],
        "the matrix is printed for Argo"
    );
}

/// A child pipeline as docs/gitops.md has a job write it: `parallel:
/// matrix:` set to what `--for gitlab` prints.
fn gitlab_child_pipeline(matrix: &str) -> String {
    format!(
        "plan:\n  script:\n    - regroup plan -f regroup.yaml --shard \"$SHARD\" --format json -o plan.json\n  parallel:\n    matrix: {matrix}\n  artifacts:\n    paths: [plan.json]\n"
    )
}

#[test]
fn gitlab_matrix_makes_a_child_pipeline_gitlab_accepts() {
    let env = Setup::new().start();
    let (matrix, _) = ok(&env, &["matrix", "--shards", "200", "--for", "gitlab"]);
    let path = env.write("child.yml", &gitlab_child_pipeline(matrix.trim()));
    if let Err(problems) = crate::distribution::check_gitlab_schema(&path) {
        panic!("GitLab CI schema refuses the child pipeline:\n{problems}");
    }
    // The schema is no rubber stamp: `parallel: matrix:` must be a list.
    let path = env.write("bad.yml", &gitlab_child_pipeline("{\"SHARD\": [\"1/2\"]}"));
    assert!(
        crate::distribution::check_gitlab_schema(&path).is_err(),
        "a matrix that is not a list is refused"
    );
}
