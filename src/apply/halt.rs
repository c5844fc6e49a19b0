//! The rails that stop new joins while changes are left: a RAM denial,
//! `--max-errors`, a `--canary` that did not land.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Why a run stopped starting joins while changes were left: once set, no
/// new call starts, and every change still waiting is `not_started` with
/// [`Halt::not_started`] as its message.
#[derive(Debug, Clone)]
pub(super) enum Halt {
    /// RAM refused a join: the rest would be refused the same way.
    Denied(String),
    /// `--max-errors` joins failed.
    MaxErrors(usize),
    /// A change of the canary did not land.
    Canary { size: usize, why: String },
}

impl Halt {
    pub(super) fn not_started(&self) -> String {
        match self {
            Halt::Denied(reason) => format!("not started after a RAM denial: {reason}"),
            other => format!("not started: {}", other.reason()),
        }
    }

    /// For the report's `stopped` and the summary's "because …".
    pub(super) fn reason(&self) -> String {
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
/// failed joins that `--max-errors` is checked against (shared by the
/// accounts of a run over several, [`Stop::sharing_failures`]).
pub(super) struct Stop {
    halt: std::sync::Mutex<Option<Halt>>,
    failures: Arc<AtomicUsize>,
    max_errors: Option<usize>,
}

impl Stop {
    pub(super) fn new(max_errors: Option<usize>) -> Stop {
        Stop {
            halt: std::sync::Mutex::new(None),
            failures: Arc::new(AtomicUsize::new(0)),
            max_errors,
        }
    }

    /// Another account's stop: its own halt (a RAM denial or a canary in
    /// one account says nothing of another), the failures counted with
    /// this one's, so that `--max-errors` counts across accounts.
    pub(super) fn sharing_failures(&self) -> Stop {
        Stop {
            halt: std::sync::Mutex::new(None),
            failures: self.failures.clone(),
            max_errors: self.max_errors,
        }
    }

    pub(super) fn get(&self) -> Option<Halt> {
        let halt = self
            .halt
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        // Another account's failures may have reached the limit.
        halt.or_else(|| {
            let failures = self.failures.load(Ordering::SeqCst);
            self.max_errors
                .filter(|limit| failures >= *limit)
                .map(Halt::MaxErrors)
        })
    }

    /// Sets the halt, unless one is set already: the first reason stands.
    pub(super) fn set(&self, halt: Halt) {
        self.halt
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert(halt);
    }

    /// Counts a failed join, and halts when the failures reach the limit.
    pub(super) fn failed(&self) {
        let failures = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(limit) = self.max_errors.filter(|limit| failures >= *limit) {
            self.set(Halt::MaxErrors(limit));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_share_the_failure_count_but_not_their_halts() {
        let first = Stop::new(Some(3));
        let second = first.sharing_failures();
        second.set(Halt::Denied("RAM said no".into()));
        assert!(
            first.get().is_none(),
            "a denial in one account leaves the other going"
        );
        first.failed();
        first.failed();
        assert!(
            first.get().is_none(),
            "two failures are under --max-errors 3"
        );
        second.failed();
        assert!(
            matches!(first.get(), Some(Halt::MaxErrors(3))),
            "the third, in the other account, stops this one too"
        );
        let third = first.sharing_failures();
        assert!(
            matches!(third.get(), Some(Halt::MaxErrors(3))),
            "and any account started after"
        );
    }
}
