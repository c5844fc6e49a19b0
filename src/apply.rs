//! Executes a plan: the stale-plan guard, parallel `JoinResourceGroup` calls
//! under the client's rate limit, progress, interrupts, read-back
//! verification, and the report of what happened to every change.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::cloud::client::{Client, CloudError, StatsSnapshot};
use crate::cloud::ecs;
use crate::inventory;
use crate::plan::{Change, Plan};
use crate::resource::{Resource, ResourceKey};
use crate::schedule;

/// A resource whose group changed since the plan was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub resource: ResourceKey,
    pub planned_from: String,
    /// `None` when the resource no longer exists.
    pub now_in: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the saved plan is stale: {} resource(s) are no longer where the plan found them, so nothing was changed:\n{}\n  hint: run `regroup plan` again", .0.len(), .0.iter().map(describe_drift).collect::<Vec<_>>().join("\n"))]
    Stale(Vec<Drift>),
    #[error("could not read the current groups")]
    Read(#[source] CloudError),
}

fn describe_drift(drift: &Drift) -> String {
    match &drift.now_in {
        Some(group) => format!(
            "  {}: planned from {}, now in {group}",
            drift.resource, drift.planned_from
        ),
        None => format!(
            "  {}: planned from {}, no longer exists",
            drift.resource, drift.planned_from
        ),
    }
}

/// Reads every planned resource's group and refuses if any has moved since
/// the plan was made; returns what it read, for checking the plan against
/// the manifest.
pub async fn check_stale(
    client: &Client,
    plan: &Plan,
) -> Result<BTreeMap<ResourceKey, Resource>, ApplyError> {
    let keys: Vec<ResourceKey> = plan.changes.iter().map(|c| c.resource.clone()).collect();
    let current = inventory::read_keys(client, &keys)
        .await
        .map_err(ApplyError::Read)?;
    let drifts: Vec<Drift> = plan
        .changes
        .iter()
        .filter_map(|change| {
            let now_in = current.get(&change.resource).map(|r| r.group_id.clone());
            let unmoved = now_in.as_deref().is_some_and(|g| change.from.holds(g));
            (!unmoved).then(|| Drift {
                resource: change.resource.clone(),
                planned_from: change.from.id.clone(),
                now_in,
            })
        })
        .collect();
    if drifts.is_empty() {
        Ok(current)
    } else {
        Err(ApplyError::Stale(drifts))
    }
}

/// What became of one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Moved,
    Failed,
    /// The call said yes, but reading back found the resource where it was.
    NotMovedDespiteSuccess,
    /// The call said yes, and reading back found the resource in a third
    /// group, neither where it was nor where we put it: someone else (another
    /// apply, the console) moved it after our call.
    MovedElsewhere,
    /// Not started because the run was interrupted.
    NotStarted,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub change: Change,
    pub status: Status,
    pub code: Option<String>,
    pub message: Option<String>,
    pub tries: u32,
    pub request_ids: Vec<String>,
    pub elapsed_ms: u64,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        matches!(
            self.status,
            Status::Failed | Status::NotMovedDespiteSuccess | Status::MovedElsewhere
        )
    }
}

/// The record of a run, written by `--report`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub manifest_sha256: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub interrupted: bool,
    /// Why no more joins were started, when RAM refused one: the rest
    /// would be refused the same way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    pub moved: usize,
    pub failed: usize,
    pub not_started: usize,
    /// What the run asked of the API, reads and retries included.
    pub calls: StatsSnapshot,
    pub outcomes: Vec<Outcome>,
}

impl Report {
    fn count(&mut self) {
        self.moved = self
            .outcomes
            .iter()
            .filter(|o| o.status == Status::Moved)
            .count();
        self.failed = self.outcomes.iter().filter(|o| o.failed()).count();
        self.not_started = self
            .outcomes
            .iter()
            .filter(|o| o.status == Status::NotStarted)
            .count();
    }

