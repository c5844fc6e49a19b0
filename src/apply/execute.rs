//! One pass of calls: every ECS change's `JoinResourceGroup` and every
//! other service's change in `MoveResources` batches (`move_resources`), in
//! parallel under the limiter's gates, joins taking turns between regions,
//! each call's state kept so that a run stopped at once still knows what
//! it did.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use tokio::sync::mpsc::UnboundedSender;

use super::halt::{Halt, Stop};
use super::interrupts::Interrupts;
use super::move_resources;
use super::progress::Progress;
use super::report::{Outcome, Status};
use super::run::ApplyOptions;
use crate::cloud::client::{CallOutcome, Client};
use crate::cloud::concurrency::Gate;
use crate::cloud::{ecs, resourcemanager};
use crate::plan::Change;
use crate::schedule;

/// What one call does: join one ECS resource, or move a batch of other
/// services' resources into one group.
#[derive(Clone)]
enum Unit {
    Join(Change),
    Move(Vec<Change>),
}

impl Unit {
    fn into_changes(self) -> Vec<Change> {
        match self {
            Unit::Join(change) => vec![change],
            Unit::Move(batch) => batch,
        }
    }
}

/// Where each call stands while calls run, so that a run stopped at once
/// still knows what it did.
enum Slot {
    Waiting(Unit),
    /// Its task has started; the flag says whether a request has left (it
    /// may still be waiting for its rate-limit turn).
    InFlight(Unit, Arc<AtomicBool>),
    Done(Vec<Outcome>),
}

fn lock(slot: &std::sync::Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The outcome of one call for one of its changes.
pub(super) fn outcome_of<T>(change: Change, call: &CallOutcome<T>, started: Instant) -> Outcome {
    let mut outcome = Outcome::new(change, Status::Moved);
    outcome.tries = call.tries;
    outcome.request_ids.clone_from(&call.request_ids);
    outcome.elapsed_ms = started.elapsed().as_millis() as u64;
    if let Err(error) = &call.result {
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

/// After a RAM denial the rest would be refused the same way: no new call.
fn halt_on_denial<T>(call: &CallOutcome<T>, stop: &Stop) {
    if let Err(error) = &call.result {
        if let Some(api) = error.api_error().filter(|_| error.denial().is_some()) {
            stop.set(Halt::Denied(api.to_string()));
        }
    }
}

/// Makes one unit's call.
async fn call(client: &Client, unit: Unit, sent: &AtomicBool, stop: &Stop) -> Vec<Outcome> {
    let started = Instant::now();
    match unit {
        Unit::Join(change) => {
            let call =
                ecs::join_resource_group(client, &change.resource, &change.to.id, Some(sent)).await;
            halt_on_denial(&call, stop);
            vec![outcome_of(change, &call, started)]
        }
        Unit::Move(batch) => {
            let keys: Vec<&crate::resource::ResourceKey> =
                batch.iter().map(|c| &c.resource).collect();
            let group = batch.first().map(|c| c.to.id.clone()).unwrap_or_default();
            let call = resourcemanager::move_resources(client, &group, &keys, Some(sent)).await;
            halt_on_denial(&call, stop);
            move_resources::outcomes(batch, call, started)
        }
    }
}

/// Runs `changes`, at most `parallelism` calls at once, sending each change
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
    let (joins, moves): (Vec<Change>, Vec<Change>) =
        changes.into_iter().partition(|c| c.resource.rtype.is_ecs());
    // Each region has its own limit for joins: take turns between them.
    let order = schedule::round_robin(joins, |c| c.resource.region.clone());
    // As many calls in flight as their quotas and latency call for.
    let regions = order.iter().map(|c| c.resource.region.to_string());
    let join_gate = Gate::new(
        client.limiter(),
        "JoinResourceGroup",
        regions,
        options.parallelism,
    );
    if !moves.is_empty() {
        resourcemanager::pace_published(client, "MoveResources");
    }
    // Resource Manager is one endpoint for every region: one bucket.
    let move_gate = Gate::new(
        client.limiter(),
        "MoveResources",
        [String::new()],
        options.parallelism,
    );
    let slots: Vec<std::sync::Mutex<Slot>> = move_resources::batches(moves)
        .into_iter()
        .map(Unit::Move)
        .chain(order.into_iter().map(Unit::Join))
        .map(|unit| std::sync::Mutex::new(Slot::Waiting(unit)))
        .collect();
    let work = stream::iter(&slots).for_each_concurrent(options.parallelism.max(1), |slot| {
        let (progress, join_gate, move_gate, landed) = (&progress, &join_gate, &move_gate, &landed);
        async move {
            let gate = match &*lock(slot) {
                Slot::Waiting(Unit::Move(_)) => move_gate,
                _ => join_gate,
            };
            let _in_flight = gate.enter().await;
            // After a RAM denial the rest would be refused the same way;
            // after --max-errors failures, or a failed canary, the user
            // asked for no more.
            if interrupts.stopped() || stop.get().is_some() {
                return;
            }
            let (unit, sent) = {
                let mut slot = lock(slot);
                let Slot::Waiting(unit) = &*slot else {
                    return;
                };
                let unit = unit.clone();
                let sent = Arc::new(AtomicBool::new(false));
                *slot = Slot::InFlight(unit.clone(), sent.clone());
                (unit, sent)
            };
            let outcomes = call(client, unit, &sent, stop).await;
            for outcome in &outcomes {
                match outcome.status {
                    Status::Failed => stop.failed(),
                    // No one reading back only means no early verification.
                    Status::Moved => _ = landed.send(outcome.change.clone()),
                    _ => {}
                }
                progress.record(outcome.status == Status::Failed);
            }
            *lock(slot) = Slot::Done(outcomes);
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
        .flat_map(|slot| {
            match slot
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
            {
                Slot::Done(outcomes) => outcomes,
                Slot::Waiting(unit) => unit
                    .into_changes()
                    .into_iter()
                    .map(|change| {
                        let mut outcome = Outcome::new(change, Status::NotStarted);
                        outcome.message = Some(match stop.get() {
                            Some(halt) => halt.not_started(),
                            None => "the run was interrupted".into(),
                        });
                        outcome
                    })
                    .collect(),
                Slot::InFlight(unit, sent) if sent.load(Ordering::SeqCst) => unit
                    .into_changes()
                    .into_iter()
                    .map(|change| {
                        let mut outcome = Outcome::new(change, Status::Unverified);
                        outcome.tries = 1;
                        outcome.note =
                            Some("the call was in flight when the run was stopped".into());
                        outcome
                    })
                    .collect(),
                Slot::InFlight(unit, _) => unit
                    .into_changes()
                    .into_iter()
                    .map(|change| {
                        let mut outcome = Outcome::new(change, Status::NotStarted);
                        outcome.message =
                            Some("the run was stopped before this change's call was sent".into());
                        outcome
                    })
                    .collect(),
            }
        })
        .collect()
}
