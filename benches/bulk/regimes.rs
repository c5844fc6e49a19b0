//! Issue 26's regimes, each run by regroup (default flags) and by its peer,
//! a 16-thread script around the official Python SDK
//! (`benches/sdk_joins.py`, `aliyun-python-sdk-core` installed in a venv
//! by `tests/support/tools.rs`), against a fresh emulator each, beside the
//! regime's floor: the least time the quota and the latency allow.
//!
//! Floors. A per-second quota of `L` calls: `N / L` seconds of joins, plus
//! three round trips (the reads before the first join, the last join, the
//! read-back). A calendar-window quota of `Q` calls per `W`: the `N` joins
//! need `k = ⌈N / Q⌉` windows, so the last of them cannot start before the
//! `(k-1)`th window boundary after the run started (`(k-1)·W` less how far
//! into its window the run started), plus the same three round trips.
//! The SDK script makes no reads, so its floor is one round trip less.
//! Wall times are medians of the repeats; the machine is shared, so the
//! ratios say more than the seconds.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{one_region, regroup, secs, support, tools, Server};

/// The official SDK the peer script drives, pinned.
const SDK: &str = "aliyun-python-sdk-core==2.16.1";

struct Regime {
    name: &'static str,
    changes: usize,
    latency_ms: u64,
    quota: &'static str,
    /// Calls per window and the window.
    limit: (u32, Duration),
    repeats: usize,
}

/// The floor of `changes` joins under `limit` at `latency`, for a run that
/// started `phase` into its window, with `round_trips` besides the joins.
fn floor(regime: &Regime, phase: Duration, round_trips: u32) -> Duration {
    let (calls, window) = regime.limit;
    let latency = Duration::from_millis(regime.latency_ms) * round_trips;
    if window <= Duration::from_secs(1) {
        return window.mul_f64(regime.changes as f64 / f64::from(calls)) + latency;
    }
    let windows = regime.changes.div_ceil(calls as usize) as u32;
    (window * (windows - 1)).saturating_sub(phase) + latency
}

/// How far into its calendar window of `window` the wall clock is.
fn phase_now(window: Duration) -> Duration {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    Duration::from_millis((now.as_millis() % window.as_millis()) as u64)
}

/// What one run of either side gave.
struct Outcome {
    wall: Duration,
    floor: Duration,
    moved: usize,
    throttled: u64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn run_regroup(regime: &Regime, dir: &Path) -> Outcome {
    let fleet = one_region(regime.changes);
    std::fs::write(
        dir.join("fleet.json"),
        serde_json::to_string(&fleet).unwrap(),
    )
    .unwrap();
    let server = Server::start_slow(dir, regime.latency_ms, &["--quota", regime.quota]);
    std::fs::write(dir.join("regroup.yaml"), support::select_manifest()).unwrap();
    let report = dir.join("report.json");
    let phase = phase_now(regime.limit.1);
    let run = regroup(
        &server,
        dir,
        &[
            "apply",
            "--auto-approve",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    Outcome {
        wall: run.wall,
        floor: floor(regime, phase, 3),
        moved: report["moved"].as_u64().unwrap() as usize,
        throttled: run.throttled,
    }
}

fn run_sdk(regime: &Regime, dir: &Path, python: &Path) -> Outcome {
    let fleet = one_region(regime.changes);
    let moves: String = fleet
        .resources
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}\n",
                r.region,
                r.rtype.as_str(),
                r.id,
                support::GROUPS[1].0
            )
        })
        .collect();
    std::fs::write(
        dir.join("fleet.json"),
        serde_json::to_string(&fleet).unwrap(),
    )
    .unwrap();
    let server = Server::start_slow(dir, regime.latency_ms, &["--quota", regime.quota]);
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let (host, port) = address.rsplit_once(':').expect("host:port");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/sdk_joins.py");
    let phase = phase_now(regime.limit.1);
    let mut child = Command::new(python)
        .arg(script)
        .args([host, port, "testid", "testsecret"])
        .env_clear()
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the SDK script runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(moves.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the SDK script ran");
    let counts: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    Outcome {
        wall: Duration::from_secs_f64(counts["wall_s"].as_f64().unwrap()),
        floor: floor(regime, phase, 2),
        moved: counts["moved"].as_u64().unwrap() as usize,
        throttled: server.requests().1,
    }
}

