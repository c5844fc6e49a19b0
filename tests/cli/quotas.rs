//! Quotas, waiting and the record of an apply, through the real binary:
//! calendar-window quotas in the emulator and Quota Center discovery
//! (issue 12), and the summary and report on every way a run ends, a dead or
//! hung endpoint, and Ctrl-C (issue 17, items 1 and 2). No timed
//! assertions: counts and statuses, compared with the emulator's state.

#[allow(dead_code)]
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use regroup::emulator::fleet::{Fleet, FleetResource};
use regroup::emulator::{Emulator, Settings};
use regroup::resource::ResourceType;

const REGIONS: [&str; 3] = ["cn-hangzhou", "cn-shanghai", "cn-beijing"];

/// The default and prod groups of [`crate::support::fleet`].
const DEFAULT: &str = crate::support::GROUPS[0].0;
const PROD: &str = crate::support::GROUPS[1].0;

/// `count` instances spread over `regions`, all in the default group.
fn fleet(count: usize, regions: &[&str]) -> Fleet {
    let mut fleet = crate::support::fleet(0);
    fleet.resources = (0..count)
        .map(|n| FleetResource {
            rtype: ResourceType::Instance,
            id: format!("i-bp1quota{n:05}"),
            region: regions[n % regions.len()].into(),
            name: format!("q-{n}"),
            group: None,
            tags: BTreeMap::new(),
            status: None,
            owner: None,
        })
        .collect();
    fleet
}

/// Every instance of `regions` into prod.
fn manifest(regions: &[&str]) -> String {
    format!(
        "version: 1\nregions: [{}]\ngroups:\n  prod:\n    select:\n      - type: instance\n",
        regions.join(", ")
    )
}

/// A folder with the manifest, and `regroup` run in it against `url`.
struct Workdir {
    dir: tempfile::TempDir,
    url: String,
}

impl Workdir {
    fn new(url: String, regions: &[&str]) -> Workdir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("regroup.yaml"), manifest(regions)).unwrap();
        Workdir { dir, url }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("regroup"));
        command
            .current_dir(self.dir.path())
            .env_clear()
            .env("HOME", self.dir.path())
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
            .env("REGROUP_ENDPOINT", &self.url)
            .args(args);
        command
    }

    /// Runs to the end: exit code, stdout, stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = self.command(args).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// `apply --auto-approve --report report.json ARGS`, in the background.
    fn spawn_apply(&self, args: &[&str]) -> Child {
        let mut all = vec!["apply", "--auto-approve", "--report", "report.json"];
        all.extend_from_slice(args);
        self.command(&all)
            .stdout(Stdio::piped())
            .stderr(File::create(self.path("apply.err")).unwrap())
            .spawn()
            .unwrap()
    }

    fn report(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.path("report.json")).expect("a report was written");
        serde_json::from_str(&text).unwrap()
    }
}

use std::fs::File;

/// The emulator in this process.
struct InProcess {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
}

impl InProcess {
    fn start(fleet: Fleet, settings: Settings) -> InProcess {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime
            .block_on(Emulator::start(
                fleet,
                settings,
                "127.0.0.1:0".parse().unwrap(),
            ))
            .unwrap();
        InProcess { runtime, emulator }
    }

    /// Resource id → group id, now.
    fn groups(&self) -> BTreeMap<String, String> {
        groups_of(&self.runtime.block_on(self.emulator.snapshot()))
    }

