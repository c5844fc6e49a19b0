//! `regroup merge FILE…`: the plans of a fleet's shards, each saved by its
//! own `plan -o`, combined into one for review; inputs verified as `apply`
//! verifies a saved plan, overlaps refused, and the merged plan refused by
//! `apply`. The shards here are the example manifest planned one region at
//! a time against the emulator: together they are the whole plan, so the
//! merge must print exactly what one plan of everything prints.

use crate::harness::{assert_has_line, assert_no_calls, ok, read_json, Running, Setup, EXAMPLE};

/// The example planned per region into `a.json` (cn-hangzhou) and
/// `b.json` (cn-shanghai).
fn shards() -> Running {
    let env = Setup::new().example_fleet().start();
    for (region, file) in [("cn-hangzhou", "a.json"), ("cn-shanghai", "b.json")] {
        ok(
            &env,
            &[
                "plan", "-f", EXAMPLE, "--region", region, "--format", "json", "-o", file,
            ],
        );
    }
    env
}

/// The example planned whole, into `whole.json`.
fn plan_whole(env: &Running) {
    ok(
        env,
        &[
            "plan",
            "-f",
            EXAMPLE,
            "--format",
            "json",
            "-o",
            "whole.json",
        ],
    );
}

#[test]
fn merged_shards_print_as_the_whole_plan() {
    let env = shards();
    for format in ["text", "markdown"] {
        let (whole, _) = ok(&env, &["plan", "-f", EXAMPLE, "--format", format]);
        let (merged, err) = ok(&env, &["merge", "a.json", "b.json", "--format", format]);
        assert_eq!(
            merged, whole,
            "--format {format}: the shards merged are the whole plan"
        );
        assert_eq!(err, "", "--format {format}: nothing on stderr");
    }
    let (markdown, _) = ok(&env, &["merge", "a.json", "b.json", "--format", "markdown"]);
    assert_has_line(
        &markdown,
        "<details><summary><b>Plan: 10 to move, 0 unchanged.</b></summary>",
    );
}

#[test]
fn merged_json_is_the_shards_concatenated_and_sealed() {
    let env = shards();
    plan_whole(&env);
    let (printed, _) = ok(
        &env,
        &[
            "merge",
            "a.json",
            "b.json",
            "--format",
            "json",
            "-o",
            "merged.json",
        ],
    );
    let saved = std::fs::read_to_string(env.path("merged.json")).expect("saved");
    assert_eq!(printed, saved, "the JSON printed is the JSON saved");
    let [a, b, whole, merged] =
        ["a.json", "b.json", "whole.json", "merged.json"].map(|f| read_json(&env.path(f)));
    let changes = |plan: &serde_json::Value| plan["changes"].as_array().expect("changes").clone();
    assert_eq!(
        changes(&merged),
        [changes(&a), changes(&b)].concat(),
        "the shards' changes, in the order of the files"
    );
    assert_eq!(
        changes(&merged),
        changes(&whole),
        "the whole plan's changes"
    );
    for field in [
        "unchanged",
        "groups",
        "missing",
        "warnings",
        "manifest",
        "format_version",
    ] {
        assert_eq!(
            merged[field], whole[field],
            "{field}: as the whole plan has it"
        );
    }
    assert_eq!(
        merged["merged_from"],
        serde_json::json!([
            {"file": "a.json", "checksum": a["checksum"]},
            {"file": "b.json", "checksum": b["checksum"]},
        ]),
        "the inputs, with their checksums"
    );
    // Sealed: show reads it back, as a plan regroup made.
    let (shown, _) = ok(&env, &["show", "merged.json", "--format", "json"]);
    assert_eq!(shown, saved, "show reads the merged plan");
    assert_no_calls(
        &env.requests()
            .into_iter()
            .filter(|r| r.action == "JoinResourceGroup")
            .collect::<Vec<_>>(),
    );
}

#[test]
fn apply_refuses_a_merged_plan_before_any_call() {
    let env = shards();
    ok(&env, &["merge", "a.json", "b.json", "-o", "merged.json"]);
    let before = env.requests().len();
    let (code, _, err) = env.run(&["apply", "merged.json", "-f", EXAMPLE]);
    assert_eq!(code, 1, "{err}");
    assert_has_line(
        &err,
        "Error: merged.json cannot be applied: it merges 2 plans (a.json, b.json) for review; apply each shard's own plan in its job instead, e.g. regroup apply a.json",
    );
    assert_eq!(env.requests().len(), before, "no call was made");
}

