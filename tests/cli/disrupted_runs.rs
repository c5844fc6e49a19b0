//! A run cut short, through the real binary against a spawned emulator
//! with a state file: SIGTERM or Ctrl-C during `apply`, and the server
//! killed or hung (SIGSTOP) mid-apply, and credentials that die mid-apply. The summary and the report must
//! agree with the state file whatever the load: no test counts on how far
//! the run got, only on what the server saved. Interrupts of an apply
//! against a healthy server are in `interrupts.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use regroup::emulator::fleet::Fleet;

use crate::harness::Folder;
use crate::quotas::{assert_report_matches, groups_of, report, setup, statuses, PROD, REGIONS};

/// `apply --auto-approve --report report.json ARGS`, in the background.
fn spawn_apply(folder: &Folder, args: &[&str]) -> Child {
    let mut all = vec!["apply", "--auto-approve", "--report", "report.json"];
    all.extend_from_slice(args);
    folder
        .process(&all)
        .stdout(Stdio::piped())
        .stderr(File::create(folder.path("apply.err")).unwrap())
        .spawn()
        .unwrap()
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid} failed: {status}");
}

/// Waits until `done()`, for at most 120 s: the loop is bounded, and a
/// run that never gets there fails here, saying so, rather than later with
/// a puzzling count.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited 120 s for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The resources the state file has in prod (none while it is not there
/// yet). Parsed, not counted as text: the text also names prod in the
/// group list, which made "20 matches" mean 19 moves.
fn saved_in_prod(state: &Path) -> BTreeSet<String> {
    Fleet::load(state)
        .map(|fleet| {
            groups_of(&fleet)
                .into_iter()
                .filter(|(_, group)| group == PROD)
                .map(|(id, _)| id)
                .collect()
        })
        .unwrap_or_default()
}

/// What [`disrupted_apply`] saw.
struct Disrupted {
    code: i32,
    out: String,
    err: String,
    report: serde_json::Value,
    /// Every resource's group in the state file after the run.
    groups: BTreeMap<String, String>,
    /// The resources the state file had in prod when the disruption came:
    /// their joins were sent and answered by the server, whatever the load.
    seen_moved: BTreeSet<String>,
}

impl Disrupted {
    /// The report agrees with the state file (see [`assert_report_matches`]),
    /// leaves some of the 300 not started (the disruption came at about
    /// 20), and reports every join the server saved before the disruption
    /// as one of `saved_are`. What holds whatever the load: how many joins
    /// had started when the disruption came does not enter into it.
    #[track_caller]
    fn assert_agrees_with_the_state(&self, saved_are: &[&str]) {
        let report = &self.report;
        assert_report_matches(report, &self.groups, 300);
        assert!(
            report["not_started"].as_u64().unwrap_or(0) > 0,
            "a run cut short at about 20 of 300 leaves some not started: {report:#}"
        );
        let statuses = statuses(report);
        let otherwise: BTreeMap<&String, &str> = self
            .seen_moved
            .iter()
            .map(|id| (id, statuses.get(id).map_or("(none)", String::as_str)))
            .filter(|(_, status)| !saved_are.contains(status))
            .collect();
        assert_eq!(
            otherwise,
            BTreeMap::new(),
            "each of the {} joins saved before the disruption is reported one of {saved_are:?}\n{}",
            self.seen_moved.len(),
            self.err
        );
    }
}

/// Runs an apply against a spawned emulator with a state file, does
/// `disrupt(emulator pid, apply pid)` once 20 moves are saved, and returns
/// what came of it.
fn disrupted_apply(
    emulator_args: &[&str],
    apply_args: &[&str],
    disrupt: impl FnOnce(u32, u32),
) -> Disrupted {
    let mut args = vec!["--state", "state.json"];
    args.extend_from_slice(emulator_args);
    let mut server = setup(300, &REGIONS[..1]).spawn(&args);
    let state = server.path("state.json");
    let apply = spawn_apply(&server, apply_args);
    let mut seen_moved = BTreeSet::new();
    wait_for("20 moves in the state file", || {
        seen_moved = saved_in_prod(&state);
        seen_moved.len() >= 20
    });
    disrupt(server.child.id(), apply.id());
    let output = apply.wait_with_output().expect("the apply ends");
    let _ = signal_quietly(server.child.id(), "CONT");
    let _ = server.child.kill();
    let _ = server.child.wait();
    let groups = groups_of(&Fleet::load(&state).expect("the state file loads"));
    Disrupted {
        code: output.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: std::fs::read_to_string(server.path("apply.err")).unwrap_or_default(),
        report: report(&server),
        groups,
        seen_moved,
    }
}