    /// The closing lines: the summary and each failure.
    pub fn summary(&self) -> String {
        let mut text = if self.interrupted {
            format!(
                "Apply interrupted! {} moved, {} failed, {} not started. Run apply again to finish.\n",
                self.moved, self.failed, self.not_started
            )
        } else if let Some(reason) = &self.stopped {
            format!(
                "Apply stopped: {} moved, {} failed, {} not started, because {reason}\n",
                self.moved, self.failed, self.not_started
            )
        } else {
            format!(
                "Apply complete! {} moved, {} failed.\n",
                self.moved, self.failed
            )
        };
        for outcome in self.outcomes.iter().filter(|o| o.failed()) {
            text.push_str(&format!(
                "  failed: {}: {}: {}\n",
                outcome.change.resource,
                outcome.code.as_deref().unwrap_or("Error"),
                outcome.message.as_deref().unwrap_or("")
            ));
        }
        text
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyle {
    /// A bar on the terminal.
    Bar,
    /// A line every few seconds, for CI logs.
    Lines,
}

impl ProgressStyle {
    /// A bar where one can be drawn (stderr is a terminal that can move
    /// its cursor), lines otherwise.
    pub fn detect() -> ProgressStyle {
        if indicatif::ProgressDrawTarget::stderr().is_hidden() {
            ProgressStyle::Lines
        } else {
            ProgressStyle::Bar
        }
    }
}

/// A rate for people: whole numbers from 10/s up, one decimal below, so
/// that a slow run does not read `0/s`.
fn per_second(rate: f64) -> String {
    if rate >= 10.0 {
        format!("{rate:.0}/s")
    } else {
        format!("{rate:.1}/s")
    }
}

const PROGRESS_LINE_EVERY: Duration = Duration::from_secs(5);

struct Progress {
    style: ProgressStyle,
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    started: Instant,
    last_line: std::sync::Mutex<Instant>,
}

impl Progress {
    fn new(style: ProgressStyle, total: usize) -> Progress {
        let bar = (style == ProgressStyle::Bar).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(template) = indicatif::ProgressStyle::with_template(
                "{bar:40.cyan/blue} {pos}/{len} {msg} [{elapsed_precise}, {rate}, ETA {eta}]",
            ) {
                // indicatif's own `{per_sec}` prints four decimals.
                bar.set_style(template.with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&per_second(state.per_sec()));
                    },
                ));
            }
            bar
        });
        Progress {
            style,
            bar,
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            started: Instant::now(),
            last_line: std::sync::Mutex::new(Instant::now()),
        }
    }

    fn record(&self, failed: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failures = self
            .failed
            .fetch_add(usize::from(failed), Ordering::Relaxed)
            + usize::from(failed);
        match self.style {
            ProgressStyle::Bar => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{failures} failed"));
                    bar.inc(1);
                }
            }
            ProgressStyle::Lines => {
                let Ok(mut last) = self.last_line.lock() else {
                    return;
                };
                if last.elapsed() >= PROGRESS_LINE_EVERY {
                    *last = Instant::now();
                    let rate = done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
                    eprintln!(
                        "Applying: {done}/{} done, {failures} failed, {} remaining ({})",
                        self.total,
                        self.total - done,
                        per_second(rate)
                    );
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub parallelism: usize,
    pub progress: ProgressStyle,
}

/// Runs every change, at most `parallelism` at once. Once `interrupted` is
/// set, or RAM has refused a join, no new call starts; calls in flight
/// finish.
pub async fn execute(
    client: &Client,
    plan: &Plan,
    options: &ApplyOptions,
    interrupted: Arc<AtomicBool>,
) -> Report {
    let started_at = Utc::now();
    let progress = Progress::new(options.progress, plan.changes.len());
    // Each region has its own limit for joins: take turns between them.
    let order = schedule::round_robin(plan.changes.clone(), |c| c.resource.region.clone());
    let denied: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let mut outcomes: Vec<Outcome> = stream::iter(order)
        .map(|change| {
            let interrupted = interrupted.clone();
            let progress = &progress;
            let denied = &denied;
            async move {
                let refused = denied.lock().map(|d| d.is_some()).unwrap_or(true);
                if interrupted.load(Ordering::SeqCst) || refused {
                    return Outcome {
                        change,
                        status: Status::NotStarted,
                        code: None,
                        message: None,
                        tries: 0,
                        request_ids: Vec::new(),
                        elapsed_ms: 0,
                    };
                }
                let started = Instant::now();
                let call = ecs::join_resource_group(client, &change.resource, &change.to.id).await;
                if let Err(error) = &call.result {
                    if let (Some(api), Ok(mut reason)) = (
                        error.api_error().filter(|_| error.denial().is_some()),
                        denied.lock(),
                    ) {
                        reason.get_or_insert_with(|| api.to_string());
                    }
                }
                let (status, code, message) = match &call.result {
                    Ok(_) => (Status::Moved, None, None),
                    Err(error) => (
                        Status::Failed,
                        Some(error.code()),
                        Some(
                            error
                                .api_error()
                                .map(|a| a.message.clone())
                                .unwrap_or_else(|| error.to_string()),
                        ),
                    ),
                };
                progress.record(status == Status::Failed);
                Outcome {
                    change,
                    status,
                    code,
                    message,
                    tries: call.tries,
                    request_ids: call.request_ids,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                }
            }
        })
        .buffer_unordered(options.parallelism.max(1))
        .collect()
        .await;
    progress.finish();
    outcomes.sort_by(|a, b| a.change.resource.cmp(&b.change.resource));
    let mut report = Report {
        format_version: 1,
        manifest_sha256: plan.manifest.sha256.clone(),
        started_at,
        finished_at: Utc::now(),
        interrupted: interrupted.load(Ordering::SeqCst),
        stopped: denied.into_inner().unwrap_or_default(),
        moved: 0,
        failed: 0,
        not_started: 0,
        calls: StatsSnapshot::default(),
        outcomes,
    };
    report.count();
    report
}

/// Reads back every resource the report says moved. One still where it was
/// is marked `not moved despite success`, since the API has acknowledged
/// moves that did not happen; one in a third group is `moved elsewhere`,
/// since someone else moved it after our call (two applies at once).
pub async fn verify(client: &Client, report: &mut Report) -> Result<(), CloudError> {
    let keys: Vec<ResourceKey> = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Moved)
        .map(|o| o.change.resource.clone())
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    let current = inventory::read_keys(client, &keys).await?;
    for outcome in report
        .outcomes
        .iter_mut()
        .filter(|o| o.status == Status::Moved)
    {
        let now_in = current
            .get(&outcome.change.resource)
            .map(|r| r.group_id.as_str());
        let change = &outcome.change;
        let (status, code, message) = match now_in {
            Some(group) if change.to.holds(group) => continue,
            Some(group) if change.from.holds(group) => (
                Status::NotMovedDespiteSuccess,
                "NotMovedDespiteSuccess",
                format!("the call succeeded but the resource is still in {group}"),
            ),
            Some(group) => (
                Status::MovedElsewhere,
                "MovedElsewhere",
                format!(
                    "the call succeeded, but the resource is now in {group}: someone else moved it after our call"
                ),
            ),
            None => (
                Status::NotMovedDespiteSuccess,
                "NotMovedDespiteSuccess",
                "the call succeeded but the resource is no longer found".into(),
            ),
        };
        outcome.status = status;
        outcome.code = Some(code.into());
        outcome.message = Some(message);
    }
    report.count();
    Ok(())
}

/// Sets the returned flag on the first Ctrl-C; a second one exits at once
/// with 130.
pub fn watch_interrupts() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            set.store(true, Ordering::SeqCst);
            eprintln!("\nInterrupted: waiting for calls in flight to finish (Ctrl-C again to stop at once)...");
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    flag
}

#[cfg(test)]
mod tests;
