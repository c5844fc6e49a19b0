//! Quotas, waiting and the record of an apply, through the real binary:
//! calendar-window quotas in the emulator and Quota Center discovery
//! (issue 12), and the summary and report on every way a run ends, a dead or
//! hung endpoint, and Ctrl-C (issue 17, items 1 and 2). No timed
//! assertions: counts and statuses, compared with the emulator's state.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use regroup::emulator::fleet::Fleet;
use regroup::emulator::Settings;
use regroup::resource::ResourceType;

use crate::harness::{apply_all_with_report, read_json, Folder, Running, Setup};
use crate::text::indoc;

const REGIONS: [&str; 3] = ["cn-hangzhou", "cn-shanghai", "cn-beijing"];

/// The default and prod groups of [`Setup::new`].
const DEFAULT: &str = "rg-default";
const PROD: &str = "rg-prod";

/// `count` instances spread over `regions`, all in the default group, and
/// a manifest that moves every instance of `regions` into prod.
fn setup(count: usize, regions: &[&str]) -> Setup {
    let manifest = indoc(&format!(
        "
        version: 1
        regions: [{}]
        groups:
          prod:
            select:
              - type: instance
        ",
        regions.join(", ")
    ));
    (0..count).fold(Setup::new().manifest(&manifest), |setup, n| {
        setup.resource_in(
            regions[n % regions.len()],
            ResourceType::Instance,
            &format!("i-bp1quota{n:05}"),
            None,
        )
    })
}

/// The emulator in this process, serving [`setup`] with its settings
/// changed by `change`.
fn start(count: usize, regions: &[&str], change: impl FnOnce(&mut Settings)) -> Running {
    setup(count, regions).emulator(change).start()
}

/// The report that `--report report.json` wrote.
fn report(folder: &Folder) -> serde_json::Value {
    read_json(&folder.path("report.json"))
}

/// Resource id → group id, now.
fn groups(env: &Running) -> BTreeMap<String, String> {
    groups_of(&env.snapshot())
}

/// Requests answered with `Throttling.User`, by action.
fn throttled(env: &Running) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in env.requests() {
        if request.code.as_deref() == Some("Throttling.User") {
            *counts.entry(request.action).or_default() += 1;
        }
    }
    counts
}

fn groups_of(fleet: &Fleet) -> BTreeMap<String, String> {
    fleet
        .resources
        .iter()
        .map(|r| {
            (
                r.id.clone(),
                r.group.clone().unwrap_or_else(|| DEFAULT.into()),
            )
        })
        .collect()
}

fn quotas(specs: &[&str]) -> Vec<regroup::api::quota::QuotaSpec> {
    specs.iter().map(|s| s.parse().unwrap()).collect()
}

