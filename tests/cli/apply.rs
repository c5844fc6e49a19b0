//! `apply`: approval, saved plans, the stale-plan guard, failures, retries, interrupts and progress.

use regroup::resource::ResourceType;

use crate::harness::{
    apply_all_with_report, read_json, stdout_of, Setup, ALL_INTO_PROD, TWO_INTO_PROD,
};

#[test]
fn the_prompt_accepts_only_yes() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    for (answer, moved) in [("y", false), ("YES", false), ("", false), ("yes", true)] {
        let mut session =
            rexpect::session::spawn_command(env.process(&["apply"]), Some(20_000)).unwrap();
        session
            .exp_string("Do you want to perform these actions?")
            .unwrap();
        session.exp_string("Enter a value:").unwrap();
        session.send_line(answer).unwrap();
        let rest = session.exp_eof().unwrap();
        if moved {
            assert!(
                rest.contains("Apply complete! 2 moved, 0 failed."),
                "{rest}"
            );
        } else {
            assert!(rest.contains("Apply cancelled."), "{answer:?}: {rest}");
            assert_eq!(env.writes(), 0, "{answer:?} approved");
        }
    }
    assert_eq!(env.group_of("i-bp1test00001"), "rg-prod");
}

#[test]
fn without_a_terminal_apply_needs_auto_approve() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let (code, _, err) = stdout_of(env.regroup(&["apply"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("stdin is not a terminal; pass --auto-approve"),
        "{err}"
    );
    assert_eq!(env.writes(), 0);
}

#[test]
fn resources_gone_before_the_writes_fail_alone_and_a_rerun_converges() {
    let env = Setup::new().instances(6).manifest(ALL_INTO_PROD).start();
    let report = env.path("report.json");
    let mut session = rexpect::session::spawn_command(
        env.process(&["apply", "--report", report.to_str().unwrap()]),
        Some(20_000),
    )
    .unwrap();
    session.exp_string("Plan: 6 to move, 0 unchanged.").unwrap();
    session.exp_string("Enter a value:").unwrap();
    env.delete(ResourceType::Instance, "i-bp1test00001");
    env.delete(ResourceType::Instance, "i-bp1test00004");
    session.send_line("yes").unwrap();
    let rest = session.exp_eof().unwrap();
    let status = session.process().wait().unwrap();
    assert!(
        format!("{status:?}").starts_with("Exited(") && format!("{status:?}").ends_with(", 1)"),
        "{status:?}"
    );
    assert!(
        rest.contains("Apply complete! 4 moved, 2 failed."),
        "{rest}"
    );
    assert!(
        rest.contains("instance/i-bp1test00001 (cn-hangzhou): InvalidResourceId.NotFound"),
        "{rest}"
    );
    for n in [0, 2, 3, 5] {
        assert_eq!(env.group_of(&format!("i-bp1test{n:05}")), "rg-prod");
    }
    let report = read_json(&report);
    assert_eq!(
        (report["moved"].as_u64(), report["failed"].as_u64()),
        (Some(4), Some(2))
    );

    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("No changes."), "{out}");
}