fn signal_quietly(pid: u32, name: &str) -> std::io::Result<std::process::ExitStatus> {
    Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .stderr(Stdio::null())
        .status()
}

#[test]
fn sigterm_leaves_a_summary_and_a_report_that_match_the_state() {
    let run = disrupted_apply(&["--latency", "20"], &["--parallelism", "4"], |_, apply| {
        signal(apply, "TERM")
    });
    let (out, report) = (&run.out, &run.report);
    assert_eq!(run.code, 130, "SIGTERM exits 130:\n{out}\n{}", run.err);
    assert!(
        out.contains("Apply interrupted!"),
        "the summary says interrupted:\n{out}"
    );
    assert_eq!(
        report["interrupted"], true,
        "the report says interrupted: {report:#}"
    );
    run.assert_agrees_with_the_state(&["moved", "unverified"]);
}

#[test]
fn a_server_killed_mid_apply_leaves_a_summary_and_a_report_that_match_the_state() {
    let run = disrupted_apply(
        &["--latency", "20"],
        &["--parallelism", "4"],
        |server, _| signal(server, "KILL"),
    );
    let out = &run.out;
    assert_eq!(run.code, 1, "a dead endpoint exits 1:\n{out}\n{}", run.err);
    assert!(
        out.contains("Apply stopped!"),
        "the summary says stopped:\n{out}"
    );
    // The breaker stopped the run; the reason is given once.
    assert!(
        out.contains("not started: JoinResourceGroup: not sent:")
            && out.contains("stopped answering"),
        "the summary gives the breaker's reason:\n{out}"
    );
    // Reading back was impossible: every join the server saved before it
    // died is unverified (neither moved, which nothing confirmed, nor not
    // started).
    run.assert_agrees_with_the_state(&["unverified"]);
}

#[test]
fn a_hung_server_trips_the_breaker_and_the_run_ends_with_a_report() {
    let run = disrupted_apply(
        &["--latency", "20"],
        &["--parallelism", "4", "--request-timeout", "6s"],
        |server, _| signal(server, "STOP"),
    );
    let (out, err) = (&run.out, &run.err);
    assert_eq!(run.code, 1, "a hung endpoint exits 1:\n{out}\n{err}");
    assert!(
        out.contains("stopped answering"),
        "the summary gives the breaker's reason:\n{out}"
    );
    // While calls hung (two request timeouts before the breaker opens),
    // progress kept coming.
    assert!(err.contains("Applying: "), "progress kept coming:\n{err}");
    run.assert_agrees_with_the_state(&["moved", "unverified"]);
}

/// How many joins were started when the interrupt came depends on the load
/// (the server may hang after saving a join but before answering it), so
/// this checks what holds whatever the load: every join the state file
/// showed saved before the stop is reported `moved` or `unverified`, never
/// `not_started` or `failed`.
#[test]
fn ctrl_c_against_a_hung_server_exits_130_with_a_report() {
    let run = disrupted_apply(
        &["--latency", "20"],
        // A breaker would end the run by itself after five timeouts; with
        // one call at a time, the interrupt comes first.
        &["--parallelism", "1", "--request-timeout", "3s"],
        |server, apply| {
            signal(server, "STOP");
            std::thread::sleep(Duration::from_millis(500));
            signal(apply, "INT");
        },
    );
    let out = &run.out;
    assert_eq!(run.code, 130, "Ctrl-C exits 130:\n{out}\n{}", run.err);
    assert!(
        out.contains("Apply interrupted!"),
        "the summary says interrupted:\n{out}"
    );
    run.assert_agrees_with_the_state(&["moved", "unverified"]);
}

