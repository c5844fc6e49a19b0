//! Executes a plan: the stale-plan guard, parallel `JoinResourceGroup` calls
//! under the client's rate limit, progress, interrupts, read-back
//! verification of every started change, a second pass over transient
//! failures, the rails that stop new joins (a RAM denial, `--max-errors`,
//! a `--canary` that did not land), and the report of what happened to
//! every change, which is made on every way a run can end (and from which
//! `--undo-plan` is made).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::cloud::client::{CallOutcome, Client, CloudError, StatsSnapshot};
use crate::cloud::concurrency::Gate;
use crate::cloud::ecs;
use crate::inventory;
use crate::plan::{Change, Plan, ReportRef};
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

/// One line for a drifted resource.
pub fn describe_drift(drift: &Drift) -> String {
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
    let (current, drifts) = find_drift(client, plan).await?;
    if drifts.is_empty() {
        Ok(current)
    } else {
        Err(ApplyError::Stale(drifts))
    }
}

/// Reads every planned resource's group: what it read, and every resource
/// that is no longer where the plan found it. An undo plan skips those
/// alone ([`check_stale`] refuses the whole plan).
pub async fn find_drift(
    client: &Client,
    plan: &Plan,
) -> Result<(BTreeMap<ResourceKey, Resource>, Vec<Drift>), ApplyError> {
    let keys: Vec<ResourceKey> = plan.changes.iter().map(|c| c.resource.clone()).collect();
    let current = inventory::read_keys(client, &keys)
        .await
        .map_err(ApplyError::Read)?;
    let drifts: Vec<Drift> = plan
        .changes
        .iter()
        .filter_map(|change| {
            let now_in = current
                .get(&change.resource)
                .map(|r| r.group_id.to_string());
            let unmoved = now_in.as_deref().is_some_and(|g| change.from.holds(g));
            (!unmoved).then(|| Drift {
                resource: change.resource.clone(),
                planned_from: change.from.id.to_string(),
                now_in,
            })
        })
        .collect();
    Ok((current, drifts))
}

/// What became of one change; docs/apply.md describes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Reading back found the resource in its target group.
    Moved,
    /// The call failed and reading back did not find the resource moved.
    Failed,
    /// The call said yes, but reading back found the resource elsewhere.
    NotMovedDespiteSuccess,
    /// The call said yes, and reading back found the resource in a third
    /// group, neither where it was nor where we put it: someone else (another
    /// apply, the console) moved it after our call.
    MovedElsewhere,
    /// No call was sent: the run was interrupted, or the endpoint stopped
    /// answering (the message says which).
    NotStarted,
    /// A call was sent, but what it did is not known: reading back failed,
    /// or the run was stopped while the call was in flight.
    Unverified,
}

/// A status as the report writes it, for messages.
fn status_name(status: Status) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{status:?}"))
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub change: Change,
    pub status: Status,
    pub code: Option<String>,
    pub message: Option<String>,
    /// What else is known: the error of a call whose change was made all
    /// the same, or why a change could not be verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub tries: u32,
    pub request_ids: Vec<String>,
    pub elapsed_ms: u64,
    /// Whether a later try may succeed where the call failed.
    #[serde(skip)]
    transient: bool,
}

impl Outcome {
    fn new(change: Change, status: Status) -> Outcome {
        Outcome {
            change,
            status,
            code: None,
            message: None,
            note: None,
            tries: 0,
            request_ids: Vec::new(),
            elapsed_ms: 0,
            transient: false,
        }
    }

    pub fn failed(&self) -> bool {
        matches!(
            self.status,
            Status::Failed | Status::NotMovedDespiteSuccess | Status::MovedElsewhere
        )
    }

    /// Whether a call was sent for this change.
    fn started(&self) -> bool {
        self.status != Status::NotStarted
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
    pub moved: usize,
    pub failed: usize,
    pub not_started: usize,
    pub unverified: usize,
    /// Why no new join was started after some point: RAM refused one (the
    /// rest would be refused the same way), `--max-errors` joins failed, or
    /// the `--canary` did not all land.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// What the run asked of the API, reads and retries included.
    pub calls: StatsSnapshot,
    pub outcomes: Vec<Outcome>,
}

impl Report {
    fn count(&mut self) {
        let count = |status| self.outcomes.iter().filter(|o| o.status == status).count();
        self.moved = count(Status::Moved);
        self.not_started = count(Status::NotStarted);
        self.unverified = count(Status::Unverified);
        self.failed = self.outcomes.iter().filter(|o| o.failed()).count();
    }