#[test]
fn a_tampered_shard_is_refused_naming_its_file() {
    let env = shards();
    let text = std::fs::read_to_string(env.path("b.json")).expect("b.json");
    env.write("b.json", &text.replacen("\"prod\"", "\"dev\"", 1));
    let (code, out, err) = env.run(&["merge", "a.json", "b.json", "--format", "markdown"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_has_line(&err, "Error: b.json is not a plan regroup can use");
    assert_has_line(
        &err,
        "  caused by: the plan was changed after it was made (its checksum does not match); plan again instead of editing a plan",
    );
}

#[test]
fn overlapping_shards_and_a_file_named_twice_are_refused() {
    let env = shards();
    plan_whole(&env);
    let (code, out, err) = env.run(&["merge", "a.json", "whole.json", "-o", "merged.json"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_has_line(
        &err,
        "Error: instance/i-bp1aaaaaaaaaaaaaaaaa (cn-hangzhou) is planned in both a.json and whole.json: the shards overlap (plan each shard once, with its own --shard I/N)",
    );
    assert!(!env.path("merged.json").exists(), "nothing is saved");
    let (code, _, err) = env.run(&["merge", "a.json", "a.json"]);
    assert_eq!(code, 1, "{err}");
    assert_has_line(&err, "Error: a.json is named twice");
}

#[test]
fn merged_reports_of_region_shards_are_one_record() {
    let env = shards();
    for (region, plan, report) in [
        ("cn-hangzhou", "a.json", "report-a.json"),
        ("cn-shanghai", "b.json", "report-b.json"),
    ] {
        ok(
            &env,
            &[
                "apply", plan, "-f", EXAMPLE, "--region", region, "--report", report,
            ],
        );
    }
    let (text, err) = ok(&env, &["merge", "report-a.json", "report-b.json"]);
    assert_eq!(
        text, "Apply complete! 10 moved, 0 failed.\n",
        "the shards' summary as one: {err}"
    );
    let (markdown, _) = ok(
        &env,
        &[
            "merge",
            "report-a.json",
            "report-b.json",
            "--format",
            "markdown",
            "-o",
            "report.json",
        ],
    );
    assert_eq!(
        markdown, "### regroup apply\n\n```text\nApply complete! 10 moved, 0 failed.\n```\n",
        "the summary as a comment"
    );
    let [a, b, merged] =
        ["report-a.json", "report-b.json", "report.json"].map(|f| read_json(&env.path(f)));
    let outcomes =
        |report: &serde_json::Value| report["outcomes"].as_array().expect("outcomes").clone();
    assert_eq!(
        outcomes(&merged),
        [outcomes(&a), outcomes(&b)].concat(),
        "every outcome, in the order of the files"
    );
    let requests =
        |report: &serde_json::Value| report["calls"]["requests"].as_u64().expect("a count");
    assert_eq!(
        requests(&merged),
        requests(&a) + requests(&b),
        "the calls summed"
    );
    assert_eq!(merged["moved"], 10, "the moves counted again");

    let (code, out, err) = env.run(&["merge", "a.json", "report-b.json"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_has_line(
        &err,
        "Error: a.json is a plan and report-b.json a report: merge plans with plans, or reports with reports",
    );
    let text = std::fs::read_to_string(env.path("report-b.json")).expect("the report");
    env.write(
        "report-b.json",
        &text.replacen("\"moved\":", "\"movd\":", 1),
    );
    let (code, _, err) = env.run(&["merge", "report-a.json", "report-b.json"]);
    assert_eq!(code, 1, "{err}");
    assert_has_line(&err, "Error: report-b.json is not a report regroup can use");
}

/// The manifest of the fleet of member accounts: every member, its
/// instances into `team-0..2` by tag.
const ACCOUNTS_MANIFEST: &str = "version: 1
regions: [cn-hangzhou]
accounts: {all: true}
groups:
  team-0:
    select:
      - {type: instance, tags: {team: team-0}}
  team-1:
    select:
      - {type: instance, tags: {team: team-1}}
  team-2:
    select:
      - {type: instance, tags: {team: team-2}}
";

/// examples/fleet-accounts.yaml (three members of ten instances each),
/// planned in three shards into `shard-1.json` to `shard-3.json`.
fn account_shards() -> Running {
    let fleet = regroup::emulator::fleet::Fleet::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet-accounts.yaml"),
    )
    .expect("the fleet of member accounts loads");
    let env = Setup::new().fleet(fleet).examples().start();
    env.write("accounts.yaml", ACCOUNTS_MANIFEST);
    let (matrix, _) = ok(&env, &["matrix", "--shards", "3"]);
    let matrix: serde_json::Value = serde_json::from_str(&matrix).expect("JSON");
    for (n, shard) in matrix["shard"]
        .as_array()
        .expect("shards")
        .iter()
        .enumerate()
    {
        let shard = shard.as_str().expect("I/N");
        let file = format!("shard-{}.json", n + 1);
        ok(
            &env,
            &[
                "plan",
                "-f",
                "accounts.yaml",
                "--shard",
                shard,
                "--format",
                "json",
                "-o",
                &file,
            ],
        );
    }
    env
}

#[test]
fn merged_account_shards_print_as_the_whole_plan_whatever_the_files_order() {
    let env = account_shards();
    let accounts_of = |file: &str| -> Vec<String> {
        read_json(&env.path(file))["accounts"]
            .as_array()
            .map(|accounts| {
                accounts
                    .iter()
                    .map(|a| a["account_id"].as_str().expect("an id").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut planned: Vec<String> = ["shard-1.json", "shard-2.json", "shard-3.json"]
        .iter()
        .flat_map(|f| accounts_of(f))
        .collect();
    planned.sort();
    assert_eq!(
        planned,
        ["1000000000000001", "1000000000000002", "1000000000000003"],
        "the shards hold every member once"
    );
    for format in ["text", "markdown"] {
        let (whole, _) = ok(&env, &["plan", "-f", "accounts.yaml", "--format", format]);
        for files in [
            ["shard-1.json", "shard-2.json", "shard-3.json"],
            ["shard-3.json", "shard-1.json", "shard-2.json"],
        ] {
            let mut args = vec!["merge"];
            args.extend(files);
            args.extend(["--format", format]);
            let (merged, _) = ok(&env, &args);
            assert_eq!(
                merged, whole,
                "--format {format}, {files:?}: the whole plan"
            );
        }
    }
    let (markdown, _) = ok(
        &env,
        &[
            "merge",
            "shard-1.json",
            "shard-2.json",
            "shard-3.json",
            "--format",
            "markdown",
        ],
    );
    assert_has_line(
        &markdown,
        "**3 accounts: 3 planned. Plan: 30 to move, 0 unchanged.**",
    );
    ok(
        &env,
        &[
            "plan",
            "-f",
            "accounts.yaml",
            "--format",
            "json",
            "-o",
            "whole.json",
        ],
    );
    ok(
        &env,
        &[
            "merge",
            "shard-2.json",
            "shard-1.json",
            "shard-3.json",
            "-o",
            "merged.json",
        ],
    );
    let [whole, merged] = ["whole.json", "merged.json"].map(|f| read_json(&env.path(f)));
    for field in [
        "accounts",
        "changes",
        "missing",
        "groups",
        "warnings",
        "unchanged",
    ] {
        assert_eq!(
            merged[field], whole[field],
            "{field}: as the whole plan has it"
        );
    }
    let changes = merged["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 30, "ten moves in each of three members");
    assert!(
        changes.iter().all(|c| c["account_id"].is_string()),
        "every change names its account"
    );
    let before = env.writes();
    let (code, _, err) = env.run(&["apply", "merged.json", "-f", "accounts.yaml"]);
    assert_eq!(
        code, 1,
        "a merged plan over accounts is for review too: {err}"
    );
    assert_has_line(
        &err,
        "Error: merged.json cannot be applied: it merges 3 plans (shard-2.json, shard-1.json, shard-3.json) for review; apply each shard's own plan in its job instead, e.g. regroup apply shard-2.json",
    );
    assert_eq!(env.writes(), before, "nothing was moved");
}

#[test]
fn an_account_in_two_files_is_refused_naming_both() {
    let env = account_shards();
    ok(
        &env,
        &[
            "plan",
            "-f",
            "accounts.yaml",
            "--account",
            "1000000000000002",
            "--format",
            "json",
            "-o",
            "one.json",
        ],
    );
    let holder = ["shard-1.json", "shard-2.json", "shard-3.json"]
        .into_iter()
        .find(|f| {
            read_json(&env.path(f))["accounts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["account_id"] == "1000000000000002"))
        })
        .expect("a shard plans the member");
    let (code, out, err) = env.run(&["merge", holder, "one.json"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_has_line(
        &err,
        &format!("Error: account 1000000000000002 is in both {holder} and one.json: the shards overlap (plan each shard once, with its own --shard I/N)"),
    );
}

#[test]
fn merged_reports_of_account_shards_record_every_member() {
    let env = account_shards();
    let mut reports = Vec::new();
    for n in 1..=3 {
        let (plan, report) = (format!("shard-{n}.json"), format!("report-{n}.json"));
        // A shard the split left without a member has nothing to apply.
        if read_json(&env.path(&plan))["accounts"].is_null() {
            continue;
        }
        ok(
            &env,
            &["apply", &plan, "-f", "accounts.yaml", "--report", &report],
        );
        reports.push(report);
    }
    assert!(
        reports.len() >= 2,
        "the members are spread over shards: {reports:?}"
    );
    let mut args = vec!["merge"];
    args.extend(reports.iter().rev().map(String::as_str));
    let (text, _) = ok(&env, &args);
    assert_eq!(
        text, "Apply complete! 30 moved, 0 failed.\n",
        "every member's moves"
    );
    args.extend(["--format", "json"]);
    let (json, _) = ok(&env, &args);
    let merged: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let accounts: Vec<&str> = merged["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| {
            o["change"]["account_id"]
                .as_str()
                .expect("each outcome names its account")
        })
        .collect();
    let mut sorted = accounts.clone();
    sorted.sort();
    assert_eq!(accounts.len(), 30, "ten moves in each of three members");
    assert_eq!(
        accounts, sorted,
        "account by account, whatever the files' order"
    );
    let (whole, _) = ok(&env, &["plan", "-f", "accounts.yaml"]);
    assert_has_line(
        &whole,
        "No changes. All 30 resources the manifest manages are in their groups.",
    );
}