#[test]
fn a_saved_plan_is_applied_exactly() {
    let env = Setup::new().instances(2).manifest(ALL_INTO_PROD).start();
    let plan = env.path("plan.json");
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    // An instance that the rule would match appears after planning: the
    // saved plan still moves only what it lists.
    env.edit(|account| {
        let mut late = account.resources.values().next().cloned().unwrap();
        late.id = "i-bp1late".into();
        account.resources.insert(
            (
                ResourceType::Instance,
                "cn-hangzhou".into(),
                "i-bp1late".into(),
            ),
            late,
        );
    });
    let (code, out, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Apply complete! 2 moved, 0 failed."), "{out}");
    assert_eq!(env.writes(), 2);
    assert_eq!(env.group_of("i-bp1late"), "rg-default");
}

#[test]
fn a_stale_plan_is_refused_before_any_write() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    env.edit(|account| {
        let key = (
            ResourceType::Instance,
            "cn-hangzhou".to_owned(),
            "i-bp1test00001".to_owned(),
        );
        if let Some(resource) = account.resources.get_mut(&key) {
            resource.group = Some("rg-dev".into());
        }
    });
    let before = env.runtime.block_on(env.emulator.snapshot());
    let (code, _, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(err.contains("the saved plan is stale"), "{err}");
    assert!(
        err.contains(
            "instance/i-bp1test00001 (cn-hangzhou): planned from rg-default, now in rg-dev"
        ),
        "{err}"
    );
    assert!(
        !err.contains("i-bp1test00000"),
        "only what drifted is listed: {err}"
    );
    assert_eq!(env.writes(), 0);
    assert_eq!(env.runtime.block_on(env.emulator.snapshot()), before);
}

#[test]
fn plans_from_another_manifest_or_format_are_refused() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));

    let mut newer = read_json(&plan);
    newer["format_version"] = serde_json::json!(2);
    let newer_path = env.path("newer.json");
    std::fs::write(&newer_path, newer.to_string()).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", newer_path.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        err.contains("plan format version 2 is not supported"),
        "{err}"
    );

    let mut edited = read_json(&plan);
    edited["changes"][0]["resource"]["type"] = serde_json::json!("vm");
    let edited_path = env.path("edited.json");
    std::fs::write(&edited_path, edited.to_string()).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", edited_path.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        err.contains("not a valid regroup plan") && err.contains("unknown variant `vm`"),
        "{err}"
    );

    std::fs::write(
        &env.manifest,
        format!("{TWO_INTO_PROD}      - instance/i-bp1test00002\n"),
    )
    .unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(err.contains("was planned from another version of"), "{err}");
    assert_eq!(env.writes(), 0);
}

#[test]
fn moves_the_api_acknowledged_but_did_not_make_are_failures() {
    let env = Setup::new()
        .instances(3)
        .manifest(TWO_INTO_PROD)
        .emulator(|s| s.phantom_rate = 1.0)
        .start();
    let (code, out, _) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Apply complete! 0 moved, 2 failed."), "{out}");
    assert!(
        out.contains(
            "NotMovedDespiteSuccess: the call succeeded but the resource is still in rg-default"
        ),
        "{out}"
    );
}

/// The one end-to-end run through faults and a server quota; it checks
/// counts. How the client's limiter meets a quota is checked on a paused
/// clock: `cloud::tests::the_limiter_settles_under_a_server_quota`.
#[test]
fn moves_through_faults_and_a_server_quota_all_land() {
    let env = Setup::new()
        .instances(200)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.fault_rate = 0.2;
            s.seed = Some(5);
            s.qps = Some(50);
            // 200 joins, four at a time, take at least 6 s: longer than
            // the 5 s between progress lines.
            s.latency = std::time::Duration::from_millis(120);
            s.record_requests = false;
        })
        .start();
    let (report, progress) =
        apply_all_with_report(&env, &["--max-tries", "12", "--parallelism", "4"], 200);
    // Without a terminal, progress comes as plain lines on stderr, for CI logs.
    assert!(
        progress.contains("Applying: ") && progress.contains("/200 done, 0 failed, "),
        "{progress}"
    );
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 200);
    assert!(outcomes.iter().all(|o| o["status"] == "moved"));
    let tries: u64 = outcomes.iter().filter_map(|o| o["tries"].as_u64()).sum();
    assert!(tries > 200, "faults were retried");
    assert_eq!(
        report["calls"]["per_action"]["JoinResourceGroup"].as_u64(),
        Some(tries),
        "every try was one request"
    );
    let fleet = env.runtime.block_on(env.emulator.snapshot());
    assert!(fleet
        .resources
        .iter()
        .all(|r| r.group.as_deref() == Some("rg-prod")));
}

