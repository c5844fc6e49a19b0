//! Ctrl-C, SIGTERM and SIGHUP during `apply`: calls in flight finish, a
//! second interrupt exits at once, and the report and undo plan agree with
//! the account. A run cut short against a dead or hung server is in
//! `disrupted_runs.rs`.

use crate::harness::{assert_has_line, read_json, stdout_of, Running, Setup, ALL_INTO_PROD};
use std::time::{Duration, Instant};

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
    assert_eq!(
        report["interrupted"], true,
        "the report says interrupted: {report:#}"
    );
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
    assert!(
        env.runtime
            .block_on(env.emulator.snapshot())
            .resources
            .iter()
            .all(|r| r.group.is_some()),
        "after the rerun every instance has left the default group"
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
    assert_has_line(&seen, "Plan: 20 to move, 0 unchanged.");
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
    assert_eq!(
        status.code(),
        Some(130),
        "a second interrupt exits 130 at once: {rest:?}"
    );
    // It did not wait for the calls in flight: they are left unverified,
    // and the summary still says so.
    assert!(
        rest.iter()
            .any(|l| l.contains("Apply interrupted!") && l.contains("4 unverified")),
        "{rest:?}"
    );
}

/// Starts `apply --auto-approve --report report.json --undo-plan
/// undo.json` against a slow emulator whose joins are 30 % phantom,
/// sends `signal` once 20 joins have arrived, and returns the exit code
/// and stderr.
fn apply_then(env: &Running, signal: &str) -> (i32, String) {
    let mut child = env
        .process(&[
            "apply",
            "--auto-approve",
            "--parallelism",
            "4",
            "--report",
            "report.json",
            "--undo-plan",
            "undo.json",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while env.writes() < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (code, err)
}

fn phantom_fleet() -> Running {
    Setup::new()
        .instances(120)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.latency = Duration::from_millis(20);
            s.phantom_rate = 0.3;
            s.seed = Some(11);
        })
        .start()
}

#[test]
fn after_sigterm_with_phantom_joins_every_outcome_agrees_with_the_account() {
    let env = phantom_fleet();
    let (code, err) = apply_then(&env, "TERM");
    assert_eq!(code, 130, "{err}");
    let report = read_json(&env.path("report.json"));
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 120, "one outcome per change: {report:#}");
    let mut moved = 0;
    for outcome in outcomes {
        let id = outcome["change"]["resource"]["id"].as_str().unwrap();
        let now = env.group_of(id);
        let status = outcome["status"].as_str().unwrap();
        let agrees = match status {
            "moved" => now == "rg-prod",
            "not_started" | "failed" | "not_moved_despite_success" => now == "rg-default",
            "unverified" => true,
            other => panic!("{id}: unexpected status {other}"),
        };
        moved += usize::from(status == "moved");
        assert!(
            agrees,
            "{id} is reported {status} but is in {now}: {outcome}"
        );
    }
    assert!(moved > 0, "nothing was read back as moved: {report}");
    // The undo plan takes back every change that may have happened.
    let undo = read_json(&env.path("undo.json"));
    let undone: Vec<&str> = undo["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["resource"]["id"].as_str().unwrap())
        .collect();
    for outcome in outcomes {
        let id = outcome["change"]["resource"]["id"].as_str().unwrap();
        if env.group_of(id) == "rg-prod" {
            assert!(
                undone.contains(&id),
                "{id} moved but is not in the undo plan"
            );
        }
    }
}

#[test]
fn sighup_leaves_a_report_and_an_undo_plan() {
    let env = phantom_fleet();
    let (code, err) = apply_then(&env, "HUP");
    assert_eq!(code, 130, "a hang-up stops the run as SIGTERM does: {err}");
    let report = read_json(&env.path("report.json"));
    assert_eq!(report["interrupted"], true, "{report}");
    assert_eq!(
        report["outcomes"].as_array().unwrap().len(),
        120,
        "one outcome per change: {report:#}"
    );
    let undo = read_json(&env.path("undo.json"));
    assert_eq!(undo["undo"], true, "the undo plan is marked undo: {undo:#}");
    assert_eq!(
        undo["changes"].as_array().unwrap().len() as u64,
        report["moved"].as_u64().unwrap() + report["unverified"].as_u64().unwrap(),
        "the undo plan holds every change that may have happened"
    );
}
