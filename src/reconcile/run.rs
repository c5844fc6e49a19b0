//! The reconcile loop: the plan (and in `correct` mode the apply) of
//! `regroup apply`, run again every interval by one process, one run at a
//! time, with Prometheus metrics and a JSON report per run. A manifest with
//! `accounts:` is planned across the members and applied account by
//! account, each member under its own quotas, as `regroup apply` does it
//! (the same calls); a member that fails is that account's failure, and
//! the others converge. It keeps no state beyond its reports: every run
//! reads the manifest and the accounts afresh, on a fresh connection (so an
//! endpoint that stopped answering in one run is tried again in the next,
//! after a backoff), and discovers its quotas afresh before its first join
//! (a fresh client has a fresh limiter, and what Quota Center says is used
//! of a window is true only now).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use tokio::sync::watch;

use super::accounts::{self, AccountRun};
use super::metrics::{Metrics, RunResult};
use super::pace::{Pace, RunHealth};
use super::report::{save_report, RunReport};
use super::signals::{unless_stopped, watch_signals};
use super::{calls, server};
use crate::apply::{self, Interrupts, Movers, Rails, Report};
use crate::cloud::client::{redact, Client, StatsSnapshot};
use crate::cloud::connect::{connect, ConnectOptions};
use crate::cloud::identity::caller_identity;
use crate::manifest::accounts::AccountsSpec;
use crate::manifest::Manifest;
use crate::output::{report_error, Stdout};
use crate::plan::{AccountStatus, ManifestInfo, Plan};
use crate::planning::accounts::{check_accounts, plan_across, refuse_fanout, Fanout};
use crate::planning::{check_max_changes, load_manifest, make_plan};
use crate::render;

/// The account label when GetCallerIdentity could not say.
const UNKNOWN_ACCOUNT: &str = "unknown";

/// What a reconcile loop does about drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plan and report drift; move nothing.
    Detect,
    /// Plan, then apply the plan with every rail.
    Correct,
}

/// One `regroup reconcile`, resolved from the command line.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    pub manifest: PathBuf,
    /// `--region`: the regions each run may touch (empty for all).
    pub regions: Vec<String>,
    pub connect: ConnectOptions,
    pub interval: Duration,
    pub mode: Mode,
    pub metrics_listen: Option<SocketAddr>,
    pub metrics_public: bool,
    pub report_dir: Option<PathBuf>,
    /// Stop after this many runs.
    pub runs: Option<u64>,
    pub rails: Rails,
    /// `--account` and `--shard`, for a manifest with `accounts:`.
    pub fanout: Fanout,
}

