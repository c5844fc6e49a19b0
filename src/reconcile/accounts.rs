//! Each account's part of one reconcile run, as the run's report lists it
//! and the per-account metrics show it. A run over the members of a
//! Resource Directory is one run, but its accounts succeed and fail apart,
//! as Flux's Kustomizations do: a member whose role is gone fails while
//! the others converge, and each says so under its own id. A run of one
//! account has one entry, the caller's account, whose result is the run's.

use serde::Serialize;

use super::metrics::RunResult;
use super::run::Mode;
use crate::apply::{Report, Status};
use crate::cloud::client::redact;
use crate::plan::{AccountStatus, Change};

/// The longest error kept for an account: a member's error is one line,
/// but a server's message can be long, and a report lists every member.
const ERROR_CHARS: usize = 500;

/// How one account's part of a run went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct AccountRun {
    pub account_id: String,
    /// Its name in the directory (a run over members).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub result: RunResult,
    /// Why it failed before its apply: it could not be planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Resources its plan found outside their groups.
    pub drifted: usize,
    /// `correct` mode, when an apply ran: its changes by outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moves: Option<Moves>,
}

/// An account's changes by outcome, counted as the apply report counts
/// them (`failed` holds every way a sent join did not land).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(super) struct Moves {
    pub moved: usize,
    pub failed: usize,
    pub not_started: usize,
    pub unverified: usize,
}

impl Moves {
    /// The outcomes of `applied` that `mine` accepts, counted.
    fn of<'a>(applied: &'a Report, mine: impl Fn(&'a Change) -> bool) -> Moves {
        let mut moves = Moves::default();
        for outcome in applied.outcomes.iter().filter(|o| mine(&o.change)) {
            match outcome.status {
                Status::Moved => moves.moved += 1,
                Status::NotStarted => moves.not_started += 1,
                Status::Unverified => moves.unverified += 1,
                _ if outcome.failed() => moves.failed += 1,
                _ => {}
            }
        }
        moves
    }

    /// The counts with the status each is reported as.
    pub fn by_status(self) -> [(&'static str, usize); 4] {
        [
            ("moved", self.moved),
            ("failed", self.failed),
            ("not_started", self.not_started),
            ("unverified", self.unverified),
        ]
    }
}

impl AccountRun {
    pub fn succeeded(&self) -> bool {
        self.result == RunResult::Success
    }
}

/// The one account of a run without `accounts:`: the caller's, with the
/// run's result, its error and its drift.
pub(super) fn caller(
    account_id: &str,
    result: RunResult,
    error: Option<&str>,
    drift: &[Change],
    applied: Option<&Report>,
) -> AccountRun {
    AccountRun {
        account_id: account_id.to_owned(),
        name: None,
        result,
        error: error.map(reported),
        drifted: drift.len(),
        moves: applied.map(|report| Moves::of(report, |_| true)),
    }
}

/// Each member a run over accounts planned (or failed to), in the plan's
/// order. A member succeeds when it was planned and, in `correct` mode,
/// every change of its drift was moved: one refused by a rail
/// (`--max-changes`), left for an auto-grouping rule, or not started
/// counts against it, as it does against `regroup apply`.
pub(super) fn members(
    accounts: &[AccountStatus],
    drift: &[Change],
    applied: Option<&Report>,
    mode: Mode,
) -> Vec<AccountRun> {
    accounts
        .iter()
        .map(|account| {
            let mine = |change: &Change| {
                change.account_id.as_deref().map(String::as_str) == Some(&**account.account_id)
            };
            let drifted = drift.iter().filter(|c| mine(c)).count();
            let moves = applied.map(|report| Moves::of(report, mine));
            let converged = match mode {
                Mode::Detect => true,
                Mode::Correct => moves.map_or(0, |m| m.moved) == drifted,
            };
            AccountRun {
                account_id: account.account_id.to_string(),
                name: Some(account.name.clone()),
                result: if account.error.is_none() && converged {
                    RunResult::Success
                } else {
                    RunResult::Failure
                },
                error: account.error.as_deref().map(reported),
                drifted,
                moves,
            }
        })
        .collect()
}

/// An account's error as the run's report keeps it: redacted,
/// as the run's own error is (a member's error holds its API error's
/// text), and cut to a bound.
fn reported(text: &str) -> String {
    bounded(&redact(text))
}

/// `text` cut to [`ERROR_CHARS`] characters, marked when cut.
fn bounded(text: &str) -> String {
    match text.char_indices().nth(ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::plan::sample_change;

    fn status(id: &str, error: Option<&str>) -> AccountStatus {
        AccountStatus {
            account_id: Arc::new(id.to_owned()),
            name: format!("member-{id}"),
            role: None,
            error: error.map(str::to_owned),
        }
    }

    /// A move of instance `id` in `account`.
    fn change(account: &str, id: &str) -> Change {
        sample_change(id, Some(account))
    }

    #[test]
    fn a_member_that_was_not_planned_fails_and_the_others_stand_alone() {
        let accounts = [status("1", None), status("2", Some("cannot assume role"))];
        let drift = [change("1", "i-a"), change("1", "i-b")];
        let runs = members(&accounts, &drift, None, Mode::Detect);
        assert_eq!(
            runs.iter()
                .map(|r| (
                    r.account_id.as_str(),
                    r.result,
                    r.drifted,
                    r.error.as_deref()
                ))
                .collect::<Vec<_>>(),
            [
                ("1", RunResult::Success, 2, None),
                ("2", RunResult::Failure, 0, Some("cannot assume role"))
            ],
            "in detect mode a planned member succeeds with its own drift"
        );
        let runs = members(&accounts, &drift, None, Mode::Correct);
        assert_eq!(
            runs[0].result,
            RunResult::Failure,
            "in correct mode a drift that no apply moved is a failure"
        );
    }

    #[test]
    fn a_members_error_is_reported_redacted() {
        let accounts = [status(
            "2",
            Some("cannot assume role R: SecurityToken=never-registered-token&RoleArn=x"),
        )];
        let runs = members(&accounts, &[], None, Mode::Detect);
        assert_eq!(
            runs[0].error.as_deref(),
            Some("cannot assume role R: SecurityToken=***&RoleArn=x"),
            "redacted as the run's error is"
        );
    }

    #[test]
    fn errors_are_cut_to_a_bound() {
        let long = "é".repeat(ERROR_CHARS * 3);
        let cut = bounded(&long);
        assert_eq!(cut.chars().count(), ERROR_CHARS + 1, "cut, with its mark");
        assert!(cut.ends_with('…'), "{cut}");
        assert_eq!(bounded("short"), "short", "a short error is kept whole");
    }
}
