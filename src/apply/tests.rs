//! Read-back after apply against the emulator: a resource still where it
//! was, one in a third group, and one where we put it.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{
    execute, per_second, read_back, ApplyOptions, Halt, Interrupts, Outcome, ProgressStyle, Status,
    Stop,
};
use crate::cloud::client::{Client, ClientConfig, Endpoints};
use crate::cloud::tests::test_key;
use crate::emulator::tests::fleet;
use crate::emulator::{Emulator, Settings};
use crate::manifest::Location;
use crate::plan::{Change, GroupRef};
use crate::resource::{ResourceKey, ResourceType};

fn group(id: &str) -> GroupRef {
    GroupRef::new(id, id.trim_start_matches("rg-"))
}

/// A change of `id`, a `rtype` in `region`, from `from` to `to`.
pub(super) fn change(rtype: ResourceType, region: &str, id: &str, from: &str, to: &str) -> Change {
    Change {
        resource: ResourceKey {
            rtype,
            region: region.into(),
            id: id.into(),
        },
        name: id.into(),
        account_id: None,
        from: group(from),
        to: group(to),
        source: Location {
            file: Arc::from("regroup.yaml"),
            line: 1,
            column: 1,
        },
        evict: false,
        conflict: None,
    }
}

/// An outcome the calls reported as moved, of `id` from `from` to `to`.
fn moved(id: &str, from: &str, to: &str) -> Outcome {
    let mut outcome = Outcome::new(
        change(ResourceType::Instance, "cn-hangzhou", id, from, to),
        Status::Moved,
    );
    outcome.tries = 1;
    outcome
}

/// An emulator with four instances (even ones in rg-default, odd ones in
/// rg-prod) and a client of it.
async fn four_instances() -> (Emulator, Client) {
    let emulator = Emulator::start(
        fleet(4),
        Settings::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let client = Client::new(
        ClientConfig {
            endpoints: Endpoints::override_with(&emulator.url()).unwrap(),
            ..ClientConfig::default()
        },
        test_key(),
    )
    .unwrap();
    (emulator, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_found_in_a_third_group_was_moved_by_someone_else() {
    let (_emulator, client) = four_instances().await;
    let mut outcomes = vec![
        // Still where it was: a phantom success.
        moved("i-0000", "rg-default", "rg-dev"),
        // In neither group: another run moved it after ours.
        moved("i-0002", "rg-prod", "rg-dev"),
        // Where we put it.
        moved("i-0001", "rg-default", "rg-prod"),
    ];
    read_back(
        &client,
        &mut outcomes,
        &BTreeSet::new(),
        &Interrupts::none(),
    )
    .await;
    let seen: Vec<(&str, &Status, Option<&str>)> = outcomes
        .iter()
        .map(|o| (&*o.change.resource.id, &o.status, o.code.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "i-0000",
                &Status::NotMovedDespiteSuccess,
                Some("NotMovedDespiteSuccess")
            ),
            ("i-0002", &Status::MovedElsewhere, Some("MovedElsewhere")),
            ("i-0001", &Status::Moved, None),
        ]
    );
    let elsewhere = outcomes[1].message.as_deref().unwrap_or_default();
    assert!(
        elsewhere.contains("now in rg-default: someone else moved it after our call"),
        "{elsewhere}"
    );
    assert_eq!(outcomes.iter().filter(|o| o.failed()).count(), 2);
    let json = serde_json::to_value(&outcomes[1]).unwrap();
    assert_eq!(json["status"], "moved_elsewhere");
}

#[test]
fn rates_are_rounded_for_people() {
    assert_eq!(per_second(40.1008), "40/s");
    assert_eq!(per_second(2.345), "2.3/s");
    assert_eq!(per_second(0.04), "0.0/s");
}

/// A change that failed for a transient reason is tried again in the second
/// pass, unless the read-back finds its resource moved by someone else:
/// trying again would undo their move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_change_moved_by_someone_else_is_not_tried_again() {
    let (_emulator, client) = four_instances().await;
    let failed = |id: &str, from: &str| {
        let mut outcome = moved(id, from, "rg-dev");
        outcome.status = Status::Failed;
        outcome.transient = true;
        outcome
    };
    let mut outcomes = vec![
        // Still where the plan found it: worth another try.
        failed("i-0000", "rg-default"),
        // In a third group now: someone else moved it.
        failed("i-0002", "rg-prod"),
    ];
    read_back(
        &client,
        &mut outcomes,
        &BTreeSet::new(),
        &Interrupts::none(),
    )
    .await;
    assert_eq!(outcomes[0].status, Status::Failed);
    assert!(outcomes[0].transient, "{:?}", outcomes[0].note);
    assert_eq!(outcomes[1].status, Status::Failed);
    assert!(!outcomes[1].transient);
    let note = outcomes[1].note.as_deref().unwrap_or_default();
    assert!(
        note.contains("now in rg-default, moved by someone else"),
        "{note}"
    );
}

#[test]
fn max_errors_halts_at_the_limit_and_the_first_reason_stands() {
    let stop = Stop::new(Some(2));
    stop.failed();
    assert!(stop.get().is_none());
    stop.failed();
    assert!(matches!(stop.get(), Some(Halt::MaxErrors(2))));
    stop.set(Halt::Denied("NoPermission".into()));
    let halt = stop.get().unwrap();
    assert_eq!(
        halt.not_started(),
        "not started: 2 join(s) failed, the most that --max-errors 2 allows"
    );
    let unlimited = Stop::new(None);
    (0..100).for_each(|_| unlimited.failed());
    assert!(unlimited.get().is_none());
}

/// A run stopped at once reports as `unverified` only the calls that were
/// sent; a change whose call still waited for its rate-limit turn was never
/// sent, and is `not_started`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_at_once_counts_only_sent_calls_as_unverified() {
    // Answers take 10 s, so the one call sent is still in flight at the stop.
    let settings = Settings {
        latency: std::time::Duration::from_secs(10),
        ..Settings::default()
    };
    let emulator = Emulator::start(fleet(4), settings, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    // One call every ten seconds: the other two wait for their turn.
    let client = Client::new(
        ClientConfig {
            endpoints: Endpoints::override_with(&emulator.url()).unwrap(),
            max_rate: Some(0.1),
            ..ClientConfig::default()
        },
        test_key(),
    )
    .unwrap();
    let changes = ["i-0000", "i-0002", "i-0004"]
        .map(|id| moved(id, "rg-default", "rg-dev").change)
        .to_vec();
    let interrupts = Interrupts::none();
    let stopper = interrupts.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        stopper
            .stop
            .store(true, std::sync::atomic::Ordering::SeqCst);
        stopper.abort.send_replace(true);
    });
    let options = ApplyOptions {
        parallelism: 3,
        progress: ProgressStyle::Lines,
        max_errors: None,
        canary: None,
    };
    let (landed, _) = tokio::sync::mpsc::unbounded_channel();
    let outcomes = execute(
        &client,
        changes,
        &options,
        &interrupts,
        &Stop::new(None),
        landed,
    )
    .await;
    let count = |status| outcomes.iter().filter(|o| o.status == status).count();
    assert_eq!(count(Status::Unverified), 1, "{outcomes:?}");
    assert_eq!(count(Status::NotStarted), 2, "{outcomes:?}");
}
