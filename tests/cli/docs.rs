//! The documentation runs: every `regroup` command in a ```sh, ```bash,
//! ```shell or ```console block of README.md and docs/*.md is run, in page
//! order, against an emulator serving the example fleet (one per page, so a
//! page's commands see each other's moves), and every ```text block that
//! starts with `$ regroup …` must show what that command prints. Lines that
//! cannot run here are listed in [`SKIPPED`] with the reason; commands that
//! are not regroup's (`cargo test`, `jq`, `cd`) are left to their own tools.

use std::path::{Path, PathBuf};

use crate::harness::{assert_has_line, stdout_of, Running, Setup};

/// Documented lines that are not run, and why.
const SKIPPED: [(&str, &str); 3] = [
    (
        "regroup emulator --fleet examples/fleet.yaml --listen 127.0.0.1:8642",
        "serves until Ctrl-C; the test's own emulator stands in for it",
    ),
    (
        "regroup reconcile -f regroup.yaml",
        "runs until SIGTERM; tests/cli/reconcile.rs runs and stops it",
    ),
    (
        "regroup reconcile -f regroup.yaml --mode correct --interval 5m --max-changes 20 --max-errors 3 --canary 2 --report-dir /var/lib/regroup/reports --metrics-listen 127.0.0.1:9464",
        "runs until SIGTERM; tests/cli/reconcile.rs runs and stops it",
    ),
];

/// Documented lines whose exit code is not 0, as the page says.
const EXIT_CODES: [(&str, &str, i32); 2] = [
    // Without a terminal and without --auto-approve, apply refuses.
    ("docs/apply.md", "regroup apply", 1),
    // --detailed-exitcode: the example manifest has moves to review.
    (
        "docs/gitops.md",
        "regroup plan -f regroup.yaml --format markdown -o plan.json --detailed-exitcode > plan.md",
        2,
    ),
];