/// Runs the loop until a signal or `--runs`; whether it ended well: a
/// signal ends a service, which succeeds; `--runs` ends a job, which
/// succeeds when its last run did.
pub async fn reconcile(options: &ReconcileOptions, out: &mut Stdout) -> anyhow::Result<bool> {
    // A manifest that is broken from the start is bad input: there is no
    // good one to keep.
    let mut manifest = load_manifest(&options.manifest, &options.regions)?;
    if manifest.accounts.is_none() {
        refuse_fanout(&manifest, &options.fanout)?;
    }
    if let Some(dir) = &options.report_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create --report-dir {}", dir.display()))?;
    }
    let metrics = Arc::new(Metrics::new());
    calls::count_into(metrics.clone());
    if let Some(address) = options.metrics_listen {
        serve_metrics(address, options.metrics_public, &metrics, out).await?;
    }
    let mut shutdown = watch_signals();
    let mut pace = Pace::new(options.interval);
    let mut account: Option<String> = None;
    let mut runs = 0u64;
    let mut last: RunResult;
    loop {
        manifest = reload(options, manifest, out)?;
        let started = Instant::now();
        let run = Run {
            options,
            manifest: &manifest,
            metrics: &metrics,
        };
        let outcome = run.once(&mut account, &mut shutdown, out).await;
        last = outcome.result;
        metrics.record_run(outcome.result, started.elapsed());
        metrics.record_throttled(outcome.report.calls.throttled);
        let health = RunHealth::of(
            outcome.result == RunResult::Failure,
            outcome.report.accounts.iter().any(AccountRun::succeeded),
            outcome.report.calls.throttled,
        );
        if let Some(error) = &outcome.report.error {
            writeln!(out, "Run failed: {error}")?;
        }
        if let Some(dir) = &options.report_dir {
            if let Err(error) = save_report(dir, &outcome.report) {
                report_error(&error);
            }
        }
        out.flush()?;
        runs += 1;
        if *shutdown.borrow() || options.runs.is_some_and(|limit| runs >= limit) {
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
    let stopped_by_signal = *shutdown.borrow();
    Ok(stopped_by_signal || last != RunResult::Failure)
}

/// Serves `/metrics` at `address`, loopback unless `public`.
async fn serve_metrics(
    address: SocketAddr,
    public: bool,
    metrics: &Arc<Metrics>,
    out: &mut Stdout,
) -> anyhow::Result<()> {
    if !address.ip().is_loopback() && !public {
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
    Ok(())
}

/// The manifest for the next run: the file read again, or, when it no
/// longer loads, the last good one, with why.
fn reload(
    options: &ReconcileOptions,
    last_good: Manifest,
    out: &mut Stdout,
) -> anyhow::Result<Manifest> {
    match load_manifest(&options.manifest, &options.regions) {
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

/// What every run of a loop shares.
struct Run<'a> {
    options: &'a ReconcileOptions,
    manifest: &'a Manifest,
    metrics: &'a Metrics,
}

impl Run<'_> {
    /// One run: connect, plan, and in `correct` mode apply. A signal lets
    /// the call in flight finish and starts no other.
    async fn once(
        &self,
        account: &mut Option<String>,
        shutdown: &mut watch::Receiver<bool>,
        out: &mut Stdout,
    ) -> Outcome {
        let started_at = Utc::now();
        let mut report = RunReport {
            format_version: 1,
            mode: match self.options.mode {
                Mode::Detect => "detect",
                Mode::Correct => "correct",
            },
            started_at,
            finished_at: started_at,
            result: RunResult::Failure.label(),
            manifest: ManifestInfo {
                file: self.manifest.file.clone(),
                sha256: self.manifest.sha256.clone(),
            },
            account_id: account.clone().unwrap_or_else(|| UNKNOWN_ACCOUNT.into()),
            accounts: Vec::new(),
            error: None,
            drift: Vec::new(),
            apply: None,
            calls: StatsSnapshot::default(),
        };
        let result = match connect(&self.options.connect).await {
            Ok(connection) => {
                let client = connection.client;
                let run = self.plan_and_correct(account, &client, &mut report, out);
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
        if self.manifest.accounts.is_some()
            && result == RunResult::Failure
            && report.accounts.is_empty()
        {
            self.metrics.record_no_account_reached();
        }
        if self.manifest.accounts.is_none() {
            let caller = accounts::caller(
                &report.account_id,
                result,
                report.error.as_deref(),
                &report.drift,
                report.apply.as_ref(),
            );
            self.metrics.record_accounts(std::slice::from_ref(&caller));
            report.accounts = vec![caller];
        }
        report.result = result.label();
        report.finished_at = Utc::now();
        Outcome { result, report }
    }

    /// The plan, the drift gauge, and in `correct` mode the apply, each
    /// step recorded in `report`.
    async fn plan_and_correct(
        &self,
        account: &mut Option<String>,
        client: &Client,
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
        match &self.manifest.accounts {
            Some(spec) => self.across_accounts(client, spec, report, out).await,
            None => self.one_account(client, report, out).await,
        }
    }

    /// A run of the caller's account: its plan, and in `correct` mode its
    /// apply under its quotas.
    async fn one_account(
        &self,
        client: &Client,
        report: &mut RunReport,
        out: &mut Stdout,
    ) -> anyhow::Result<RunResult> {
        // A manifest edited to drop `accounts:` under a loop given
        // `--account` or `--shard`: said, not planned in the caller's
        // account instead.
        refuse_fanout(self.manifest, &self.options.fanout)?;
        let rails = &self.options.rails;
        let plan = make_plan(client, self.manifest, rails.ignore_missing).await?;
        self.note_plan(&plan, report, &render::summary_line(&plan), out)?;
        if self.options.mode == Mode::Detect || !plan.has_changes() {
            return Ok(RunResult::Success);
        }
        check_max_changes(&plan, rails.max_changes, Some(self.manifest))?;
        apply::pace_under_quotas(client, &plan).await;
        let movers = Movers::Account(client);
        let (_, applied) =
            apply::apply_plan(movers, plan, rails, Vec::new(), &Interrupts::none(), out).await?;
        Ok(self.note_apply(applied, report, out)?)
    }

    /// A run over the members `accounts:` selects (narrowed by `--account`
    /// and `--shard`): planned across them, and in `correct` mode applied
    /// account by account, as `regroup apply` does. A member that cannot
    /// be planned or converged fails the run, and is reported as that
    /// account's failure.
    async fn across_accounts(
        &self,
        client: &Client,
        spec: &AccountsSpec,
        report: &mut RunReport,
        out: &mut Stdout,
    ) -> anyhow::Result<RunResult> {
        let rails = &self.options.rails;
        let (plan, clients) = plan_across(
            client,
            self.manifest,
            spec,
            &self.options.fanout,
            rails.ignore_missing,
        )
        .await?;
        let summary = format!(
            "{} {}",
            render::overview(&plan),
            render::summary_line(&plan)
        );
        self.note_plan(&plan, report, &summary, out)?;
        let statuses = plan.accounts.clone();
        let members_failed = check_accounts(&plan).err();
        let applied = if self.options.mode == Mode::Correct && plan.has_changes() {
            Some(self.correct_across(client, plan, &clients, out).await)
        } else {
            None
        };
        let ran = applied.as_ref().and_then(|a| a.as_ref().ok());
        report.accounts = accounts::members(&statuses, &report.drift, ran, self.options.mode);
        self.metrics.record_accounts(&report.accounts);
        let result = match applied.transpose()? {
            Some(applied) => self.note_apply(applied, report, out)?,
            None => RunResult::Success,
        };
        if let Some(failed) = members_failed {
            report.error = Some(redact(&format!("{failed:#}")));
        }
        Ok(
            if result == RunResult::Success && report.accounts.iter().all(AccountRun::succeeded) {
                RunResult::Success
            } else {
                RunResult::Failure
            },
        )
    }

    /// The apply of a plan over accounts, held to its rails first.
    async fn correct_across(
        &self,
        client: &Client,
        plan: Plan,
        clients: &[(AccountStatus, Client)],
        out: &mut Stdout,
    ) -> anyhow::Result<Report> {
        let rails = &self.options.rails;
        check_max_changes(&plan, rails.max_changes, Some(self.manifest))?;
        let movers = Movers::Members {
            base: client,
            clients,
        };
        let (_, applied) =
            apply::apply_plan(movers, plan, rails, Vec::new(), &Interrupts::none(), out).await?;
        Ok(applied)
    }

    /// The drift gauge and the report's drift from a fresh plan, and its
    /// line: `<time> <mode>: <summary>`.
    fn note_plan(
        &self,
        plan: &Plan,
        report: &mut RunReport,
        summary: &str,
        out: &mut Stdout,
    ) -> std::io::Result<()> {
        self.metrics.set_drift(plan, &report.account_id);
        report.drift = plan.changes.clone();
        writeln!(
            out,
            "{} {}: {summary}",
            Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
            report.mode,
        )
    }

    /// An apply's summary printed and its report kept; whether every move
    /// landed.
    fn note_apply(
        &self,
        applied: Report,
        report: &mut RunReport,
        out: &mut Stdout,
    ) -> std::io::Result<RunResult> {
        write!(out, "{}", applied.summary())?;
        let result = if applied.succeeded_but(0) {
            RunResult::Success
        } else {
            RunResult::Failure
        };
        report.apply = Some(applied);
        Ok(result)
    }
}