/// Each outcome's resource id and status.
fn statuses(report: &serde_json::Value) -> BTreeMap<String, String> {
    report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["change"]["resource"]["id"].as_str().unwrap().to_owned(),
                o["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The report agrees with the account: `moved` is in prod, `failed` and
/// `not_started` are not, `unverified` may be either; every change is
/// accounted for.
fn assert_report_matches(
    report: &serde_json::Value,
    groups: &BTreeMap<String, String>,
    total: usize,
) {
    let statuses = statuses(report);
    assert_eq!(statuses.len(), total, "every change has an outcome");
    for (id, status) in &statuses {
        let in_prod = groups[id] == PROD;
        match status.as_str() {
            "moved" => assert!(in_prod, "{id} is reported moved but is in {}", groups[id]),
            "failed" | "not_started" | "not_moved_despite_success" => {
                assert!(!in_prod, "{id} is reported {status} but is in prod")
            }
            "unverified" => {}
            other => panic!("unknown status {other}"),
        }
    }
    let count = |status: &str| statuses.values().filter(|s| *s == status).count();
    for (field, status) in [
        ("moved", "moved"),
        ("not_started", "not_started"),
        ("unverified", "unverified"),
    ] {
        assert_eq!(
            report[field].as_u64().unwrap() as usize,
            count(status),
            "{field}"
        );
    }
}

/// The 100 moves against `JoinResourceGroup=40/60s` and
/// `DescribeInstances=2/60s`, with the windows scaled down to 2 s: the same
/// counts per window, so the same waiting, in a test-sized time.
fn scaled_minute_windows(settings: &mut Settings) {
    settings.quotas = quotas(&["JoinResourceGroup=4/2s", "DescribeInstances=2/2s"]);
}

/// Applies the 12 moves of one region under [`scaled_minute_windows`]
/// changed by `change`, with `-v`: they must all land and a re-plan find
/// nothing to do. Returns the emulator and what apply logged.
fn apply_twelve_scaled(change: impl FnOnce(&mut Settings)) -> (Running, String) {
    let server = start(12, &REGIONS[..1], |s| {
        scaled_minute_windows(s);
        change(s);
    });
    let (report, err) = apply_all_with_report(&server, &["-v"], 12);
    assert_report_matches(&report, &groups(&server), 12);
    assert_eq!(
        report["calls"]["throttled"].as_u64().unwrap() as usize,
        throttled(&server).values().sum::<usize>(),
        "the report counts the throttled answers the server gave"
    );
    let (code, out, _) = server.run(&["plan"]);
    assert_eq!(code, 0, "exit code 0 expected:\n{out}");
    assert!(out.contains("No changes."), "{out}");
    (server, err)
}

#[test]
fn known_minute_quotas_scaled_down_are_paced_and_nothing_fails() {
    let (server, err) = apply_twelve_scaled(|_| {});
    assert!(err.contains("quota known: keeping just under it"), "{err}");
    // Paced under known quotas: not one call refused.
    assert_eq!(
        throttled(&server),
        BTreeMap::new(),
        "paced under known quotas: not one call refused"
    );
}

#[test]
fn without_quota_center_a_closed_window_is_waited_out_probing_once_a_second() {
    let (server, err) = apply_twelve_scaled(|s| s.deny_quota_center = true);
    assert!(
        err.contains("quota discovery failed") && err.contains("pacing adaptively"),
        "{err}"
    );
    // 12 joins at 4 per window need 3 windows of 2 s: while a window is
    // closed the client sends about one probe a second, so besides the
    // calls already in flight when it closed (the adaptive rate times the
    // latency, with spare: about 10 at the start, fewer once answers come),
    // each window brings at most about 2 refusals (3 to allow for the edge).
    let throttled = throttled(&server);
    let joins = throttled.get("JoinResourceGroup").copied().unwrap_or(0);
    assert!(
        joins <= 10 + 3 * 3,
        "{joins} throttled joins: {throttled:?}"
    );
}

#[test]
fn a_retry_hint_is_followed() {
    let server = start(12, &REGIONS[..1], |s| {
        scaled_minute_windows(s);
        s.deny_quota_center = true;
        s.retry_after_header = true;
    });
    let (code, out, err) = server.run(&["apply", "--auto-approve", "--parallelism", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Apply complete! 12 moved, 0 failed."), "{out}");
    // One call at a time, told when each window reopens: one refusal per
    // closed window at most (3 windows for 12 joins), none spent probing.
    let joins = throttled(&server)
        .get("JoinResourceGroup")
        .copied()
        .unwrap_or(0);
    assert!(joins <= 3, "{joins} throttled joins");
}

#[test]
fn a_known_quota_over_three_regions_is_never_exceeded() {
    let server = start(600, &REGIONS, |s| s.quotas = quotas(&["*=60/1s"]));
    let (report, _) = apply_all_with_report(&server, &["--parallelism", "32"], 600);
    assert_eq!(
        throttled(&server),
        BTreeMap::new(),
        "paced under known quotas: not one call refused"
    );
    assert_eq!(
        report["calls"]["throttled"], 0,
        "the report counts no throttled answer: {report:#}"
    );
    // Discovery asked once per region, for ECS FlowControl quotas.
    let asked: Vec<_> = server
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.action == "ListProductQuotas")
        .collect();
    assert_eq!(asked.len(), 3, "Quota Center is asked once per region");
    assert!(
        asked
            .iter()
            .all(|r| r.params["QuotaCategory"] == "FlowControl"
                && r.params["ProductCode"] == "ecs"
                && r.params["Version"] == "2020-05-10"),
        "quota discovery asks for ECS FlowControl quotas (2020-05-10)"
    );
}

#[test]
fn through_faults_the_report_matches_the_account_and_nothing_is_left() {
    for (rate, retry_for) in [(0.3, "5m"), (0.5, "10m")] {
        let server = start(300, &REGIONS, |s| {
            s.fault_rate = rate;
            s.seed = Some(12);
        });
        let (code, out, err) = server.run(&[
            "apply",
            "--auto-approve",
            "--parallelism",
            "16",
            "--report",
            "report.json",
            "--max-tries",
            "12",
            "--retry-for",
            retry_for,
        ]);
        assert_eq!(code, 0, "fault rate {rate}: {out}\n{err}");
        let report = report(&server);
        assert_report_matches(&report, &groups(&server), 300);
        assert_eq!(report["moved"], 300, "fault rate {rate}");
        // Moves whose answer was lost, found moved on reading back.
        let noted = report["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["note"].is_string())
            .count();
        eprintln!("fault rate {rate}: {noted} moves confirmed by reading back after a failed call");
        // The plan reads retry through faults as well.
        let (code, out, err) = server.run(&["plan", "--max-tries", "12"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("No changes."), "{out}");
    }
}

#[test]
fn a_failed_read_back_still_prints_the_summary_and_writes_the_report() {
    // One DescribeInstances a day: the plan's read takes it, the read-back
    // is refused and the retry budget ends before the window does.
    let server = start(6, &REGIONS[..1], |s| {
        s.quotas = quotas(&["DescribeInstances=1/86400s"]);
        s.deny_quota_center = true;
    });
    let (code, out, err) = server.run(&[
        "apply",
        "--auto-approve",
        "--report",
        "report.json",
        "--retry-for",
        "1s",
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("Apply complete! 0 moved, 0 failed, 6 unverified."),
        "{out}"
    );
    assert!(
        out.contains("could not read back") && out.contains("Throttling.User"),
        "{out}"
    );
    let report = report(&server);
    assert_eq!(
        report["unverified"], 6,
        "every started join is unverified: {report:#}"
    );
    assert!(
        statuses(&report).values().all(|s| s == "unverified"),
        "every outcome is unverified: {report:#}"
    );
    assert_report_matches(&report, &groups(&server), 6);
    // The joins themselves were made.
    assert!(
        groups(&server).values().all(|g| g == PROD),
        "the joins themselves were made: {:?}",
        groups(&server)
    );
}

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
    /// The resources of `seen_moved` whose reported status is not one of
    /// `allowed`, with that status.
    fn seen_moved_reported_otherwise(&self, allowed: &[&str]) -> BTreeMap<String, String> {
        let statuses = statuses(&self.report);
        self.seen_moved
            .iter()
            .map(|id| (id.clone(), statuses.get(id).cloned().unwrap_or_default()))
            .filter(|(_, status)| !allowed.contains(&status.as_str()))
            .collect()
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
    let Disrupted {
        code,
        out,
        err,
        report,
        groups,
        ..
    } = &run;
    assert_eq!(*code, 130, "SIGTERM exits 130:\n{out}\n{err}");
    assert!(
        out.contains("Apply interrupted!"),
        "the summary says interrupted:\n{out}"
    );
    assert_eq!(
        report["interrupted"], true,
        "the report says interrupted: {report:#}"
    );
    assert_report_matches(report, groups, 300);
    assert!(
        report["not_started"].as_u64().unwrap() > 0,
        "an interrupt at 20 of 300 leaves some not started: {report:#}"
    );
    assert_eq!(
        run.seen_moved_reported_otherwise(&["moved", "unverified"]),
        BTreeMap::new(),
        "a join the server saved before the signal is reported moved or unverified"
    );
}

#[test]
fn a_server_killed_mid_apply_leaves_a_summary_and_a_report_that_match_the_state() {
    let run = disrupted_apply(
        &["--latency", "20"],
        &["--parallelism", "4"],
        |server, _| signal(server, "KILL"),
    );
    let Disrupted {
        code,
        out,
        err,
        report,
        groups,
        ..
    } = &run;
    assert_eq!(*code, 1, "a dead endpoint exits 1:\n{out}\n{err}");
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
    assert_report_matches(report, groups, 300);
    assert!(
        report["not_started"].as_u64().unwrap() > 0,
        "a dead server at 20 of 300 leaves some not started: {report:#}"
    );
    // Reading back was impossible: every join the server saved before it
    // died is unverified (neither moved, which nothing confirmed, nor
    // not started).
    assert_eq!(
        run.seen_moved_reported_otherwise(&["unverified"]),
        BTreeMap::new(),
        "joins saved before the kill are unverified: {report:#}"
    );
}

#[test]
fn a_hung_server_trips_the_breaker_and_the_run_ends_with_a_report() {
    let run = disrupted_apply(
        &["--latency", "20"],
        &["--parallelism", "4", "--request-timeout", "6s"],
        |server, _| signal(server, "STOP"),
    );
    let Disrupted {
        code,
        out,
        err,
        report,
        groups,
        ..
    } = &run;
    assert_eq!(*code, 1, "a hung endpoint exits 1:\n{out}\n{err}");
    assert!(
        out.contains("stopped answering"),
        "the summary gives the breaker's reason:\n{out}"
    );
    // While calls hung (two request timeouts before the breaker opens),
    // progress kept coming.
    assert!(err.contains("Applying: "), "progress kept coming:\n{err}");
    assert_report_matches(report, groups, 300);
    assert!(
        report["not_started"].as_u64().unwrap() > 0,
        "a hung server at 20 of 300 leaves some not started: {report:#}"
    );
    assert_eq!(
        run.seen_moved_reported_otherwise(&["moved", "unverified"]),
        BTreeMap::new(),
        "a join the server saved before it hung is reported moved or unverified"
    );
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
    let Disrupted {
        code,
        out,
        err,
        report,
        groups,
        ..
    } = &run;
    assert_eq!(*code, 130, "Ctrl-C exits 130:\n{out}\n{err}");
    assert!(
        out.contains("Apply interrupted!"),
        "the summary says interrupted:\n{out}"
    );
    assert_report_matches(report, groups, 300);
    assert_eq!(
        run.seen_moved_reported_otherwise(&["moved", "unverified"]),
        BTreeMap::new(),
        "every join saved before the stop ({} of them) is reported moved or unverified\n{err}",
        run.seen_moved.len()
    );
}
