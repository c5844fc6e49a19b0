//! One pass of joins: every change's `JoinResourceGroup`, in parallel under
//! the limiter's gate, taking turns between regions, each change's state
//! kept so that a run stopped at once still knows what it did.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use tokio::sync::mpsc::UnboundedSender;

use super::halt::{Halt, Stop};
use super::interrupts::Interrupts;
use super::progress::Progress;
use super::report::{Outcome, Status};
use super::run::ApplyOptions;
use crate::cloud::client::{CallOutcome, Client};
use crate::cloud::concurrency::Gate;
use crate::cloud::ecs;
use crate::plan::Change;
use crate::schedule;

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

/// Runs `changes`, at most `parallelism` at once, sending each change
/// whose call succeeded to `landed` (to be read back while the rest run).
/// Once interrupted, no new call starts; calls in flight finish, unless the
/// run is stopped at once, which leaves them `unverified`.
pub(super) async fn execute(
    client: &Client,
    changes: Vec<Change>,
    options: &ApplyOptions,
    interrupts: &Interrupts,
    stop: &Stop,
    landed: UnboundedSender<Change>,
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
        let (progress, gate, landed) = (&progress, &gate, &landed);
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
            match outcome.status {
                Status::Failed => stop.failed(),
                // No one reading back only means no early verification.
                Status::Moved => _ = landed.send(outcome.change.clone()),
                _ => {}
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