#[test]
fn an_interrupt_lets_calls_in_flight_finish_and_a_rerun_finishes_the_rest() {
    let env = Setup::new()
        .instances(300)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.latency = std::time::Duration::from_millis(20);
            s.record_requests = false;
        })
        .start();
    let report = env.path("report.json");
    let child = env
        .process(&[
            "apply",
            "--auto-approve",
            "--parallelism",
            "4",
            "--report",
            report.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let moved_now = || {
        let fleet = env.runtime.block_on(env.emulator.snapshot());
        fleet.resources.iter().filter(|r| r.group.is_some()).count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while moved_now() < 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{out}");
    assert!(out.contains("Apply interrupted!"), "{out}");

    let report = read_json(&report);
    assert_eq!(report["interrupted"], true);
    let fleet = env.runtime.block_on(env.emulator.snapshot());
    let in_prod: std::collections::BTreeSet<String> = fleet
        .resources
        .iter()
        .filter(|r| r.group.is_some())
        .map(|r| r.id.clone())
        .collect();
    let outcomes = report["outcomes"].as_array().unwrap();
    let reported_moved: std::collections::BTreeSet<String> = outcomes
        .iter()
        .filter(|o| o["status"] == "moved")
        .map(|o| o["change"]["resource"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        reported_moved, in_prod,
        "the report says exactly what moved"
    );
    let not_started = outcomes
        .iter()
        .filter(|o| o["status"] == "not_started")
        .count();
    assert!(
        not_started > 0 && not_started + in_prod.len() == 300,
        "{not_started} not started, {} moved",
        in_prod.len()
    );

    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Apply complete! {not_started} moved, 0 failed.")),
        "{out}"
    );
    assert!(env
        .runtime
        .block_on(env.emulator.snapshot())
        .resources
        .iter()
        .all(|r| r.group.is_some()));
}

#[test]
fn hand_edited_plans_are_refused_before_any_call() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    let calls_after_planning = env.requests().len();
    let original = read_json(&plan);
    let edit = |name: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let mut edited = original.clone();
        change(&mut edited);
        let path = env.path(name);
        std::fs::write(&path, edited.to_string()).unwrap();
        path
    };
    let cases = [
        (
            edit("group.json", &|p| {
                p["changes"][0]["to"]["id"] = serde_json::json!("rg-dev")
            }),
            "the plan was changed after it was made",
        ),
        (
            edit("type.json", &|p| {
                p["changes"][0]["resource"]["type"] = serde_json::json!("vm")
            }),
            "not a valid regroup plan: unknown variant `vm`",
        ),
        (
            edit("version.json", &|p| {
                p["format_version"] = serde_json::json!(7)
            }),
            "plan format version 7 is not supported",
        ),
        (
            edit("array.json", &|p| *p = serde_json::json!([1, 2])),
            "not a valid regroup plan",
        ),
    ];
    for (path, expected) in cases {
        let (code, _, err) = stdout_of(env.regroup(&["apply", path.to_str().unwrap()]));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(expected), "{path:?}: {err}");
    }
    assert_eq!(
        env.requests().len(),
        calls_after_planning,
        "a refused plan makes no call"
    );
}

#[test]
fn a_terminal_gets_a_progress_bar() {
    let env = Setup::new()
        .instances(200)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.latency = std::time::Duration::from_millis(20);
            s.record_requests = false;
        })
        .start();
    let mut command = env.process(&["apply", "--auto-approve", "--parallelism", "2"]);
    command.env("TERM", "xterm");
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).unwrap();
    // The bar's counter, drawn on the terminal while the moves run.
    session.exp_regex(r"\d+/200").unwrap();
    let rest = session.exp_eof().unwrap();
    assert!(
        rest.contains("Apply complete! 200 moved, 0 failed."),
        "{rest}"
    );
    assert!(
        !rest.contains("Applying: "),
        "a terminal gets the bar, not log lines"
    );
}

#[test]
fn a_second_interrupt_exits_at_once() {
    use std::io::BufRead;
    let env = Setup::new()
        .instances(20)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            // Calls in flight take long, so the first interrupt leaves the
            // process waiting for them when the second arrives.
            s.latency = std::time::Duration::from_secs(3);
            s.record_requests = false;
        })
        .start();
    let mut child = env
        .process(&["apply", "--auto-approve", "--parallelism", "4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // The plan is printed just before the moves start.
    let mut seen = String::new();
    for line in stdout.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("Plan: 20 to move") {
            break;
        }
    }
    assert!(seen.contains("Plan: 20 to move"), "{seen}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let interrupt = || {
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
    };
    interrupt();
    std::thread::sleep(std::time::Duration::from_millis(300));
    interrupt();
    let status = child.wait().unwrap();
    let rest: Vec<String> = stdout.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(130));
    // It did not wait for the calls in flight: they are left unverified,
    // and the summary still says so.
    assert!(
        rest.iter()
            .any(|l| l.contains("Apply interrupted!") && l.contains("4 unverified")),
        "{rest:?}"
    );
}