/// Runs the regimes and prints a markdown table; `short` leaves out the
/// one that takes five minutes.
pub fn run(dir: &Path, short: bool) {
    let minute = Duration::from_secs(60);
    let second = Duration::from_secs(1);
    let mut regimes = vec![
        Regime {
            name: "300 moves, `JoinResourceGroup=500/60s`, 20 ms",
            changes: 300,
            latency_ms: 20,
            quota: "JoinResourceGroup=500/60s",
            limit: (500, minute),
            repeats: 3,
        },
        Regime {
            name: "1,000 moves, 250 ms, `*=200/1s`",
            changes: 1_000,
            latency_ms: 250,
            quota: "*=200/1s",
            limit: (200, second),
            repeats: 3,
        },
        Regime {
            name: "1,000 moves, 100 ms, `*=200/1s`",
            changes: 1_000,
            latency_ms: 100,
            quota: "*=200/1s",
            limit: (200, second),
            repeats: 3,
        },
        Regime {
            name: "300 moves, 20 ms, `*=200/1s`",
            changes: 300,
            latency_ms: 20,
            quota: "*=200/1s",
            limit: (200, second),
            repeats: 3,
        },
    ];
    if !short {
        regimes.push(Regime {
            name: "3,000 moves, `JoinResourceGroup=500/60s`, 20 ms",
            changes: 3_000,
            latency_ms: 20,
            quota: "JoinResourceGroup=500/60s",
            limit: (500, minute),
            repeats: 1,
        });
    }
    let python = tools::python(&[SDK]);
    println!("\n### regimes (1 region; medians of the repeats)\n");
    println!("| regime | runs | regroup | floor | ratio | moved | throttled | SDK 16 threads | SDK floor | SDK ratio | SDK moved | SDK throttled | SDK ÷ regroup |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for regime in &regimes {
        let ours: Vec<Outcome> = (0..regime.repeats)
            .map(|_| run_regroup(regime, dir))
            .collect();
        let theirs: Vec<Outcome> = (0..regime.repeats)
            .map(|_| run_sdk(regime, dir, &python))
            .collect();
        let wall = |runs: &[Outcome]| median(runs.iter().map(|r| r.wall.as_secs_f64()).collect());
        let ratio = |runs: &[Outcome]| {
            median(
                runs.iter()
                    .map(|r| r.wall.as_secs_f64() / r.floor.as_secs_f64())
                    .collect(),
            )
        };
        let floor = |runs: &[Outcome]| median(runs.iter().map(|r| r.floor.as_secs_f64()).collect());
        let least = |runs: &[Outcome], f: fn(&Outcome) -> u64| runs.iter().map(f).min().unwrap();
        let most = |runs: &[Outcome], f: fn(&Outcome) -> u64| runs.iter().map(f).max().unwrap();
        println!(
            "| {} | {} | {} | {} | {:.2} | {} | {} | {} | {} | {:.2} | {}–{} | {} | {:.2}× |",
            regime.name,
            regime.repeats,
            secs(Duration::from_secs_f64(wall(&ours))),
            secs(Duration::from_secs_f64(floor(&ours))),
            ratio(&ours),
            least(&ours, |r| r.moved as u64),
            most(&ours, |r| r.throttled),
            secs(Duration::from_secs_f64(wall(&theirs))),
            secs(Duration::from_secs_f64(floor(&theirs))),
            ratio(&theirs),
            least(&theirs, |r| r.moved as u64),
            most(&theirs, |r| r.moved as u64),
            most(&theirs, |r| r.throttled),
            wall(&theirs) / wall(&ours),
        );
    }
}
