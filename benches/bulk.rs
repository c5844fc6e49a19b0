//! The bulk benchmark: plans and applies against the emulator at 1k, 10k and
//! 100k resources over three regions and all thirteen types, with 20 ms of
//! latency and a per-API, per-region rate limit, beside a naive baseline
//! (one read per resource, serial joins).
//!
//! Run with `cargo bench --bench bulk` (add `-- --quick` for 1k and 10k
//! only, `-- --quotas` for the quota runs alone, `-- --accounts` for the
//! many-accounts regime (bulk/accounts.rs), `-- --plan` for the plan
//! runs alone, `-- --size N` for the plans of N resources alone). It prints
//! markdown tables; docs/benchmarks.md holds a run.
//!
//! The quota runs: issue 12's 100 moves under `JoinResourceGroup=40/60s`
//! and `DescribeInstances=2/60s`; 3,000 moves in one region under
//! `--quota JoinResourceGroup=1000/60s` (calendar minutes, as ECS counts),
//! against the ideal of three windows; and 3,000 moves over three regions
//! under a known `--quota '*=200/1s'`, for the throttled count and the
//! joins/s of the first five seconds as a share of the limit.
//!
//! The emulator runs as its own process and this one stays small: Linux
//! counts a child's peak memory from before its exec (the parent's own peak,
//! since the child is spawned sharing its memory), so a large parent would
//! inflate every figure. The plan runs' fleets and manifests are therefore
//! written by a child of their own (`--write-fleet`), never held here.

#[path = "bulk/accounts.rs"]
mod accounts;
#[path = "bulk/regimes.rs"]
mod regimes;
#[path = "../tests/support/mod.rs"]
mod support;
// Shared with the tests, which also install Node packages; the benchmark
// needs only the Python peer.
#[path = "../tests/support/tools.rs"]
#[allow(dead_code)]
mod tools;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regroup::api::describe::TypeApi;
use regroup::api::{sign, Service};
use regroup::emulator::fleet::Fleet;

const LATENCY_MS: u64 = 20;
const QPS: u32 = 200;
const APPLY_SIZE: usize = 10_000;
const BASELINE_SIZE: usize = 1_000;

/// `regroup emulator` in its own process, with its request log.
struct Server {
    child: std::process::Child,
    url: String,
    log: PathBuf,
}

impl Server {
    fn start(fleet: &Fleet, dir: &Path) -> Server {
        Server::start_with(fleet, dir, &["--qps", &QPS.to_string()])
    }

    /// With `limits` (rate flags) instead of the default `--qps`.
    fn start_with(fleet: &Fleet, dir: &Path, limits: &[&str]) -> Server {
        std::fs::write(
            dir.join("fleet.json"),
            serde_json::to_string(fleet).unwrap(),
        )
        .unwrap();
        Server::start_written(dir, limits)
    }

    /// With the fleet already in `dir`/fleet.json.
    fn start_written(dir: &Path, limits: &[&str]) -> Server {
        Server::start_slow(dir, LATENCY_MS, limits)
    }

