//! `regroup reconcile`: the plan (and in `correct` mode the apply) of
//! `regroup apply`, run again every interval by one process, one run at a
//! time, with Prometheus metrics and a JSON report per run. It keeps no
//! state beyond its reports: every run reads the manifest and the account
//! afresh, on a fresh connection (so an endpoint that stopped answering in
//! one run is tried again in the next, after a backoff).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::options::{connect_options, rails};
use super::whoami::caller_identity;
use super::{load_manifest, Exit, Overrides};
use crate::apply::{self, Interrupts, ProgressStyle, Report};
use crate::atomic_file;
use crate::cli::{Global, ReconcileArgs, ReconcileMode};
use crate::cloud::client::{redact, StatsSnapshot};
use crate::cloud::connect::connect;
use crate::manifest::Manifest;
use crate::output::Stdout;
use crate::plan::{Change, ManifestInfo};
use crate::planning::{check_max_changes, make_plan};
use crate::reconcile::metrics::{Metrics, RunResult};
use crate::reconcile::pace::{Pace, RunHealth};
use crate::reconcile::{calls, server};
use crate::render;

/// Reports kept in `--report-dir`; older ones are removed.
const REPORTS_KEPT: usize = 100;

/// The account label when GetCallerIdentity could not say.
const UNKNOWN_ACCOUNT: &str = "unknown";

/// One run's record, written to `--report-dir`.
#[derive(serde::Serialize)]
struct RunReport {
    format_version: u32,
    mode: &'static str,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    result: &'static str,
    manifest: ManifestInfo,
    account_id: String,
    /// Why the run failed, when it failed before or outside the apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The changes the plan found: resources outside their groups.
    drift: Vec<Change>,
    /// `correct` mode: the apply's report.
    #[serde(skip_serializing_if = "Option::is_none")]
    apply: Option<Report>,
    calls: StatsSnapshot,
}

pub(super) async fn run(
    global: &Global,
    overrides: &Overrides,
    args: &ReconcileArgs,
    out: &mut Stdout,
) -> anyhow::Result<Exit> {
    // A manifest that is broken from the start is bad input: there is no
    // good one to keep.
    let mut manifest = load_manifest(global)?;
    if let Some(dir) = &args.report_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create --report-dir {}", dir.display()))?;
    }
    let metrics = Arc::new(Metrics::new());
    calls::count_into(metrics.clone());
    if let Some(address) = args.metrics_listen {
        if !address.ip().is_loopback() && !args.metrics_public {
            anyhow::bail!("--metrics-listen {address} is not a loopback address; add --metrics-public to serve metrics beyond this machine");
        }
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("could not listen on --metrics-listen {address}"))?;
        let bound = listener.local_addr()?;
        writeln!(out, "Serving metrics on http://{bound}/metrics")?;
        out.flush()?;
        let metrics = metrics.clone();
        tokio::spawn(async move {
            if let Err(error) = server::serve(listener, metrics).await {
                tracing::error!("the metrics server stopped: {error}");
            }
        });
    }
    let mut shutdown = watch_signals();
    let mut pace = Pace::new(args.interval);
    let mut account: Option<String> = None;
    let mut runs = 0u64;
    let mut last: RunResult;
    loop {
        manifest = reload(global, manifest, out)?;
        let started = Instant::now();
        let outcome = once(
            global,
            overrides,
            args,
            &manifest,
            &metrics,
            &mut account,
            &mut shutdown,
            out,
        )
        .await;
        last = outcome.result;
        metrics.record_run(outcome.result, started.elapsed());
        metrics.record_throttled(outcome.report.calls.throttled);
        let health = if outcome.result == RunResult::Failure || outcome.report.calls.throttled > 0 {
            RunHealth::Strained
        } else {
            RunHealth::Clean
        };
        if let Some(error) = &outcome.report.error {
            writeln!(out, "Run failed: {error}")?;
        }
        if let Some(dir) = &args.report_dir {
            if let Err(error) = save_report(dir, &outcome.report) {
                super::report_error(&error);
            }
        }
        out.flush()?;
        runs += 1;
        if *shutdown.borrow() || args.runs.is_some_and(|limit| runs >= limit) {
            break;
        }
        let wait = pace.after(health, rand::random::<f64>());
        tracing::info!(wait_ms = wait.as_millis() as u64, "next run");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    writeln!(out, "Stopped after {runs} run(s).")?;
    // A signal ends a service, which exits 0; `--runs` ends a job, whose
    // exit code is its last run's.
    let stopped_by_signal = *shutdown.borrow();
    Ok(if !stopped_by_signal && last == RunResult::Failure {
        Exit::Failure
    } else {
        Exit::Success
    })
}

/// The manifest for the next run: the file read again, or, when it no
/// longer loads, the last good one, with why.
fn reload(global: &Global, last_good: Manifest, out: &mut Stdout) -> anyhow::Result<Manifest> {
    match load_manifest(global) {
        Ok(fresh) if fresh.sha256 != last_good.sha256 => {
            writeln!(
                out,
                "{} changed (sha256 {}): planning from it now.",
                fresh.file,
                short(&fresh.sha256)
            )?;
            Ok(fresh)
        }
        Ok(_) => Ok(last_good),
        Err(error) => {
            writeln!(
                out,
                "Warning: {} no longer loads, so the last good version (sha256 {}) is kept: {}",
                last_good.file,
                short(&last_good.sha256),
                redact(&format!("{error:#}"))
            )?;
            Ok(last_good)
        }
    }
}

fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// How one run went.
struct Outcome {
    result: RunResult,
    report: RunReport,
}

/// One run: connect, plan, and in `correct` mode apply. A signal lets the
/// call in flight finish and starts no other.
#[allow(clippy::too_many_arguments)]
async fn once(
    global: &Global,
    overrides: &Overrides,
    args: &ReconcileArgs,
    manifest: &Manifest,
    metrics: &Metrics,
    account: &mut Option<String>,
    shutdown: &mut watch::Receiver<bool>,
    out: &mut Stdout,
) -> Outcome {
    let started_at = Utc::now();
    let mut report = RunReport {
        format_version: 1,
        mode: match args.mode {
            ReconcileMode::Detect => "detect",
            ReconcileMode::Correct => "correct",
        },
        started_at,
        finished_at: started_at,
        result: RunResult::Failure.label(),
        manifest: ManifestInfo {
            file: manifest.file.clone(),
            sha256: manifest.sha256.clone(),
        },
        account_id: account.clone().unwrap_or_else(|| UNKNOWN_ACCOUNT.into()),
        error: None,
        drift: Vec::new(),
        apply: None,
        calls: StatsSnapshot::default(),
    };
    let result = match connect(&connect_options(global, overrides, args.rails.rate)).await {
        Ok(connection) => {
            let client = connection.client;
            let run = plan_and_correct(args, manifest, metrics, account, &client, &mut report, out);
            let result = unless_stopped(run, shutdown, || client.interrupt()).await;
            report.calls = client.stats();
            result
        }
        Err(error) => Err(error),
    };
    let result = match result {
        Ok(result) => result,
        Err(error) => {
            report.error = Some(redact(&format!("{error:#}")));
            RunResult::Failure
        }
    };
    report.result = result.label();
    report.finished_at = Utc::now();
    Outcome { result, report }
}

/// The plan, the drift gauge, and in `correct` mode the apply, each step
/// recorded in `report`.
async fn plan_and_correct(
    args: &ReconcileArgs,
    manifest: &Manifest,
    metrics: &Metrics,
    account: &mut Option<String>,
    client: &crate::cloud::client::Client,
    report: &mut RunReport,
    out: &mut Stdout,
) -> anyhow::Result<RunResult> {
    if account.is_none() {
        match caller_identity(client).await {
            Ok(identity) => {
                *account = identity
                    .get("AccountId")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned);
            }
            Err(error) => tracing::warn!("could not tell the account: {error}"),
        }
        report.account_id = account.clone().unwrap_or_else(|| UNKNOWN_ACCOUNT.into());
    }
    let plan = make_plan(client, manifest, args.rails.ignore_missing).await?;
    metrics.set_drift(&plan, &report.account_id);
    report.drift = plan.changes.clone();
    writeln!(
        out,
        "{} {}: {}",
        Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        report.mode,
        render::summary_line(&plan)
    )?;
    if args.mode == ReconcileMode::Detect || !plan.has_changes() {
        return Ok(RunResult::Success);
    }
    check_max_changes(&plan, args.rails.max_changes, Some(manifest))?;
    let interrupts = Interrupts::none();
    let rails = rails(&args.rails, ProgressStyle::Lines);
    let (_, applied) =
        apply::apply_plan(client, plan, &rails, Vec::new(), &interrupts, out).await?;
    write!(out, "{}", applied.summary())?;
    metrics.record_moves(&applied);
    let result = if applied.succeeded_but(0) {
        RunResult::Success
    } else {
        RunResult::Failure
    };
    report.apply = Some(applied);
    Ok(result)
}

/// Runs `work` to its end; if a signal comes first, `stop` is called (so
/// that no new call starts and nothing is retried) and `work` still
/// finishes, so that what it did is reported.
async fn unless_stopped<T>(
    work: impl std::future::Future<Output = T>,
    shutdown: &mut watch::Receiver<bool>,
    stop: impl FnOnce(),
) -> T {
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => done,
        _ = shutdown.wait_for(|stop| *stop) => {
            eprintln!("Stopping: the call in flight finishes, no other starts.");
            stop();
            work.await
        }
    }
}

/// A flag that turns true on the first SIGTERM or Ctrl-C.
fn watch_signals() -> watch::Receiver<bool> {
    let (set, flag) = watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        let terminated = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut term) => {
                    term.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let terminated = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
        }
        set.send_replace(true);
    });
    flag
}

/// Writes a run's report as `reconcile-<UTC time>.json` in `dir`, and
/// removes the oldest beyond [`REPORTS_KEPT`].
fn save_report(dir: &Path, report: &RunReport) -> anyhow::Result<()> {
    let name = format!(
        "reconcile-{}.json",
        report.finished_at.format("%Y%m%dT%H%M%S%.3fZ")
    );
    let path = dir.join(name);
    atomic_file::write(&path, |file| {
        Ok(serde_json::to_writer_pretty(file, report)?)
    })
    .with_context(|| format!("could not write the report {}", path.display()))?;
    let mut reports: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("reconcile-") && name.ends_with(".json"))
        })
        .collect();
    // The names sort in time order.
    reports.sort();
    let excess = reports.len().saturating_sub(REPORTS_KEPT);
    for old in &reports[..excess] {
        std::fs::remove_file(old)
            .with_context(|| format!("could not remove the old report {}", old.display()))?;
    }
    Ok(())
}
