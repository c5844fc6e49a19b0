//! A whole run over a plan: the canary, the rest, and a second pass over
//! transient failures, each pass executed while what landed is read back,
//! ending in a complete [`Report`] on every path.

use std::collections::BTreeSet;

use chrono::Utc;
use tokio::sync::mpsc;

use super::execute::execute;
use super::halt::{Halt, Stop};
use super::interrupts::{Interrupts, READ_BACK_ON_STOP};
use super::progress::ProgressStyle;
use super::read_back::read_back;
use super::report::{status_name, Outcome, Report, Status};
use super::verify::verify_as_landed;
use crate::cloud::client::Client;
use crate::plan::{Change, Plan};

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
    run_under(
        client,
        plan,
        options,
        interrupts,
        &Stop::new(options.max_errors),
    )
    .await
}

/// [`run`] under `stop`, which an account's run shares with the others'
/// of a run over several.
pub(super) async fn run_under(
    client: &Client,
    plan: &Plan,
    options: &ApplyOptions,
    interrupts: &Interrupts,
    stop: &Stop,
) -> Report {
    let started_at = Utc::now();
    let mut changes = plan.changes.clone();
    let rest = match options.canary {
        Some(size) if size < changes.len() => changes.split_off(size),
        _ => Vec::new(),
    };
    let mut outcomes = pass(client, changes, options, interrupts, stop).await;
    if !rest.is_empty() {
        // The canary went first: the rest go only if it all landed, and
        // otherwise come out `not_started` through the same halt.
        if let Some(bad) = outcomes.iter().find(|o| o.status != Status::Moved) {
            stop.set(Halt::Canary {
                size: outcomes.len(),
                why: format!("{} is {}", bad.change.resource, status_name(bad.status)),
            });
        }
        let mut more = pass(client, rest, options, interrupts, stop).await;
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
        let again = pass(client, changes, options, interrupts, stop).await;
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
    Report::finished(
        plan,
        started_at,
        interrupts.stopped(),
        stop.get().map(|halt| halt.reason()),
        client.stats(),
        outcomes,
    )
}

/// One pass: the joins of `changes`, those that landed read back in
/// batches while the rest run, then the read-back of every started one not
/// verified yet (each bounded in time when the run was stopped at once).
async fn pass(
    client: &Client,
    changes: Vec<Change>,
    options: &ApplyOptions,
    interrupts: &Interrupts,
    stop: &Stop,
) -> Vec<Outcome> {
    let (landed, arrivals) = mpsc::unbounded_channel();
    let mut verified = BTreeSet::new();
    let verifying = async {
        let stopped = async {
            interrupts.abortion().await;
            tokio::time::sleep(READ_BACK_ON_STOP).await;
        };
        tokio::select! {
            () = verify_as_landed(client, arrivals, &mut verified) => {}
            () = stopped => {}
        }
    };
    let (mut outcomes, ()) = tokio::join!(
        execute(client, changes, options, interrupts, stop, landed),
        verifying
    );
    read_back(client, &mut outcomes, &verified, interrupts).await;
    outcomes
}
