//! The rails that stop new joins while changes are left: a RAM denial,
//! `--max-errors`, a `--canary` that did not land.

use std::sync::atomic::{AtomicUsize, Ordering};

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
/// failed joins that `--max-errors` is checked against.
pub(super) struct Stop {
    halt: std::sync::Mutex<Option<Halt>>,
    failures: AtomicUsize,
    max_errors: Option<usize>,
}

impl Stop {
    pub(super) fn new(max_errors: Option<usize>) -> Stop {
        Stop {
            halt: std::sync::Mutex::new(None),
            failures: AtomicUsize::new(0),
            max_errors,
        }
    }

    pub(super) fn get(&self) -> Option<Halt> {
        self.halt
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
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
