//! The bulk benchmark: plans and applies against the emulator at 1k, 10k and
//! 100k resources over three regions and all nine types, with 20 ms of
//! latency and a per-API, per-region rate limit, beside a naive baseline
//! (one read per resource, serial joins).
//!
//! Run with `cargo bench --bench bulk` (add `-- --quick` for 1k and 10k
//! only). It prints markdown tables; docs/benchmarks.md holds a run.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use regroup::cloud::client::{Client, ClientConfig, Endpoints};
use regroup::cloud::credentials::{CredentialSource, Credentials, Secret};
use regroup::cloud::ecs::{self, Selection, TypeApi};
use regroup::emulator::fleet::Fleet;
use regroup::emulator::{Emulator, Settings};

const LATENCY: Duration = Duration::from_millis(20);
const QPS: u32 = 200;
const APPLY_SIZE: usize = 10_000;
const BASELINE_SIZE: usize = 1_000;

/// What one run of the regroup binary cost.
struct Run {
    wall: Duration,
    cpu: Duration,
    peak_rss_mb: f64,
    calls: u64,
    stdout: String,
}

fn emulator(runtime: &tokio::runtime::Runtime, fleet: Fleet) -> Emulator {
    let settings = Settings {
        latency: LATENCY,
        qps: Some(QPS),
        ..Settings::default()
    };
    runtime
        .block_on(Emulator::start(
            fleet,
            settings,
            "127.0.0.1:0".parse().unwrap(),
        ))
        .expect("the emulator starts")
}

/// Runs `regroup ARGS` against `emulator`, measuring the child alone: its
/// wall time, its CPU time (everything but waiting) and its peak memory.
fn regroup(emulator: &Emulator, dir: &Path, args: &[&str]) -> Run {
    let calls_before = emulator
        .counters()
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    let stdout_path = dir.join("stdout");
    let started = Instant::now();
    // Reaped by wait4 below rather than by `Child::wait`, which cannot say
    // what the child itself used.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_regroup"))
        .current_dir(dir)
        .env_clear()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
        .env("REGROUP_ENDPOINT", emulator.url())
        .args(args)
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("regroup runs");
    // wait4 gives this child's own resource use, not all children's.
    let mut status = 0;
    // SAFETY: rusage is plain data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: both pointers are to live locals of the right types.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let wall = started.elapsed();
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Run {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
        calls: emulator
            .counters()
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
            - calls_before,
        stdout: std::fs::read_to_string(stdout_path).unwrap_or_default(),
    }
}

fn client(emulator: &Emulator) -> Client {
    let config = ClientConfig {
        endpoints: Endpoints::override_with(&emulator.url()).unwrap(),
        ..ClientConfig::default()
    };
    let credentials = CredentialSource::Static {
        origin: "bench".into(),
        credentials: Credentials {
            access_key_id: "testid".into(),
            access_key_secret: Secret::new("testsecret"),
            security_token: None,
        },
    };
    Client::new(config, credentials).unwrap()
}

/// The naive way to refresh: one read per resource, one after another.
fn naive_reads(
    runtime: &tokio::runtime::Runtime,
    emulator: &Emulator,
    fleet: &Fleet,
) -> (Duration, usize) {
    let client = client(emulator);
    let started = Instant::now();
    runtime.block_on(async {
        for r in &fleet.resources {
            let api = TypeApi::of(r.rtype);
            ecs::describe(
                &client,
                api,
                &r.region,
                &Selection::Ids(vec![r.id.clone()]),
                None,
            )
            .await
            .expect("a naive read");
        }
    });
    (started.elapsed(), fleet.resources.len())
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes: &[usize] = if quick {
        &[1_000, 10_000]
    } else {
        &[1_000, 10_000, 100_000]
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    println!(
        "### plan (latency {} ms, {QPS} calls/s per API and region)\n",
        LATENCY.as_millis()
    );
    println!("| resources | manifest | calls | minimum | wall | CPU | peak RSS | naive calls | naive wall | speed-up |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut naive_per_call = None;
    for &size in sizes {
        let fleet = support::fleet(size);
        let server = emulator(&runtime, fleet.clone());
        let (naive_wall, naive_calls) = if size <= BASELINE_SIZE {
            let (wall, calls) = naive_reads(&runtime, &server, &fleet);
            naive_per_call = Some(wall / calls as u32);
            (wall, calls)
        } else {
            // Estimated from the measured cost per call at the smaller size.
            (naive_per_call.unwrap_or_default() * size as u32, size)
        };
        for (kind, manifest, minimum) in [
            (
                "by id",
                support::explicit_manifest(&fleet),
                support::minimum_calls_by_id(&fleet),
            ),
            (
                "select",
                support::select_manifest(),
                support::minimum_calls_to_list(&fleet),
            ),
        ] {
            std::fs::write(dir.path().join("regroup.yaml"), manifest).unwrap();
            let run = regroup(&server, dir.path(), &["plan", "--format", "json"]);
            assert!(run.stdout.contains("\"format_version\": 1"), "the plan ran");
            let estimated = if size <= BASELINE_SIZE { "" } else { " (est.)" };
            println!(
                "| {size} | {kind} | {} | {minimum} | {} | {} | {:.0} MB | {naive_calls} | {}{estimated} | {:.0}× |",
                run.calls,
                secs(run.wall),
                secs(run.cpu),
                run.peak_rss_mb,
                secs(naive_wall),
                naive_wall.as_secs_f64() / run.wall.as_secs_f64()
            );
        }
        runtime.block_on(server.stop());
    }

    println!(
        "\n### apply (latency {} ms, {QPS} joins/s per region, 3 regions: limit {} joins/s)\n",
        LATENCY.as_millis(),
        QPS * 3
    );
    println!("| changes | parallelism | joins/s | of limit | throttled | failed | wall | CPU |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (size, parallelism) in [(APPLY_SIZE, "32"), (BASELINE_SIZE, "1")] {
        let mut fleet = support::fleet(size);
        fleet.resources.iter_mut().for_each(|r| r.group = None);
        let server = emulator(&runtime, fleet);
        std::fs::write(dir.path().join("regroup.yaml"), support::select_manifest()).unwrap();
        let report = dir.path().join("report.json");
        let run = regroup(
            &server,
            dir.path(),
            &[
                "apply",
                "--auto-approve",
                "--parallelism",
                parallelism,
                "--report",
                report.to_str().unwrap(),
            ],
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let started: chrono::DateTime<chrono::Utc> =
            report["started_at"].as_str().unwrap().parse().unwrap();
        let finished: chrono::DateTime<chrono::Utc> =
            report["finished_at"].as_str().unwrap().parse().unwrap();
        let seconds = (finished - started).num_milliseconds() as f64 / 1000.0;
        let moved = report["moved"].as_u64().unwrap();
        let rate = moved as f64 / seconds;
        let throttled = report["calls"]["throttled"].as_u64().unwrap();
        let joins = report["calls"]["per_action"]["JoinResourceGroup"]
            .as_u64()
            .unwrap();
        println!(
            "| {size} | {parallelism} | {rate:.0} | {:.0}% | {throttled} of {joins} ({:.2}%) | {} | {} | {} |",
            100.0 * rate / f64::from(QPS * 3),
            100.0 * throttled as f64 / joins as f64,
            report["failed"],
            secs(run.wall),
            secs(run.cpu)
        );
        runtime.block_on(server.stop());
    }
}