    /// Adds a change that was not started for `why`: an undo plan's
    /// resource that moved since, which is left where it is.
    pub fn add_not_started(&mut self, change: Change, why: String) {
        let mut outcome = Outcome::new(change, Status::NotStarted);
        outcome.message = Some(why);
        self.outcomes.push(outcome);
        self.outcomes
            .sort_by(|a, b| a.change.resource.cmp(&b.change.resource));
        self.count();
    }

    /// The plan that moves back every resource this run moved or may have
    /// moved (`--undo-plan`): an unverified change is in it too, and the
    /// undo's stale guard leaves it alone if it did not happen. It is bound
    /// to `report`, this report as written.
    pub fn undo_plan(&self, plan: &Plan, report: ReportRef) -> Plan {
        let moved = self
            .outcomes
            .iter()
            .filter(|o| undo::may_have_moved(o.status))
            .map(|o| &o.change);
        plan.undo(moved, report, Utc::now())
    }

    /// Whether everything planned was done and verified, but for
    /// `done_before` changes that a run before this one had made already
    /// (an undo plan applied twice), which are reported not started.
    pub fn succeeded_but(&self, done_before: usize) -> bool {
        !self.interrupted && self.moved + done_before == self.outcomes.len()
    }

    /// The closing lines: the summary, each failure and unverified change,
    /// and why changes were not started.
    pub fn summary(&self) -> String {
        let unverified = if self.unverified > 0 {
            format!(", {} unverified", self.unverified)
        } else {
            String::new()
        };
        let mut text = if self.interrupted {
            format!(
                "Apply interrupted! {} moved, {} failed{unverified}, {} not started. Run apply again to finish.\n",
                self.moved, self.failed, self.not_started
            )
        } else if let Some(reason) = &self.stopped {
            format!(
                "Apply stopped: {} moved, {} failed{unverified}, {} not started, because {reason}\n",
                self.moved, self.failed, self.not_started
            )
        } else if self.not_started > 0 {
            format!(
                "Apply stopped! {} moved, {} failed{unverified}, {} not started. Run apply again to finish.\n",
                self.moved, self.failed, self.not_started
            )
        } else {
            format!(
                "Apply complete! {} moved, {} failed{unverified}.\n",
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
        for outcome in self
            .outcomes
            .iter()
            .filter(|o| o.status == Status::Unverified)
        {
            text.push_str(&format!(
                "  unverified: {}: {}\n",
                outcome.change.resource,
                outcome.note.as_deref().unwrap_or("")
            ));
        }
        let reasons: std::collections::BTreeSet<&str> = self
            .outcomes
            .iter()
            .filter(|o| o.status == Status::NotStarted)
            .filter_map(|o| o.message.as_deref())
            .collect();
        for reason in reasons {
            text.push_str(&format!("  not started: {reason}\n"));
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

/// How long a run stopped at once (SIGTERM, SIGHUP, a second Ctrl-C) may
/// spend reading back what it started, before the changes it could not
/// read are reported `unverified`.
const READ_BACK_ON_STOP: Duration = Duration::from_secs(15);

/// A progress line at least this often, also while nothing finishes (a
/// closed quota window, a hung server).
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
            bar.enable_steady_tick(Duration::from_secs(1));
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
        self.done.fetch_add(1, Ordering::Relaxed);
        let failures = self
            .failed
            .fetch_add(usize::from(failed), Ordering::Relaxed)
            + usize::from(failed);
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{failures} failed"));
            bar.inc(1);
        }
        self.line_if_due();
    }

    /// A plain line, when the last is [`PROGRESS_LINE_EVERY`] old.
    fn line_if_due(&self) {
        if self.style != ProgressStyle::Lines {
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed() >= PROGRESS_LINE_EVERY {
            *last = Instant::now();
            let done = self.done.load(Ordering::Relaxed);
            let failures = self.failed.load(Ordering::Relaxed);
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
            let _ = writeln!(
                std::io::stderr(),
                "Applying: {done}/{} done, {failures} failed, {} remaining ({})",
                self.total,
                self.total.saturating_sub(done),
                per_second(rate)
            );
        }
    }

    /// Prints lines while calls are waiting; never returns.
    async fn keep_printing(&self) {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            self.line_if_due();
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
    /// `--max-errors`: no new join starts after this many have failed.
    pub max_errors: Option<usize>,
    /// `--canary`: this many changes go first, and the rest only if every
    /// one of them is read back in its target group.
    pub canary: Option<usize>,
}

/// Why a run stopped starting joins while changes were left: once set, no
/// new call starts, and every change still waiting is `not_started` with
/// [`Halt::not_started`] as its message.
#[derive(Debug, Clone)]
enum Halt {
    /// RAM refused a join: the rest would be refused the same way.
    Denied(String),
    /// `--max-errors` joins failed.
    MaxErrors(usize),
    /// A change of the canary did not land.
    Canary { size: usize, why: String },
}

impl Halt {
    fn not_started(&self) -> String {
        match self {
            Halt::Denied(reason) => format!("not started after a RAM denial: {reason}"),
            other => format!("not started: {}", other.reason()),
        }
    }

    /// For the report's `stopped` and the summary's "because …".
    fn reason(&self) -> String {
        match self {
            Halt::Denied(reason) => reason.clone(),
            Halt::MaxErrors(limit) => {
                format!("{limit} join(s) failed, the most that --max-errors {limit} allows")
            }
            Halt::Canary { size, why } => {
                format!("the canary of {size} change(s) did not all land: {why}")
            }
        }
    }
}

/// The run's [`Halt`], shared by the calls in flight, with the count of
/// failed joins that `--max-errors` is checked against.
struct Stop {
    halt: std::sync::Mutex<Option<Halt>>,
    failures: AtomicUsize,
    max_errors: Option<usize>,
}

impl Stop {
    fn new(max_errors: Option<usize>) -> Stop {
        Stop {
            halt: std::sync::Mutex::new(None),
            failures: AtomicUsize::new(0),
            max_errors,
        }
    }

    fn get(&self) -> Option<Halt> {
        self.halt
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Sets the halt, unless one is set already: the first reason stands.
    fn set(&self, halt: Halt) {
        self.halt
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert(halt);
    }

    /// Counts a failed join, and halts when the failures reach the limit.
    fn failed(&self) {
        let failures = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(limit) = self.max_errors.filter(|limit| failures >= *limit) {
            self.set(Halt::MaxErrors(limit));
        }
    }
}

/// What the signals asked of a run: stop starting calls (a first Ctrl-C),
/// or stop at once (a second Ctrl-C, SIGTERM). Either way the run still
/// ends through [`run`], which prints the summary and writes the report.
pub struct Interrupts {
    stop: AtomicBool,
    abort: tokio::sync::watch::Sender<bool>,
}

impl Interrupts {
    /// No signal yet, none watched: for runs driven by tests.
    pub fn none() -> Arc<Interrupts> {
        Arc::new(Interrupts {
            stop: AtomicBool::new(false),
            abort: tokio::sync::watch::Sender::new(false),
        })
    }

    /// Watches Ctrl-C, SIGTERM and SIGHUP for the rest of the process. A
    /// hang-up (a dropped SSH session) stops the run at once like SIGTERM:
    /// no one is left to answer, and the report and undo plan must still
    /// be written.
    pub fn watch(client: Client) -> Arc<Interrupts> {
        let interrupts = Interrupts::none();
        let set = interrupts.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut ends = [
                tokio::signal::unix::SignalKind::terminate(),
                tokio::signal::unix::SignalKind::hangup(),
            ]
            .map(|kind| tokio::signal::unix::signal(kind).ok());
            loop {
                #[cfg(unix)]
                let terminated = async {
                    let [term, hangup] = &mut ends;
                    tokio::select! {
                        Some(()) = async { term.as_mut()?.recv().await } => Some(()),
                        Some(()) = async { hangup.as_mut()?.recv().await } => Some(()),
                        else => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let terminated = std::future::pending::<Option<()>>();
                let now = tokio::select! {
                    result = tokio::signal::ctrl_c() => {
                        if result.is_err() {
                            return;
                        }
                        !set.stop.swap(true, Ordering::SeqCst)
                    }
                    _ = terminated => {
                        set.stop.store(true, Ordering::SeqCst);
                        false
                    }
                };
                client.interrupt();
                // After a hang-up stderr may be gone: a message that
                // cannot be written is dropped, never a panic.
                let mut stderr = std::io::stderr();
                if now {
                    let _ = writeln!(stderr, "\nInterrupted: waiting for calls in flight to finish (Ctrl-C again to stop at once)...");
                } else {
                    let _ = writeln!(
                        stderr,
                        "\nStopping now: calls in flight are read back for at most {} s.",
                        READ_BACK_ON_STOP.as_secs()
                    );
                    set.abort.send_replace(true);
                }
            }
        });
        interrupts
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn aborted(&self) -> bool {
        *self.abort.borrow()
    }

    /// Resolves when the run must stop at once.
    async fn abortion(&self) {
        let mut watch = self.abort.subscribe();
        let _ = watch.wait_for(|aborted| *aborted).await;
    }
}

/// Where each change stands while calls run, so that a run stopped at once
/// still knows what it did.
enum Slot {
    Waiting(Change),
    /// Its task has started; the flag says whether a request has left (it
    /// may still be waiting for its rate-limit turn).
    InFlight(Change, Arc<AtomicBool>),
    Done(Outcome),
}

fn lock(slot: &std::sync::Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The outcome of one call.
fn outcome_of(change: Change, call: CallOutcome, started: Instant) -> Outcome {
    let mut outcome = Outcome::new(change, Status::Moved);
    outcome.tries = call.tries;
    outcome.request_ids = call.request_ids;
    outcome.elapsed_ms = started.elapsed().as_millis() as u64;
    if let Err(error) = call.result {
        outcome.status = if call.tries == 0 {
            Status::NotStarted
        } else {
            Status::Failed
        };
        outcome.transient = error.is_transient_failure();
        outcome.message = Some(
            error
                .api_error()
                .map(|a| a.message.clone())
                .unwrap_or_else(|| error.to_string()),
        );
        if call.tries > 0 {
            outcome.code = Some(error.code());
        }
    }
    outcome
}

/// Runs `changes`, at most `parallelism` at once. Once interrupted, no new
/// call starts; calls in flight finish, unless the run is stopped at once,
/// which leaves them `unverified`.
async fn execute(
    client: &Client,
    changes: Vec<Change>,
    options: &ApplyOptions,
    interrupts: &Interrupts,
    stop: &Stop,
) -> Vec<Outcome> {
    let progress = Progress::new(options.progress, changes.len());
    // Each region has its own limit for joins: take turns between them.
    let order = schedule::round_robin(changes, |c| c.resource.region.clone());
    // As many joins in flight as their quotas and latency call for.
    let regions = order.iter().map(|c| c.resource.region.to_string());
    let gate = Gate::new(
        client.limiter(),
        "JoinResourceGroup",
        regions,
        options.parallelism,
    );
    let slots: Vec<std::sync::Mutex<Slot>> = order
        .into_iter()
        .map(|c| std::sync::Mutex::new(Slot::Waiting(c)))
        .collect();
    let work = stream::iter(&slots).for_each_concurrent(options.parallelism.max(1), |slot| {
        let (progress, gate) = (&progress, &gate);
        async move {
            let _in_flight = gate.enter().await;
            // After a RAM denial the rest would be refused the same way;
            // after --max-errors failures, or a failed canary, the user
            // asked for no more.
            if interrupts.stopped() || stop.get().is_some() {
                return;
            }
            let change = {
                let mut slot = lock(slot);
                let Slot::Waiting(change) = &*slot else {
                    return;
                };
                let change = change.clone();
                let sent = Arc::new(AtomicBool::new(false));
                *slot = Slot::InFlight(change.clone(), sent.clone());
                (change, sent)
            };
            let (change, sent) = change;
            let started = Instant::now();
            let call =
                ecs::join_resource_group(client, &change.resource, &change.to.id, Some(&sent))
                    .await;
            if let Err(error) = &call.result {
                if let Some(api) = error.api_error().filter(|_| error.denial().is_some()) {
                    stop.set(Halt::Denied(api.to_string()));
                }
            }
            let outcome = outcome_of(change, call, started);
            if outcome.status == Status::Failed {
                stop.failed();
            }
            progress.record(outcome.status == Status::Failed);
            *lock(slot) = Slot::Done(outcome);
        }
    });
    tokio::select! {
        () = work => {}
        () = interrupts.abortion() => {}
        () = progress.keep_printing() => {}
    }
    progress.finish();
    slots
        .into_iter()
        .map(|slot| {
            match slot
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
            {
                Slot::Done(outcome) => outcome,
                Slot::Waiting(change) => {
                    let mut outcome = Outcome::new(change, Status::NotStarted);
                    outcome.message = Some(match stop.get() {
                        Some(halt) => halt.not_started(),
                        None => "the run was interrupted".into(),
                    });
                    outcome
                }
                Slot::InFlight(change, sent) if sent.load(Ordering::SeqCst) => {
                    let mut outcome = Outcome::new(change, Status::Unverified);
                    outcome.tries = 1;
                    outcome.note = Some("the call was in flight when the run was stopped".into());
                    outcome
                }
                Slot::InFlight(change, _) => {
                    let mut outcome = Outcome::new(change, Status::NotStarted);
                    outcome.message =
                        Some("the run was stopped before this change's call was sent".into());
                    outcome
                }
            }
        })
        .collect()
}

/// Reads back every started change in `outcomes` and settles its status
/// from what it finds: a call that failed but whose resource is in its
/// target group moved (the error is kept as a note); a call that succeeded
/// but whose resource is elsewhere did not. When the read itself fails (or
/// a run stopped at once cannot finish it within [`READ_BACK_ON_STOP`]),
/// the changes it was to check are `unverified`.
async fn read_back(client: &Client, outcomes: &mut [Outcome], interrupts: &Interrupts) {
    let keys: Vec<ResourceKey> = outcomes
        .iter()
        .filter(|o| o.started())
        .map(|o| o.change.resource.clone())
        .collect();
    if keys.is_empty() {
        return;
    }
    // A run stopped at once still reads back, for a bounded time: a call
    // that answered success is `moved` only once read back in its group.
    let stopped = async {
        interrupts.abortion().await;
        tokio::time::sleep(READ_BACK_ON_STOP).await;
    };
    let read = tokio::select! {
        read = inventory::read_keys(client, &keys) => read.map_err(|e| format!("{e:#}")),
        () = stopped => Err(format!(
            "the run was stopped, and reading back took more than {} s",
            READ_BACK_ON_STOP.as_secs()
        )),
    };
    let current = match read {
        Ok(current) => current,
        Err(why) => {
            for outcome in outcomes.iter_mut().filter(|o| o.started()) {
                let said = match (&outcome.code, outcome.status) {
                    (Some(code), _) => format!("the call failed ({code})"),
                    (None, Status::Unverified) => "the call was in flight".to_owned(),
                    (None, _) => "the call succeeded".to_owned(),
                };
                outcome.note = Some(format!("{said}; could not read back: {why}"));
                outcome.status = Status::Unverified;
            }
            return;
        }
    };
    for outcome in outcomes.iter_mut().filter(|o| o.started()) {
        let now_in = current.get(&outcome.change.resource).map(|r| &*r.group_id);
        let in_target = now_in.is_some_and(|g| outcome.change.to.holds(g));
        match (outcome.status, in_target) {
            (Status::Moved, true) => {}
            (Status::Moved, false) => {
                let (status, code, message) = match now_in {
                    Some(group) if !outcome.change.from.holds(group) => (
                        Status::MovedElsewhere,
                        "MovedElsewhere",
                        format!(
                            "the call succeeded, but the resource is now in {group}: someone else moved it after our call"
                        ),
                    ),
                    Some(group) => (
                        Status::NotMovedDespiteSuccess,
                        "NotMovedDespiteSuccess",
                        format!("the call succeeded but the resource is still in {group}"),
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
            (_, true) => {
                let said = match (outcome.code.take(), outcome.message.take()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code,
                    _ => "no answer".into(),
                };
                outcome.note = Some(format!(
                    "the call failed ({said}), but the resource is in its target group"
                ));
                outcome.status = Status::Moved;
            }
            // Cut off in flight by a stop at once: the request may still
            // land after this read, so what it did stays unknown.
            (Status::Unverified, false) if interrupts.aborted() => {}
            (Status::Unverified, false) => {
                outcome.status = Status::Failed;
                outcome.code.get_or_insert_with(|| "Unknown".into());
            }
            (_, false) => {}
        }
        // A failed change whose resource is no longer where the plan found
        // it was moved (or deleted) by someone else: trying it again would
        // undo their change, which the stale guard exists to prevent.
        if outcome.status == Status::Failed && !now_in.is_some_and(|g| outcome.change.from.holds(g))
        {
            outcome.transient = false;
            outcome.note = Some(match now_in {
                Some(group) => format!(
                    "not tried again: the resource is now in {group}, moved by someone else"
                ),
                None => "not tried again: the resource is no longer found".into(),
            });
        }
    }
}

/// Applies a plan, whatever happens: the pass over every change, the
/// read-back of every started one, one more pass over those that failed
/// for transient reasons (throttling, 5xx, dropped connections) and their
/// read-back. Every exit path (done, interrupted, stopped at once, read-back
/// failed, endpoint down) ends here with a complete report.
pub async fn run(
    client: &Client,
    plan: &Plan,
    options: &ApplyOptions,
    interrupts: &Interrupts,
) -> Report {
    let started_at = Utc::now();
    let stop = Stop::new(options.max_errors);
    let mut changes = plan.changes.clone();
    let rest = match options.canary {
        Some(size) if size < changes.len() => changes.split_off(size),
        _ => Vec::new(),
    };
    let mut outcomes = execute(client, changes, options, interrupts, &stop).await;
    read_back(client, &mut outcomes, interrupts).await;
    if !rest.is_empty() {
        // The canary went first: the rest go only if it all landed, and
        // otherwise come out `not_started` through the same halt.
        if let Some(bad) = outcomes.iter().find(|o| o.status != Status::Moved) {
            stop.set(Halt::Canary {
                size: outcomes.len(),
                why: format!("{} is {}", bad.change.resource, status_name(bad.status)),
            });
        }
        let mut more = execute(client, rest, options, interrupts, &stop).await;
        read_back(client, &mut more, interrupts).await;
        outcomes.append(&mut more);
    }
    let retry: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.transient && matches!(o.status, Status::Failed | Status::NotStarted))
        .map(|(n, _)| n)
        .collect();
    if !retry.is_empty() && !interrupts.stopped() {
        tracing::info!(changes = retry.len(), "second pass over transient failures");
        let changes = retry.iter().map(|n| outcomes[*n].change.clone()).collect();
        let mut again = execute(client, changes, options, interrupts, &stop).await;
        read_back(client, &mut again, interrupts).await;
        for mut second in again {
            let Some(n) = retry
                .iter()
                .copied()
                .find(|n| outcomes[*n].change.resource == second.change.resource)
            else {
                continue;
            };
            let first = &outcomes[n];
            // A second pass that never started keeps the first's account.
            if second.status == Status::NotStarted && first.started() {
                continue;
            }
            second.tries += first.tries;
            second
                .request_ids
                .splice(0..0, first.request_ids.iter().cloned());
            second.elapsed_ms += first.elapsed_ms;
            outcomes[n] = second;
        }
    }
    outcomes.sort_by(|a, b| a.change.resource.cmp(&b.change.resource));
    let mut report = Report {
        format_version: 1,
        manifest_sha256: plan.manifest.sha256.clone(),
        started_at,
        finished_at: Utc::now(),
        interrupted: interrupts.stopped(),
        stopped: stop.get().map(|halt| halt.reason()),
        moved: 0,
        failed: 0,
        not_started: 0,
        unverified: 0,
        calls: client.stats(),
        outcomes,
    };
    report.count();
    report
}

pub mod undo;

#[cfg(test)]
mod tests;