    /// Requests answered with `Throttling.User`, by action.
    fn throttled(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for request in self.emulator.requests() {
            if request.code.as_deref() == Some("Throttling.User") {
                *counts.entry(request.action).or_default() += 1;
            }
        }
        counts
    }
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

fn recorded(settings: Settings) -> Settings {
    Settings {
        record_requests: true,
        ..settings
    }
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
fn scaled_minute_windows() -> Settings {
    recorded(Settings {
        quotas: quotas(&["JoinResourceGroup=4/2s", "DescribeInstances=2/2s"]),
        ..Settings::default()
    })
}

/// Applies the 12 moves of one region under [`scaled_minute_windows`]
/// changed by `change`, with `-v`: they must all land and a re-plan find
/// nothing to do. Returns the emulator and what apply logged.
fn apply_twelve_scaled(change: impl FnOnce(&mut Settings)) -> (InProcess, String) {
    let mut settings = scaled_minute_windows();
    change(&mut settings);
    let server = InProcess::start(fleet(12, &REGIONS[..1]), settings);
    let work = Workdir::new(server.emulator.url(), &REGIONS[..1]);
    let (code, out, err) = work.run(&["apply", "--auto-approve", "--report", "report.json", "-v"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Apply complete! 12 moved, 0 failed."), "{out}");
    let report = work.report();
    assert_report_matches(&report, &server.groups(), 12);
    assert_eq!(
        report["calls"]["throttled"].as_u64().unwrap() as usize,
        server.throttled().values().sum::<usize>()
    );
    let (code, out, _) = work.run(&["plan"]);
    assert_eq!(code, 0);
    assert!(out.contains("No changes."), "{out}");
    (server, err)
}

#[test]
fn known_minute_quotas_scaled_down_are_paced_and_nothing_fails() {
    let (server, err) = apply_twelve_scaled(|_| {});
    assert!(err.contains("quota known: pacing just under it"), "{err}");
    // Paced under known quotas: not one call refused.
    assert_eq!(server.throttled(), BTreeMap::new());
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
    // calls already in flight when it closed (at most --parallelism, 10),
    // each window brings at most about 2 refusals (3 to allow for the edge).
    let throttled = server.throttled();
    let joins = throttled.get("JoinResourceGroup").copied().unwrap_or(0);
    assert!(
        joins <= 10 + 3 * 3,
        "{joins} throttled joins: {throttled:?}"
    );
}

#[test]
fn a_retry_hint_is_followed() {
    let mut settings = scaled_minute_windows();
    settings.deny_quota_center = true;
    settings.retry_after_header = true;
    let server = InProcess::start(fleet(12, &REGIONS[..1]), settings);
    let work = Workdir::new(server.emulator.url(), &REGIONS[..1]);
    let (code, out, err) = work.run(&["apply", "--auto-approve", "--parallelism", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Apply complete! 12 moved, 0 failed."), "{out}");
    // One call at a time, told when each window reopens: one refusal per
    // closed window at most (3 windows for 12 joins), none spent probing.
    let joins = server
        .throttled()
        .get("JoinResourceGroup")
        .copied()
        .unwrap_or(0);
    assert!(joins <= 3, "{joins} throttled joins");
}

#[test]
fn a_known_quota_over_three_regions_is_never_exceeded() {
    let server = InProcess::start(
        fleet(600, &REGIONS),
        recorded(Settings {
            quotas: quotas(&["*=60/1s"]),
            ..Settings::default()
        }),
    );
    let work = Workdir::new(server.emulator.url(), &REGIONS);
    let (code, out, err) = work.run(&[
        "apply",
        "--auto-approve",
        "--parallelism",
        "32",
        "--report",
        "report.json",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("Apply complete! 600 moved, 0 failed."),
        "{out}"
    );
    assert_eq!(server.throttled(), BTreeMap::new());
    assert_eq!(work.report()["calls"]["throttled"], 0);
    // Discovery asked once per region, for ECS FlowControl quotas.
    let asked: Vec<_> = server
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.action == "ListProductQuotas")
        .collect();
    assert_eq!(asked.len(), 3);
    assert!(asked
        .iter()
        .all(|r| r.params["QuotaCategory"] == "FlowControl"
            && r.params["ProductCode"] == "ecs"
            && r.params["Version"] == "2020-05-10"));
}

#[test]
fn through_faults_the_report_matches_the_account_and_nothing_is_left() {
    for (rate, retry_for) in [(0.3, "5m"), (0.5, "10m")] {
        let server = InProcess::start(
            fleet(300, &REGIONS),
            Settings {
                fault_rate: rate,
                seed: Some(12),
                ..Settings::default()
            },
        );
        let work = Workdir::new(server.emulator.url(), &REGIONS);
        let (code, out, err) = work.run(&[
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
        let report = work.report();
        assert_report_matches(&report, &server.groups(), 300);
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
        let (code, out, err) = work.run(&["plan", "--max-tries", "12"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("No changes."), "{out}");
    }
}

#[test]
fn a_failed_read_back_still_prints_the_summary_and_writes_the_report() {
    // One DescribeInstances a day: the plan's read takes it, the read-back
    // is refused and the retry budget ends before the window does.
    let server = InProcess::start(
        fleet(6, &REGIONS[..1]),
        recorded(Settings {
            quotas: quotas(&["DescribeInstances=1/86400s"]),
            deny_quota_center: true,
            ..Settings::default()
        }),
    );
    let work = Workdir::new(server.emulator.url(), &REGIONS[..1]);
    let (code, out, err) = work.run(&[
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
    let report = work.report();
    assert_eq!(report["unverified"], 6);
    assert!(statuses(&report).values().all(|s| s == "unverified"));
    assert_report_matches(&report, &server.groups(), 6);
    // The joins themselves were made.
    assert!(server.groups().values().all(|g| g == PROD));
}

/// `regroup emulator --fleet FLEET EXTRA` as its own process, to kill or
/// stop: the child and its URL.
fn spawn_emulator(fleet: &Fleet, dir: &Path, extra: &[&str]) -> (Child, String) {
    let fleet_path = dir.join("fleet.yaml");
    std::fs::write(&fleet_path, serde_json::to_string(fleet).unwrap()).unwrap();
    let mut args: Vec<&std::ffi::OsStr> = vec!["--fleet".as_ref(), fleet_path.as_ref()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    crate::support::spawn_emulator(&args)
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until `done()` or 60 s, whichever first.
fn wait_for(mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How many resources the state file has in prod.
fn saved_in_prod(state: &Path) -> usize {
    std::fs::read_to_string(state)
        .unwrap_or_default()
        .matches(PROD)
        .count()
}

/// Runs an apply against a spawned emulator with a state file, does
/// `disrupt(emulator pid, apply pid)` once 20 moves are saved, and returns
/// the apply's exit code, stdout and stderr, the report and the state.
fn disrupted_apply(
    emulator_args: &[&str],
    apply_args: &[&str],
    disrupt: impl FnOnce(u32, u32),
) -> (
    i32,
    String,
    String,
    serde_json::Value,
    BTreeMap<String, String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut args = vec!["--state", state.to_str().unwrap()];
    args.extend_from_slice(emulator_args);
    let fleet = fleet(300, &REGIONS[..1]);
    let (mut server, url) = spawn_emulator(&fleet, dir.path(), &args);
    let work = Workdir::new(url, &REGIONS[..1]);
    let apply = work.spawn_apply(apply_args);
    wait_for(|| saved_in_prod(&state) >= 20);
    disrupt(server.id(), apply.id());
    let output = apply.wait_with_output().unwrap();
    let _ = signal_quietly(server.id(), "CONT");
    let _ = server.kill();
    let _ = server.wait();
    let groups = groups_of(&Fleet::load(&state).unwrap());
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        std::fs::read_to_string(work.path("apply.err")).unwrap_or_default(),
        work.report(),
        groups,
    )
}

fn signal_quietly(pid: u32, name: &str) -> std::io::Result<std::process::ExitStatus> {
    Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .stderr(Stdio::null())
        .status()
}

#[test]
fn sigterm_leaves_a_summary_and_a_report_that_match_the_state() {
    let (code, out, err, report, groups) =
        disrupted_apply(&["--latency", "20"], &["--parallelism", "4"], |_, apply| {
            signal(apply, "TERM")
        });
    assert_eq!(code, 130, "{out}\n{err}");
    assert!(out.contains("Apply interrupted!"), "{out}");
    assert_eq!(report["interrupted"], true);
    assert_report_matches(&report, &groups, 300);
    assert!(report["not_started"].as_u64().unwrap() > 0);
}

#[test]
fn a_server_killed_mid_apply_leaves_a_summary_and_a_report_that_match_the_state() {
    let (code, out, err, report, groups) = disrupted_apply(
        &["--latency", "20"],
        &["--parallelism", "4"],
        |server, _| signal(server, "KILL"),
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("Apply stopped!"), "{out}");
    // The breaker stopped the run; the reason is given once.
    assert!(
        out.contains("not started: JoinResourceGroup: not sent:")
            && out.contains("stopped answering"),
        "{out}"
    );
    assert_report_matches(&report, &groups, 300);
    assert!(report["not_started"].as_u64().unwrap() > 0);
    // Reading back was impossible: what was started is unverified.
    assert!(report["unverified"].as_u64().unwrap() >= 20, "{report:#}");
}

#[test]
fn a_hung_server_trips_the_breaker_and_the_run_ends_with_a_report() {
    let (code, out, err, report, groups) = disrupted_apply(
        &["--latency", "20"],
        &["--parallelism", "4", "--request-timeout", "6s"],
        |server, _| signal(server, "STOP"),
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("stopped answering"), "{out}");
    // While calls hung (two request timeouts before the breaker opens),
    // progress kept coming.
    assert!(err.contains("Applying: "), "{err}");
    assert_report_matches(&report, &groups, 300);
    assert!(report["not_started"].as_u64().unwrap() > 0);
}

#[test]
fn ctrl_c_against_a_hung_server_exits_130_with_a_report() {
    let (code, out, err, report, groups) = disrupted_apply(
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
    assert_eq!(code, 130, "{out}\n{err}");
    assert!(out.contains("Apply interrupted!"), "{out}");
    assert_report_matches(&report, &groups, 300);
    let statuses = statuses(&report);
    let started: BTreeSet<_> = statuses
        .iter()
        .filter(|(_, s)| *s != "not_started")
        .collect();
    assert!(started.len() >= 20);
}
