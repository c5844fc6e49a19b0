//! What a new user trips on (issue 14), each through the real binary against
//! the emulator serving the example fleet: exit codes, colour, numeric
//! options, region typos, repeatable faults, saved plans, export, and the
//! words of the output.

use crate::examples::{Emulated, Ran};

/// The manifest of the README's tour.
const EXAMPLE: &str = "examples/regroup.yaml";

#[test]
fn a_non_empty_no_color_is_honoured_not_parsed_as_a_flag() {
    let env = Emulated::example();
    for value in ["1", "true", "yes"] {
        let mut command = env.command(&["validate", "-f", EXAMPLE]);
        command.env("NO_COLOR", value);
        let ran = crate::examples::run(command);
        assert_eq!(ran.code, 0, "NO_COLOR={value}: {}", ran.err);
        assert!(ran.out.contains("is valid"), "{}", ran.out);
    }
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let env = Emulated::example();
    let bogus = env.run(&["plan", "--detailed-exitcode", "--bogus"]);
    assert_eq!(bogus.code, 1, "{}", bogus.err);
    assert!(bogus.err.contains("--bogus"), "{}", bogus.err);
    let missing = env.run(&["emulator"]);
    assert_eq!(missing.code, 1, "{}", missing.err);
    for asked in [&["--help"][..], &["plan", "--help"], &["--version"]] {
        let ran = env.run(asked);
        assert_eq!(ran.code, 0, "{asked:?}: {}", ran.err);
        assert!(!ran.out.is_empty(), "{asked:?} prints to stdout");
    }
}

#[test]
fn logs_off_a_terminal_carry_no_colour() {
    let env = Emulated::example();
    let ran = env.run(&["plan", "-f", EXAMPLE, "-vv"]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.err.contains("credentials"), "-vv logs: {}", ran.err);
    assert!(!ran.err.contains('\u{1b}'), "{:?}", ran.err);
}

#[test]
fn numeric_options_out_of_range_are_usage_errors() {
    let env = Emulated::example();
    let cases: [(&[&str], &str); 4] = [
        (&["apply", "--rate", "0"], "0.1"),
        (&["apply", "--rate", "NaN"], "0.1"),
        (&["apply", "--rate", "0.001"], "0.1"),
        (
            &[
                "emulator",
                "--fleet",
                "examples/fleet.yaml",
                "--phantom-rate",
                "7",
            ],
            "between 0 and 1",
        ),
    ];
    for (args, says) in cases {
        let ran = env.run(args);
        assert_eq!(ran.code, 1, "{args:?}: {}", ran.err);
        assert!(ran.err.contains(says), "{args:?}: {}", ran.err);
    }
    assert!(env.emulator.requests().is_empty());
}

#[test]
fn an_api_error_is_printed_once() {
    let env = Emulated::example();
    let mut command = env.command(&["plan", "-f", EXAMPLE]);
    command.env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong");
    let ran = crate::examples::run(command);
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.err.matches("SignatureDoesNotMatch").count(),
        1,
        "{}",
        ran.err
    );
}

#[test]
fn counts_of_one_are_singular() {
    let env = Emulated::example();
    std::fs::write(
        env.path("one.yaml"),
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-bp1ooooooooooooooooo]\n    select:\n      - {type: keypair}\n",
    )
    .expect("written");
    let valid = ok(&env, &["validate", "-f", "one.yaml"]);
    assert!(
        valid
            .out
            .contains("is valid: 1 group, 1 explicit resource, 1 select rule."),
        "{}",
        valid.out
    );
    std::fs::write(
        env.path("one.yaml"),
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-bp1ooooooooooooooooo]\n",
    )
    .expect("written");
    let plan = ok(&env, &["plan", "-f", "one.yaml"]);
    assert!(
        plan.out
            .contains("No changes. The 1 resource the manifest manages is in its group."),
        "{}",
        plan.out
    );
}

