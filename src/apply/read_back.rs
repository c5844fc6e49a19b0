//! Verification: every started change read back, its status settled from
//! where its resource is, not from what the call answered.

use std::collections::BTreeSet;

use super::interrupts::{Interrupts, READ_BACK_ON_STOP};
use super::report::{Outcome, Status};
use crate::cloud::client::Client;
use crate::inventory;
use crate::resource::ResourceKey;

/// Reads back every started change in `outcomes` and settles its status
/// from what it finds: a call that failed but whose resource is in its
/// target group moved (the error is kept as a note); a call that succeeded
/// but whose resource is elsewhere did not. When the read itself fails (or
/// a run stopped at once cannot finish it within [`READ_BACK_ON_STOP`]),
/// the changes it was to check are `unverified`. A change whose call
/// succeeded and whose resource is in `verified` (read back in its target
/// group during the run) is `moved` already and not read again.
pub(super) async fn read_back(
    client: &Client,
    outcomes: &mut [Outcome],
    verified: &BTreeSet<ResourceKey>,
    interrupts: &Interrupts,
) {
    let unsettled = |o: &Outcome| {
        o.started() && !(o.status == Status::Moved && verified.contains(&o.change.resource))
    };
    let keys: Vec<ResourceKey> = outcomes
        .iter()
        .filter(|o| unsettled(o))
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
            for outcome in outcomes.iter_mut().filter(|o| unsettled(o)) {
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
    for outcome in outcomes.iter_mut().filter(|o| unsettled(o)) {
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