/// A credentials URI that answers once: the first request gets the
/// emulator's instance-role keys (fetched for it, so the keys' lifetime
/// starts then), every later connection is closed unanswered, as when the
/// credentials service goes down mid-run. The thread ends when `done` is
/// set, or after 300 s.
fn credentials_uri_answering_once(
    emulator: &str,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> String {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    const PATH: &str = "/latest/meta-data/ram/security-credentials/regroup-emulator-role";
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}{PATH}", listener.local_addr().unwrap());
    let emulator = emulator.trim_start_matches("http://").to_owned();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        let mut answered = false;
        while !done.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            let Ok((mut client, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            if answered {
                continue; // dropped: the connection closes unanswered
            }
            answered = true;
            client.set_nonblocking(false).unwrap();
            client
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            // The request head, up to its blank line (a GET has no body).
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 65_536 {
                if client.read(&mut byte).unwrap_or(0) == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let mut upstream = std::net::TcpStream::connect(&emulator).unwrap();
            write!(
                upstream,
                "GET {PATH} HTTP/1.1\r\nHost: {emulator}\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut answer = Vec::new();
            upstream.read_to_end(&mut answer).unwrap();
            client.write_all(&answer).unwrap();
        }
    });
    url
}

/// The apply's keys come from a credentials URI that stops answering after
/// the first fetch, and live 6 s (at 40 joins a second, about 200 of the
/// 300 are made before they die; each change left then costs a failed
/// fetch, so the run is kept short): the refresh fails, the emulator then
/// refuses the expired keys, and the final read-back cannot be made. What
/// was read back while the joins ran stays `moved`, every `moved` is true,
/// every resource that moved is `moved` or `unverified`, a change never
/// sent did not move, and the undo plan holds every resource that moved.
#[test]
fn credentials_dying_mid_apply_keep_what_was_verified_and_undo_all_that_may_have_moved() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = crate::harness::Setup::new()
        .instances(600)
        .manifest(crate::harness::ALL_INTO_PROD)
        .emulator(|s| {
            // About 300 joins at 40/s before the keys expire: far more than
            // the 100 of one full read-back batch, and far fewer than 600.
            s.sts_ttl = Some(Duration::from_secs(8));
            s.record_requests = false;
        })
        .without_env_keys()
        .start();
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let uri = credentials_uri_answering_once(&env.emulator.url(), done.clone());
    let (report, undo) = (env.path("report.json"), env.path("undo.json"));
    let mut apply = env.regroup(&[
        "apply",
        "--auto-approve",
        "--rate",
        "40",
        // Once the keys are gone every join fails after its own failed
        // fetch of the credentials; a few are enough to stop the run.
        "--max-errors",
        "3",
        "--report",
        report.to_str().unwrap(),
        "--undo-plan",
        undo.to_str().unwrap(),
    ]);
    apply.env("ALIBABA_CLOUD_CREDENTIALS_URI", &uri);
    let (code, out, err) = crate::harness::stdout_of(apply);
    done.store(true, Ordering::SeqCst);
    let report = crate::harness::read_json(&report);
    let undo = crate::harness::read_json(&undo);
    let in_prod: BTreeSet<String> = env
        .snapshot()
        .resources
        .into_iter()
        .filter(|r| r.group.as_deref() == Some("rg-prod"))
        .map(|r| r.id)
        .collect();
    let with_status = |status: &str| -> BTreeSet<String> {
        report["outcomes"]
            .as_array()
            .expect("the report lists outcomes")
            .iter()
            .filter(|o| o["status"] == status)
            .map(|o| o["change"]["resource"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (moved, unverified) = (with_status("moved"), with_status("unverified"));
    let context = format!("exit {code}\n{out}{err}");
    assert!(
        !moved.is_empty(),
        "what was read back before the keys died stays moved: {context}"
    );
    assert_eq!(
        report["moved"].as_u64(),
        Some(moved.len() as u64),
        "the count is of the outcomes: {context}"
    );
    let false_claims: Vec<&String> = moved.difference(&in_prod).collect();
    assert!(
        false_claims.is_empty(),
        "reported moved but not in prod: {false_claims:?}"
    );
    let lost: Vec<&String> = in_prod
        .iter()
        .filter(|id| !moved.contains(*id) && !unverified.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "in prod but neither moved nor unverified in the report: {lost:?}"
    );
    let sent_nothing_yet_moved: Vec<String> = with_status("not_started")
        .intersection(&in_prod)
        .cloned()
        .collect();
    assert!(
        sent_nothing_yet_moved.is_empty(),
        "reported not_started but moved: {sent_nothing_yet_moved:?}"
    );
    let undone: BTreeSet<String> = undo["changes"]
        .as_array()
        .expect("the undo plan lists changes")
        .iter()
        .map(|c| c["resource"]["id"].as_str().unwrap().to_owned())
        .collect();
    let not_undone: Vec<&String> = in_prod.difference(&undone).collect();
    assert!(
        not_undone.is_empty(),
        "moved but left out of the undo plan: {not_undone:?}"
    );
}