/// A fleet of the example account and `extra` more instances in the
/// default group of cn-hangzhou.
fn example_with_instances(extra: usize) -> regroup::emulator::fleet::Fleet {
    let mut fleet = crate::examples::example_fleet();
    let template = fleet.resources[0].clone();
    for n in 0..extra {
        fleet
            .resources
            .push(regroup::emulator::fleet::FleetResource {
                id: format!("i-bp1extra{n:05}"),
                name: format!("extra-{n}"),
                group: None,
                ..template.clone()
            });
    }
    fleet
}

const INSTANCES_TO_PROD: &str =
    "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - {type: instance}\n";

#[test]
fn the_progress_bar_rounds_its_rate() {
    let settings = regroup::emulator::Settings {
        latency: std::time::Duration::from_millis(20),
        ..Default::default()
    };
    let env = Emulated::start(example_with_instances(150), settings);
    std::fs::write(env.path("all.yaml"), INSTANCES_TO_PROD).expect("written");
    let mut command = env.command(&[
        "apply",
        "-f",
        "all.yaml",
        "--auto-approve",
        "--parallelism",
        "2",
    ]);
    command.env("TERM", "xterm");
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).expect("a terminal");
    // The bar, drawn while the moves run, with its rate.
    let (_, drawn) = session
        .exp_regex(r"[1-9]\d+/1\d\d \d+ failed \[[^\]]*/s")
        .expect("a bar");
    let rest = session.exp_eof().expect("apply ends");
    assert!(rest.contains("Apply complete!"), "{rest}");
    let rate = drawn
        .rsplit(", ")
        .next()
        .expect("the rate follows the elapsed time");
    let number = rate.trim_end_matches("/s");
    assert!(
        number.parse::<f64>().is_ok() && number.split('.').nth(1).is_none_or(|d| d.len() <= 1),
        "{drawn}"
    );
}

#[test]
fn a_saved_plan_applied_where_the_manifest_is_not_says_the_check_was_skipped() {
    let env = Emulated::example();
    let saved = env.run(&["plan", "-f", EXAMPLE, "-o", "plan.json"]);
    assert_eq!(saved.code, 0, "{}", saved.err);
    // No -f and no ./regroup.yaml in the folder.
    let applied = ok(&env, &["apply", "plan.json"]);
    let notes: Vec<&str> = applied
        .out
        .lines()
        .filter(|l| l.contains("as saved: there is no regroup.yaml"))
        .collect();
    assert_eq!(notes.len(), 1, "{}", applied.out);
    assert!(
        applied.out.contains("Apply complete! 10 moved, 0 failed."),
        "{}",
        applied.out
    );
    // With the manifest there, the check runs and says nothing.
    std::fs::copy(env.path(EXAMPLE), env.path("regroup.yaml")).expect("copied");
    let planned = ok(&env, &["plan", "-o", "again.json"]);
    let again = ok(&env, &["apply", "again.json"]);
    assert!(!again.err.contains("not found"), "{}", again.err);
    assert!(planned.out.contains("No changes."), "{}", planned.out);
}