/// The pages whose commands run.
fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// A fenced block: its language and its lines.
struct Block {
    language: String,
    lines: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for line in text.lines() {
        match (line.trim_start().strip_prefix("```"), open.take()) {
            (Some(_), Some(block)) => blocks.push(block),
            (Some(language), None) => {
                open = Some(Block {
                    language: language.trim().to_owned(),
                    lines: Vec::new(),
                })
            }
            (None, Some(mut block)) => {
                block.lines.push(line.to_owned());
                open = Some(block);
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The commands of a shell block: continuation lines joined, comments and
/// prompts removed.
fn commands(lines: &[String]) -> Vec<String> {
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in lines {
        let line = line.trim();
        let line = line.strip_prefix("$ ").unwrap_or(line);
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => pending.push_str(start),
            None => {
                pending.push_str(line);
                let command = match pending.find(" #") {
                    Some(cut) => &pending[..cut],
                    None => &pending[..],
                };
                commands.push(command.trim().to_owned());
                pending.clear();
            }
        }
    }
    commands
}

/// Splits a command line as a shell would, for the quoting the docs use.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// A documented regroup command: environment, arguments and where stdout
/// goes. `None` for commands that are not regroup's.
struct Invocation {
    env: Vec<(String, String)>,
    args: Vec<String>,
    stdout_to: Option<String>,
}

fn invocation(command: &str) -> Option<Invocation> {
    let mut words = words(command).into_iter().peekable();
    let mut env = Vec::new();
    while let Some((name, value)) = words
        .peek()
        .and_then(|w| w.split_once('='))
        .filter(|(name, _)| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
    {
        env.push((name, value));
        words.next();
    }
    let rest: Vec<String> = words.collect();
    let args = match rest.first().map(String::as_str) {
        Some("regroup") => rest[1..].to_vec(),
        Some("cargo") if rest.get(1).is_some_and(|w| w == "run") => {
            let dashes = rest.iter().position(|w| w == "--")?;
            rest[dashes + 1..].to_vec()
        }
        _ => return None,
    };
    let (args, stdout_to) = match args.iter().position(|w| w == ">") {
        Some(at) => (args[..at].to_vec(), args.get(at + 1).cloned()),
        None => (args, None),
    };
    Some(Invocation {
        env,
        args,
        stdout_to,
    })
}

/// Runs one documented command; returns its exit code, stdout and stderr.
fn run(env: &Running, invocation: &Invocation) -> (i32, String, String) {
    let args: Vec<&str> = invocation.args.iter().map(String::as_str).collect();
    let mut command = env.regroup(&args);
    for (name, value) in &invocation.env {
        // The documented endpoint is the skipped server's; the test's own
        // emulator answers instead.
        if name != "REGROUP_ENDPOINT" {
            command.env(name, value);
        }
    }
    let ran = stdout_of(command);
    if let Some(file) = &invocation.stdout_to {
        env.write(file, &ran.1);
    }
    ran
}

/// Whether `shown` (a documented output, where a `...` line stands for
/// lines left out) is what the command printed: equal when nothing is left
/// out, otherwise every shown line in order.
fn shows(shown: &[String], printed: &str) -> bool {
    let printed: Vec<&str> = printed.lines().collect();
    if !shown.iter().any(|l| l.trim() == "...") {
        return shown.iter().map(String::as_str).eq(printed.iter().copied());
    }
    let mut rest = printed.iter();
    shown
        .iter()
        .filter(|l| l.trim() != "...")
        .all(|line| rest.any(|p| p == line))
}

#[test]
fn every_documented_command_runs_as_the_docs_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran_count = 0;
    let mut problems = Vec::new();
    for page in pages() {
        let name = page
            .strip_prefix(root)
            .expect("under the root")
            .display()
            .to_string();
        let text = std::fs::read_to_string(&page).expect("the page is readable");
        let env = Setup::new().example_fleet().start();
        std::fs::copy(env.path("examples/regroup.yaml"), env.path("regroup.yaml"))
            .expect("a regroup.yaml to plan");
        for block in blocks(&text) {
            let (commands, output) = match block.language.as_str() {
                "sh" | "bash" | "shell" | "console" => (commands(&block.lines), None),
                "text"
                    if block
                        .lines
                        .first()
                        .is_some_and(|l| l.starts_with("$ regroup ")) =>
                {
                    (commands(&block.lines[..1]), Some(&block.lines[1..]))
                }
                _ => continue,
            };
            for command in commands {
                if SKIPPED.iter().any(|(line, _)| *line == command) {
                    continue;
                }
                let Some(invocation) = invocation(&command) else {
                    continue;
                };
                let (code, out, err) = run(&env, &invocation);
                ran_count += 1;
                let expected = EXIT_CODES
                    .iter()
                    .find(|(p, line, _)| *p == name && *line == command)
                    .map_or(0, |(_, _, code)| *code);
                if code != expected {
                    problems.push(format!(
                        "{name}: `{command}` exited {code} (expected {expected}):\n{out}{err}"
                    ));
                } else if let Some(shown) = output {
                    if !shows(shown, &out) {
                        problems.push(format!(
                            "{name}: `{command}` printed\n{out}\nbut the page shows\n{}",
                            shown.join("\n")
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    // README 5, apply.md 4, emulator.md 2, gitops.md 5, manifest.md 1.
    assert!(ran_count >= 17, "only {ran_count} documented commands ran");
}

#[test]
fn the_emulator_page_lists_every_flag_of_its_help() {
    let env = Setup::new().example_fleet().start();
    let (code, help, err) = env.run(&["emulator", "--help"]);
    assert_eq!(code, 0, "{err}");
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/emulator.md"))
            .expect("docs/emulator.md");
    let flags: std::collections::BTreeSet<&str> = help
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .collect();
    assert!(
        flags.contains("--phantom-rate") && flags.contains("--idle-timeout"),
        "the emulator's help lists its flags: {flags:?}"
    );
    let missing: Vec<&&str> = flags
        .iter()
        .filter(|flag| !page.contains(&format!("`{flag}")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/emulator.md does not list {missing:?}"
    );
}

#[test]
fn the_report_fields_apply_md_names_are_the_reports() {
    let env = Setup::new().example_fleet().start();
    let (code, _, err) = env.run(&[
        "apply",
        "-f",
        "examples/regroup.yaml",
        "--auto-approve",
        "--report",
        "report.json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path("report.json")).expect("a report"))
            .expect("JSON");
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/apply.md"))
        .expect("docs/apply.md");
    assert!(
        page.contains("`outcomes[].status`"),
        "apply.md names the status field"
    );
    for field in [
        "moved",
        "failed",
        "not_started",
        "interrupted",
        "calls",
        "outcomes",
    ] {
        assert!(page.contains(&format!("`{field}`")), "apply.md: {field}");
        assert!(report.get(field).is_some(), "the report has {field}");
    }
    let outcome = &report["outcomes"][0];
    for field in [
        "change",
        "status",
        "code",
        "message",
        "tries",
        "request_ids",
        "elapsed_ms",
    ] {
        assert!(
            page.contains(&format!("`{field}`")) || page.contains(&format!("`outcomes[].{field}`")),
            "apply.md: {field}"
        );
        assert!(
            outcome.get(field).is_some(),
            "an outcome has {field}: {outcome}"
        );
    }
}

/// The README's first command, run twice as a new user would: the second
/// run finds nothing left to do, as the tour says ("Run it again").
#[test]
fn the_readmes_one_shot_command_run_twice_has_nothing_left_to_do() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README reads");
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo run -- emulator"))
        .expect("the README starts with a one-shot emulator command");
    let state_dir = tempfile::tempdir().expect("a folder");
    let state = state_dir.path().join("tour.json");
    let words: Vec<String> = line
        .trim_start_matches("cargo run -- ")
        .split_whitespace()
        .map(|w| match w {
            "/tmp/regroup-tour.json" => state.display().to_string(),
            _ => w.to_owned(),
        })
        .collect();
    assert!(
        words.iter().any(|w| *w == state.display().to_string()),
        "the command keeps its account in a --state file: {line}"
    );
    let run = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_regroup"))
            .args(&words)
            .current_dir(root)
            // No proxy, no keys, no home of the machine: only loopback.
            .env_clear()
            .env("HOME", state_dir.path())
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .output()
            .expect("regroup runs");
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        assert_eq!(output.status.code(), Some(0), "{line}: {out}");
        out
    };
    let first = run();
    assert_has_line(&first, "Apply complete! 10 moved, 0 failed.");
    let second = run();
    assert_has_line(
        &second,
        "No changes. All 6 resources the manifest manages are in their groups.",
    );
}
