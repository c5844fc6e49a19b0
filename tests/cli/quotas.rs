//! Quotas, waiting and the record of an apply, through the real binary:
//! calendar-window quotas in the emulator, Quota Center discovery, retry
//! hints, and the report after faults or a failed read-back. A run cut
//! short by a signal or a dead or hung endpoint is in `disrupted_runs.rs`.
//! No timed assertions: counts and statuses, compared with the emulator's
//! state.

use std::collections::BTreeMap;

use regroup::emulator::fleet::Fleet;
use regroup::emulator::Settings;
use regroup::resource::ResourceType;

use crate::harness::{apply_all_with_report, assert_has_line, read_json, Folder, Running, Setup};
use crate::text::indoc;

pub(crate) const REGIONS: [&str; 3] = ["cn-hangzhou", "cn-shanghai", "cn-beijing"];

/// The default and prod groups of [`Setup::new`].
const DEFAULT: &str = "rg-default";
pub(crate) const PROD: &str = "rg-prod";

/// `count` instances spread over `regions`, all in the default group, and
/// a manifest that moves every instance of `regions` into prod.
pub(crate) fn setup(count: usize, regions: &[&str]) -> Setup {
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
pub(crate) fn report(folder: &Folder) -> serde_json::Value {
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

pub(crate) fn groups_of(fleet: &Fleet) -> BTreeMap<String, String> {
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
pub(crate) fn statuses(report: &serde_json::Value) -> BTreeMap<String, String> {
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
pub(crate) fn assert_report_matches(
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
    assert_has_line(
        &out,
        "No changes. All 12 resources the manifest manages are in their groups.",
    );
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
    assert_has_line(&out, "Apply complete! 12 moved, 0 failed.");
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
        assert_has_line(
            &out,
            "No changes. All 300 resources the manifest manages are in their groups.",
        );
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
    assert_has_line(&out, "Apply complete! 0 moved, 0 failed, 6 unverified.");
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