    /// With the fleet already in `dir`/fleet.json and answers that take
    /// `latency_ms`.
    fn start_slow(dir: &Path, latency_ms: u64, limits: &[&str]) -> Server {
        let fleet_path = dir.join("fleet.json");
        let log = dir.join("requests.jsonl");
        let _ = std::fs::remove_file(&log);
        let latency = latency_ms.to_string();
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "--latency".as_ref(),
            latency.as_ref(),
            "--fleet".as_ref(),
            fleet_path.as_ref(),
            "--log".as_ref(),
            log.as_ref(),
        ];
        args.extend(limits.iter().map(std::ffi::OsStr::new));
        let (child, url) = support::spawn_emulator(&args);
        Server { child, url, log }
    }

    /// Requests served so far, and how many of them were throttled.
    fn requests(&self) -> (u64, u64) {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let throttled = text
            .lines()
            .filter(|l| l.contains("\"code\":\"Throttling"))
            .count();
        (text.lines().count() as u64, throttled as u64)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one run of the regroup binary cost.
struct Run {
    wall: Duration,
    cpu: Duration,
    peak_rss_mb: f64,
    calls: u64,
    throttled: u64,
    /// What it printed, up to [`STDOUT_KEPT`] bytes.
    stdout: String,
}

/// How much of a run's output [`regroup`] keeps: every text output whole,
/// and the head of a JSON plan of a million changes (330 MiB), which read
/// whole would make this process as large as the run it measures, and
/// Linux counts a child's peak memory from its parent's (see the module
/// docs): the 1M select plan's 256 MB read as 337 MB, the size of the by-id
/// plan read before it.
const STDOUT_KEPT: u64 = 64 << 20;

/// Runs `regroup ARGS` against `server`, measuring the child alone: its
/// wall time, its CPU time (everything but waiting) and its peak memory.
fn regroup(server: &Server, dir: &Path, args: &[&str]) -> Run {
    let (calls_before, throttled_before) = server.requests();
    let stdout_path = dir.join("stdout");
    let started = Instant::now();
    // Reaped by wait4 below rather than by `Child::wait`, which cannot say
    // what the child itself used.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_regroup"))
        .current_dir(dir)
        .env_clear()
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
        .env("REGROUP_ENDPOINT", &server.url)
        .args(args)
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("regroup runs");
    let mut status = 0;
    // SAFETY: rusage is plain data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: both pointers are to live locals of the right types.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let wall = started.elapsed();
    let (calls, throttled) = server.requests();
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Run {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
        calls: calls - calls_before,
        throttled: throttled - throttled_before,
        stdout: kept_output(&stdout_path),
    }
}

/// The first [`STDOUT_KEPT`] bytes of the file at `path`, as text.
fn kept_output(path: &Path) -> String {
    use std::io::Read;
    let mut kept = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(STDOUT_KEPT).read_to_end(&mut kept);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// The naive way to refresh: one signed read per resource, one after
/// another, as a script around the raw API would do it.
fn naive_reads(server: &Server, fleet: &Fleet) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let started = Instant::now();
    runtime.block_on(async {
        for (n, r) in fleet.resources.iter().enumerate() {
            let api = TypeApi::of(r.rtype);
            let nonce = format!("naive-{n}");
            let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let mut params: Vec<(String, String)> = [
                ("AccessKeyId", "testid"),
                ("Action", api.action),
                ("Format", "JSON"),
                ("RegionId", r.region.as_str()),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureNonce", nonce.as_str()),
                ("SignatureVersion", "1.0"),
                ("Timestamp", timestamp.as_str()),
                ("Version", Service::Ecs.api_version()),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
            params.extend(api.id_params(std::slice::from_ref(&r.id)));
            let signature = sign::sign(
                "GET",
                params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                "testsecret",
            );
            params.push(("Signature".to_owned(), signature));
            let response = http
                .get(&server.url)
                .query(&params)
                .send()
                .await
                .expect("a naive read");
            assert!(response.status().is_success(), "a naive read succeeds");
        }
    });
    started.elapsed()
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// `size` resources of every type, all in the first region and the
/// default group: each one a move for the select manifest.
fn one_region(size: usize) -> Fleet {
    let mut fleet = support::fleet(size);
    fleet.resources.iter_mut().for_each(|r| {
        r.group = None;
        r.region = support::REGIONS[0].into();
    });
    fleet
}

/// The quota runs (see the module docs).
fn quota_runs(dir: &Path) {
    println!("\n### quotas (latency {LATENCY_MS} ms)\n");
    println!("| run | changes | wall | ideal | ratio | throttled | first 5 s joins/s | of limit |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let runs: [(&str, Fleet, &[&str], f64); 3] = [
        (
            "JoinResourceGroup=40/60s, DescribeInstances=2/60s, 1 region",
            one_region(100),
            &[
                "--quota",
                "JoinResourceGroup=40/60s",
                "--quota",
                "DescribeInstances=2/60s",
            ],
            40.0 / 60.0,
        ),
        (
            "JoinResourceGroup=1000/60s, 1 region",
            one_region(3_000),
            &["--quota", "JoinResourceGroup=1000/60s"],
            1_000.0 / 60.0,
        ),
        (
            "*=200/1s known, 3 regions",
            {
                let mut fleet = support::fleet(3_000);
                fleet.resources.iter_mut().for_each(|r| r.group = None);
                fleet
            },
            &["--quota", "*=200/1s"],
            600.0,
        ),
    ];
    for (name, fleet, limits, limit_per_s) in runs {
        let changes = fleet.resources.len();
        let server = Server::start_with(&fleet, dir, limits);
        drop(fleet);
        std::fs::write(dir.join("regroup.yaml"), support::select_manifest()).unwrap();
        // Watch the request log for the first join and count joins in the
        // five seconds after it.
        let log = server.log.clone();
        let watcher = std::thread::spawn(move || {
            let joins = || {
                std::fs::read_to_string(&log)
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| {
                        l.contains("\"action\":\"JoinResourceGroup\"")
                            && l.contains("\"status\":200")
                    })
                    .count()
            };
            while joins() == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_secs(5));
            joins()
        });
        let report = dir.join("report.json");
        let run = regroup(
            &server,
            dir,
            &[
                "apply",
                "--auto-approve",
                "--parallelism",
                "32",
                "--report",
                report.to_str().unwrap(),
            ],
        );
        let first_five = watcher.join().unwrap() as f64 / 5.0;
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(report["moved"], changes, "every move landed");
        let ideal = changes as f64 / limit_per_s;
        println!(
            "| `{name}` | {changes} | {} | {ideal:.0} s | {:.2} | {} | {first_five:.0} | {:.0}% |",
            secs(run.wall),
            run.wall.as_secs_f64() / ideal,
            run.throttled,
            100.0 * first_five / limit_per_s,
        );
    }
}

/// Writes the fleet of `size` resources, `by id.yaml` and `select.yaml`
/// into `dir`, and prints the fewest calls for each: run as a child of the
/// benchmark (see the module docs).
fn write_fleet(size: usize, dir: &Path) {
    let fleet = support::fleet(size);
    std::fs::write(
        dir.join("fleet.json"),
        serde_json::to_string(&fleet).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("by id.yaml"), support::explicit_manifest(&fleet)).unwrap();
    std::fs::write(dir.join("select.yaml"), support::select_manifest()).unwrap();
    println!(
        "{} {}",
        support::minimum_calls_by_id(&fleet),
        support::minimum_calls_to_list(&fleet)
    );
}

/// [`write_fleet`] in a child process; the fewest calls by id and to list.
fn write_fleet_apart(size: usize, dir: &Path) -> (usize, usize) {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--write-fleet")
        .arg(size.to_string())
        .arg(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "the fleet is written");
    let text = String::from_utf8(output.stdout).unwrap();
    let minima: Vec<usize> = text
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    (minima[0], minima[1])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, size, dir] = &args[..] {
        if flag == "--write-fleet" {
            write_fleet(size.parse().unwrap(), Path::new(dir));
            return;
        }
    }
    if accounts::write_if_asked(&args) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    if args.iter().any(|a| a == "--accounts") {
        accounts::run(dir.path(), args.iter().any(|a| a == "--quick"));
        return;
    }
    if std::env::args().any(|a| a == "--regimes") {
        regimes::run(dir.path(), args.iter().any(|a| a == "--short"));
        return;
    }
    if std::env::args().any(|a| a == "--quotas") {
        quota_runs(dir.path());
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    // `--size N`: the plans of N resources alone.
    let only: Option<usize> = args.iter().position(|a| a == "--size").map(|at| {
        args.get(at + 1)
            .and_then(|n| n.parse().ok())
            .expect("--size N")
    });
    let plans_only = only.is_some() || args.iter().any(|a| a == "--plan");
    let sizes: Vec<usize> = match only {
        Some(size) => vec![size],
        None if quick => vec![1_000, 10_000],
        None => vec![1_000, 10_000, 100_000],
    };

    println!("### plan (latency {LATENCY_MS} ms, {QPS} calls/s per API and region)\n");
    println!("| resources | manifest | calls | minimum | throttled | wall | CPU | peak RSS | naive calls | naive wall | speed-up |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut naive_per_call = Duration::ZERO;
    for &size in &sizes {
        let (by_id, to_list) = write_fleet_apart(size, dir.path());
        let server = Server::start_written(dir.path(), &["--qps", &QPS.to_string()]);
        let naive_wall = if size <= BASELINE_SIZE {
            // Small enough to hold here.
            let wall = naive_reads(&server, &support::fleet(size));
            naive_per_call = wall / size as u32;
            Some(wall)
        } else if naive_per_call > Duration::ZERO {
            // Estimated from the cost per call measured at the smaller size.
            Some(naive_per_call * size as u32)
        } else {
            None
        };
        let estimated = if size <= BASELINE_SIZE { "" } else { " (est.)" };
        let runs = [("by id", by_id), ("select", to_list)];
        for (kind, minimum) in runs {
            std::fs::copy(
                dir.path().join(format!("{kind}.yaml")),
                dir.path().join("regroup.yaml"),
            )
            .unwrap();
            // Saved too, as a plan for `apply` is: JSON to stdout and to a file.
            let run = regroup(
                &server,
                dir.path(),
                &["plan", "--format", "json", "-o", "plan.json"],
            );
            assert!(run.stdout.contains("\"format_version\": 1"), "the plan ran");
            let (naive, speed_up) = match naive_wall {
                Some(naive) => (
                    format!("{}{estimated}", secs(naive)),
                    format!("{:.0}×", naive.as_secs_f64() / run.wall.as_secs_f64()),
                ),
                None => ("(not measured)".to_owned(), String::new()),
            };
            println!(
                "| {size} | {kind} | {} | {minimum} | {} | {} | {} | {:.0} MB | {size} | {naive} | {speed_up} |",
                run.calls,
                run.throttled,
                secs(run.wall),
                secs(run.cpu),
                run.peak_rss_mb,
            );
        }
    }
    if plans_only {
        return;
    }

    println!("\n### apply (latency {LATENCY_MS} ms, {QPS} joins/s per region, 3 regions: limit {} joins/s)\n", QPS * 3);
    println!("| changes | parallelism | joins/s | of limit | throttled | failed | wall | CPU |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (size, parallelism) in [(APPLY_SIZE, "32"), (BASELINE_SIZE, "1")] {
        let mut fleet = support::fleet(size);
        fleet.resources.iter_mut().for_each(|r| r.group = None);
        let server = Server::start(&fleet, dir.path());
        drop(fleet);
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
        let rate = report["moved"].as_u64().unwrap() as f64 / seconds;
        let joins = report["calls"]["per_action"]["JoinResourceGroup"]
            .as_u64()
            .unwrap();
        let throttled = report["calls"]["throttled"].as_u64().unwrap();
        println!(
            "| {size} | {parallelism} | {rate:.0} | {:.0}% | {throttled} of {joins} ({:.2}%) | {} | {} | {} |",
            100.0 * rate / f64::from(QPS * 3),
            100.0 * throttled as f64 / joins as f64,
            report["failed"],
            secs(run.wall),
            secs(run.cpu)
        );
    }
    quota_runs(dir.path());
}