#[test]
fn a_markdown_plan_of_thousands_of_missing_ids_shows_the_move_within_the_limit() {
    let env = Emulated::example();
    let mut manifest = String::from(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-bp1aaaaaaaaaaaaaaaaa\n",
    );
    for n in 0..3_000 {
        manifest.push_str(&format!("      - instance/i-bp1gone{n:05}\n"));
    }
    std::fs::write(env.path("missing.yaml"), manifest).expect("written");
    let ran = env.run(&[
        "plan",
        "-f",
        "missing.yaml",
        "--ignore-missing",
        "--format",
        "markdown",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(
        ran.out.chars().count() <= 65_536,
        "{} characters",
        ran.out.chars().count()
    );
    assert!(
        ran.out.contains("`instance/i-bp1aaaaaaaaaaaaaaaaa`"),
        "the move is shown"
    );
    assert!(
        ran.out.contains("more warnings are not shown"),
        "the cut is said"
    );
}

/// An account whose group names and key pair names YAML 1.1 readers would
/// take for booleans, with a group named like another group's id.
const TRICKY_FLEET: &str = r#"
account_id: "1234567890123456"
access_keys: [{id: testid, secret: testsecret}]
resource_groups:
  - {id: rg-default, name: default, default: true}
  - {id: rg-a, name: "yes"}
  - {id: rg-b, name: rg-c}
  - {id: rg-c, name: legacy}
resources:
  - {type: keypair, id: "on", region: cn-hangzhou, group: rg-a}
  - {type: keypair, id: "No", region: cn-shanghai, group: rg-a}
  - {type: keypair, id: "y1", region: cn-hangzhou}
  - {type: instance, id: i-bp1b, region: cn-hangzhou, group: rg-b}
  - {type: instance, id: i-bp1c, region: cn-hangzhou, group: rg-c}
"#;

#[test]
fn an_export_of_tricky_names_validates_and_plans_no_changes() {
    let fleet: regroup::emulator::fleet::Fleet = serde_json::from_value(
        regroup::yaml_to_json("fleet.yaml", TRICKY_FLEET).expect("the fleet is YAML"),
    )
    .expect("the fleet parses");
    fleet.check().expect("the fleet is valid");
    let env = Emulated::start(fleet, Default::default());
    let exported = ok(
        &env,
        &[
            "export",
            "--region",
            "cn-hangzhou",
            "--region",
            "cn-shanghai",
        ],
    );
    let text = exported.out;
    assert!(text.contains("\n  \"yes\":\n"), "{text}");
    assert!(text.contains("id: \"on\","), "{text}");
    assert!(text.contains("id: \"No\","), "{text}");
    // rg-b's name is rg-c's id, which a key would be read as: rg-b is
    // keyed by its own id.
    assert!(!text.contains("\n  rg-c:\n"), "{text}");
    assert!(text.contains("\n  rg-b:\n"), "{text}");
    std::fs::write(env.path("exported.yaml"), &text).expect("written");
    ok(&env, &["validate", "-f", "exported.yaml"]);
    let plan = ok(
        &env,
        &["plan", "-f", "exported.yaml", "--detailed-exitcode"],
    );
    assert!(plan.out.contains("No changes."), "{}\n{text}", plan.out);
}

#[test]
fn an_export_with_nothing_to_export_is_an_error_not_an_invalid_file() {
    let env = Emulated::example();
    let ran = env.run(&["export", "--region", "cn-beijing"]);
    assert_eq!(ran.code, 1, "{}", ran.out);
    assert!(ran.out.is_empty(), "{}", ran.out);
    assert!(ran.err.contains("nothing to export"), "{}", ran.err);
    assert!(ran.err.contains("cn-beijing"), "{}", ran.err);
}

#[test]
fn the_emulator_refuses_key_pair_names_the_manifest_refuses() {
    let env = Emulated::example();
    for bad in ["n", "k#x", "1key"] {
        let fleet = TRICKY_FLEET.replace("id: \"y1\"", &format!("id: \"{bad}\""));
        std::fs::write(env.path("bad.yaml"), fleet).expect("written");
        let ran = env.run(&[
            "emulator", "--fleet", "bad.yaml", "--", "validate", "-f", EXAMPLE,
        ]);
        assert_eq!(ran.code, 1, "{bad}: {}", ran.out);
        assert!(
            ran.err.contains(&format!("`{bad}` is not a key pair name")),
            "{bad}: {}",
            ran.err
        );
    }
}

#[test]
fn a_mistyped_region_is_an_error_that_suggests_the_closest() {
    let env = Emulated::example();
    let option = env.run(&[
        "plan",
        "-f",
        EXAMPLE,
        "--region",
        "cn-hangzou",
        "--detailed-exitcode",
    ]);
    assert_eq!(option.code, 1, "{}", option.out);
    assert!(option.err.contains("`cn-hangzou`"), "{}", option.err);
    assert!(
        option.err.contains("did you mean cn-hangzhou?"),
        "{}",
        option.err
    );
    let export = env.run(&["export", "--region", "cn-shangai"]);
    assert_eq!(export.code, 1, "{}", export.out);
    assert!(
        export.err.contains("did you mean cn-shanghai?"),
        "{}",
        export.err
    );
    let typo = std::fs::read_to_string(env.path(EXAMPLE))
        .expect("read")
        .replace("regions: [cn-hangzhou]", "regions: [cn-hangzou]");
    std::fs::write(env.path("typo.yaml"), typo).expect("written");
    let entry = env.run(&["plan", "-f", "typo.yaml"]);
    assert_eq!(entry.code, 1, "{}", entry.out);
    assert!(
        entry.err.contains("typo.yaml:") && entry.err.contains("did you mean cn-hangzhou?"),
        "{}",
        entry.err
    );
    assert!(env.emulator.requests().is_empty(), "nothing was read");
}

/// What one `apply --max-tries 1` through a faulty emulator with `seed`
/// gave: exit code, stdout and stderr without request ids and port,
/// and each change's status and code from the report, if one was written.
fn faulty_apply(env: &Emulated, seed: &str) -> (i32, String, String, Vec<String>) {
    let report = env.path("report.json");
    let _ = std::fs::remove_file(&report);
    let ran = env.run(&[
        "emulator",
        "--fleet",
        "examples/fleet.yaml",
        "--fault-rate",
        "0.5",
        "--seed",
        seed,
        "--",
        "apply",
        "-f",
        EXAMPLE,
        "--auto-approve",
        "--max-tries",
        "1",
        "--report",
        "report.json",
    ]);
    let statuses = match std::fs::read(&report) {
        Ok(bytes) => {
            let report: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON report");
            report["outcomes"]
                .as_array()
                .expect("outcomes")
                .iter()
                .map(|o| {
                    format!(
                        "{} {} {}",
                        o["change"]["resource"]["id"], o["status"], o["code"]
                    )
                })
                .collect()
        }
        Err(_) => Vec::new(),
    };
    let masked = |text: &str| {
        let text = without(text, "request id ", |c| c.is_ascii_hexdigit() || c == '-');
        without(&text, "http://127.0.0.1:", |c| c.is_ascii_digit())
    };
    (ran.code, masked(&ran.out), masked(&ran.err), statuses)
}

/// `text` without the run of characters that `keep` accepts after each
/// `marker`: for values that differ between runs by design (request ids,
/// the emulator's port).
fn without(text: &str, marker: &str, keep: fn(char) -> bool) -> String {
    let mut parts = text.split(marker);
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        out.push_str(marker);
        out.push_str(part.trim_start_matches(keep));
    }
    out
}

#[test]
fn the_same_seed_gives_the_same_faults_run_after_run() {
    let env = Emulated::example();
    // 4: faults end the run in its reads; 5: a seed whose faults leave the
    // reads whole and leave some joins unsettled after the read-back and
    // the second pass, so that the report has both kinds of status.
    for seed in ["4", "5"] {
        let first = faulty_apply(&env, seed);
        for _ in 0..2 {
            assert_eq!(faulty_apply(&env, seed), first, "seed {seed}");
        }
        if seed == "5" {
            let statuses = first.3.join("\n");
            assert!(
                statuses.contains("\"moved\"")
                    && (statuses.contains("\"failed\"") || statuses.contains("\"unverified\"")),
                "seed 5 no longer gives a mixed report: {statuses}\n{}",
                first.2
            );
        }
    }
}

/// Runs a command that must succeed.
fn ok(env: &Emulated, args: &[&str]) -> Ran {
    let ran = env.run(args);
    assert_eq!(ran.code, 0, "{args:?}: {}", ran.err);
    ran
}
