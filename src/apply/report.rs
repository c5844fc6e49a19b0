//! What became of every change of a run: its [`Status`], its [`Outcome`],
//! and the [`Report`] that `--report` writes and the summary is printed from.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::undo;
use crate::cloud::client::StatsSnapshot;
use crate::plan::{Change, Plan, ReportRef};

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
pub(super) fn status_name(status: Status) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{status:?}"))
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
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
    pub(super) transient: bool,
}

impl Outcome {
    pub(super) fn new(change: Change, status: Status) -> Outcome {
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
    pub(super) fn started(&self) -> bool {
        self.status != Status::NotStarted
    }
}

/// The record of a run, written by `--report` (and read back by `merge`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The report of a run of `plan` that started at `started_at` and
    /// ends now, its statuses counted.
    pub(super) fn finished(
        plan: &Plan,
        started_at: DateTime<Utc>,
        interrupted: bool,
        stopped: Option<String>,
        calls: StatsSnapshot,
        outcomes: Vec<Outcome>,
    ) -> Report {
        let mut report = Report {
            format_version: 1,
            manifest_sha256: plan.manifest.sha256.clone(),
            started_at,
            finished_at: Utc::now(),
            interrupted,
            stopped,
            moved: 0,
            failed: 0,
            not_started: 0,
            unverified: 0,
            calls,
            outcomes,
        };
        report.count();
        report
    }

    pub(super) fn count(&mut self) {
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
        // By account (in a run over several), then resource.
        self.outcomes.sort_by(|a, b| {
            (&a.change.account_id, &a.change.resource)
                .cmp(&(&b.change.account_id, &b.change.resource))
        });
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
