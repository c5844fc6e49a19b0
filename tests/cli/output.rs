//! What regroup prints besides plans: the schema, completions, the version, and the CI examples and docs that quote it.

use std::path::PathBuf;

use assert_cmd::Command;

use crate::harness::{stdout_of, Setup};

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

/// Every `regroup …` command line in the shell of a CI file (`run:` in
/// GitHub Actions, `script:` in GitLab CI), cut at the first shell operator,
/// quotes taken off.
fn regroup_invocations(yaml: &serde_json::Value, in_shell: bool, found: &mut Vec<Vec<String>>) {
    match yaml {
        serde_json::Value::String(text) if in_shell => {
            for line in text.lines() {
                let Some(start) = line.find("regroup ") else {
                    continue;
                };
                let before = line[..start].trim_end();
                if !(before.is_empty() || before.ends_with("&&") || before.ends_with(';')) {
                    continue;
                }
                let words: Vec<String> = line[start..]
                    .split_whitespace()
                    .take_while(|w| !matches!(*w, ">" | "|" | "||" | "&&" | ";" | "2>&1"))
                    .map(|w| w.trim_matches('"').to_owned())
                    .collect();
                found.push(words);
            }
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|v| regroup_invocations(v, in_shell, found)),
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let shell = in_shell || matches!(key.as_str(), "run" | "script");
                regroup_invocations(value, shell, found);
            }
        }
        _ => {}
    }
}

#[test]
fn ci_examples_are_valid_yaml_calling_real_commands() {
    use clap::Parser;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/gitops");
    let mut total = 0;
    for file in ["github-actions.yml", "gitlab-ci.yml", "drift-detection.yml"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let yaml = regroup::yaml_to_json(file, &text).unwrap_or_else(|e| panic!("{e}"));
        let mut found = Vec::new();
        regroup_invocations(&yaml, false, &mut found);
        assert!(!found.is_empty(), "{file}: no regroup command found");
        for words in &found {
            if let Err(error) = regroup::Cli::try_parse_from(words) {
                panic!(
                    "{file}: `{}` is not a valid regroup command:\n{error}",
                    words.join(" ")
                );
            }
        }
        total += found.len();
    }
    assert_eq!(total, 8, "every regroup command of the three files");
}

#[test]
fn gitops_docs_show_a_real_plan_comment() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::cargo_bin("regroup").unwrap();
    command
        .env_clear()
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .current_dir(&root)
        .args([
            "emulator",
            "--fleet",
            "examples/fleet.yaml",
            "--",
            "plan",
            "-f",
            "examples/regroup.yaml",
            "--format",
            "markdown",
        ]);
    let (code, comment, err) = stdout_of(command);
    assert_eq!(code, 0, "{err}");
    let docs = std::fs::read_to_string(root.join("docs/gitops.md")).unwrap();
    assert!(
        docs.contains(&comment),
        "docs/gitops.md does not show what the tool prints now:\n{comment}"
    );
}

#[test]
fn completions_and_version() {
    let env = Setup::new().start();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, out, _) = stdout_of(env.regroup(&["completions", shell]));
        assert_eq!(code, 0, "{shell}");
        assert!(
            out.contains("regroup") && out.contains("apply") && out.contains("auto-approve"),
            "{shell}"
        );
    }
    let (code, out, _) = stdout_of(env.regroup(&["--version"]));
    assert_eq!(code, 0, "exit code 0 expected:\n{out}");
    assert!(
        out.contains(env!("CARGO_PKG_VERSION"))
            && out.contains("ECS 2014-05-26")
            && out.contains("Resource Manager 2020-03-31"),
        "{out}"
    );
}

/// A pipe whose reading end is already closed, as after `| head -1` has
/// read its line: any write to the other end fails with EPIPE.
fn closed_pipe() -> std::process::Stdio {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe() fills both descriptors; each is owned exactly once below.
    let (read, write) = unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0, "pipe() works");
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    drop(read);
    std::process::Stdio::from(write)
}

#[test]
fn a_closed_stdout_ends_export_and_plan_quietly_with_exit_0() {
    let env = Setup::new()
        .instances(3)
        .manifest(crate::harness::TWO_INTO_PROD)
        .start();
    for args in [
        &["export", "--region", "cn-hangzhou"][..],
        &["plan"][..],
        &["plan", "--format", "json"][..],
        &["schema"][..],
        &["completions", "bash"][..],
        &["validate"][..],
    ] {
        let output = env
            .process(args)
            .stdout(closed_pipe())
            .output()
            .expect("regroup runs");
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&output.stderr), "", "{args:?}");
    }
}

#[test]
fn a_full_disk_on_stdout_is_an_error_not_a_panic() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: this system has no /dev/full");
        return;
    }
    let env = Setup::new()
        .instances(3)
        .manifest(crate::harness::TWO_INTO_PROD)
        .start();
    for args in [&["plan"][..], &["export", "--region", "cn-hangzhou"][..]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full opens");
        let output = env
            .process(args)
            .stdout(full)
            .output()
            .expect("regroup runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("Error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains("No space left on device"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Once moves were made, a closed stdout must cost neither the report nor
/// the exit code: a failed apply is still exit 1.
#[test]
fn a_closed_stdout_after_the_moves_keeps_the_report_and_the_exit_code() {
    let env = Setup::new()
        .instances(2)
        .manifest(crate::harness::TWO_INTO_PROD)
        .emulator(|settings| settings.phantom_rate = 1.0)
        .start();
    let report = env.path("report.json");
    let output = env
        .process(&[
            "apply",
            "--auto-approve",
            "--report",
            report.to_str().unwrap(),
        ])
        .stdout(closed_pipe())
        .output()
        .expect("regroup runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("the report is written")).unwrap();
    assert_eq!(
        report["outcomes"][0]["status"], "not_moved_despite_success",
        "the join acknowledged but not made is reported as such: {report:#}"
    );
}
