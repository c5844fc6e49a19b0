//! What `regroup reconcile` tells Prometheus, kept in a `prometheus-client`
//! registry and encoded in its text format (OpenMetrics, which Prometheus
//! scrapes). Counters carry `_total`, added by the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::accounts::AccountRun;
use crate::plan::Plan;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabels {
    group: String,
    account: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AccountLabels {
    account: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MoveLabels {
    status: String,
    account: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    action: String,
    code: String,
}

/// How a reconcile run (or one account's part of it) ended, the `result`
/// label of `regroup_reconcile_runs_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunResult {
    /// Planned, and in `correct` mode every move landed.
    Success,
    /// No plan could be made, the plan was refused by a rail, or a move
    /// failed.
    Failure,
}

impl RunResult {
    pub fn label(self) -> &'static str {
        match self {
            RunResult::Success => "success",
            RunResult::Failure => "failure",
        }
    }
}

/// The loop's metrics, shared by the loop, the call counter and the server.
/// The series labelled `account` are those of the accounts the last run
/// that listed them planned: a member that leaves the directory (or the
/// manifest's selection) loses its series, so they are bounded by the
/// members the manifest selects.
pub struct Metrics {
    registry: Registry,
    drifted: Family<GroupLabels, Gauge>,
    runs: Family<ResultLabels, Counter>,
    last_success: Family<AccountLabels, Gauge<f64, AtomicU64>>,
    account_failed: Family<AccountLabels, Gauge>,
    moves: Family<MoveLabels, Counter>,
    calls: Family<CallLabels, Counter>,
    throttled: Counter,
    duration: Histogram,
    /// The accounts that have series now.
    labelled: Mutex<BTreeSet<String>>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let drifted = Family::<GroupLabels, Gauge>::default();
        let runs = Family::<ResultLabels, Counter>::default();
        let last_success = Family::<AccountLabels, Gauge<f64, AtomicU64>>::default();
        let account_failed = Family::<AccountLabels, Gauge>::default();
        let moves = Family::<MoveLabels, Counter>::default();
        let calls = Family::<CallLabels, Counter>::default();
        let throttled = Counter::default();
        // 0.25 s to about 17 minutes: a plan of a few resources to a slow
        // apply of many.
        let duration = Histogram::new(exponential_buckets(0.25, 2.0, 13));
        let mut registry = Registry::default();
        registry.register(
            "regroup_drifted_resources",
            "Resources the last plan found outside the group the manifest puts them in, by that group and account",
            drifted.clone(),
        );
        registry.register(
            "regroup_reconcile_runs",
            "Reconcile runs, by result",
            runs.clone(),
        );
        registry.register(
            "regroup_last_reconcile_success_timestamp_seconds",
            "Unix time at which the last reconcile run that succeeded in the account ended",
            last_success.clone(),
        );
        registry.register(
            "regroup_reconcile_account_failed",
            "1 when the account's part of the last reconcile run failed, 0 when it succeeded",
            account_failed.clone(),
        );
        registry.register(
            "regroup_moves",
            "Changes applied by reconcile runs, by outcome (moved, failed, not_started, unverified) and account",
            moves.clone(),
        );
        registry.register(
            "regroup_api_calls",
            "API requests sent, retries included, by action and answer code (OK for a success)",
            calls.clone(),
        );
        registry.register(
            "regroup_throttled",
            "API answers that said the caller was throttled",
            throttled.clone(),
        );
        registry.register(
            "regroup_reconcile_duration_seconds",
            "How long reconcile runs took",
            duration.clone(),
        );
        Metrics {
            registry,
            drifted,
            runs,
            last_success,
            account_failed,
            moves,
            calls,
            throttled,
            duration,
            labelled: Mutex::default(),
        }
    }

    /// Sets the drift gauge from a plan: every group the plan touches, in
    /// each account it planned, has a series, 0 when nothing is to move
    /// into it, so that a corrected drift reads 0 rather than disappearing.
    /// What names no account (a plan of one) is `account`'s.
    pub fn set_drift(&self, plan: &Plan, account: &str) {
        let account_of = |id: &Option<std::sync::Arc<String>>| -> String {
            id.as_deref().map_or(account, String::as_str).to_owned()
        };
        let mut per_group: BTreeMap<(String, &str), i64> = plan
            .groups
            .iter()
            .map(|summary| ((account_of(&summary.account_id), &*summary.group.name), 0))
            .collect();
        for change in &plan.changes {
            *per_group
                .entry((account_of(&change.account_id), &change.to.name))
                .or_default() += 1;
        }
        self.drifted.clear();
        for ((account, group), count) in per_group {
            let labels = GroupLabels {
                group: group.to_owned(),
                account,
            };
            self.drifted.get_or_create(&labels).set(count);
        }
    }

    pub fn record_run(&self, result: RunResult, took: Duration) {
        let labels = ResultLabels {
            result: result.label().to_owned(),
        };
        self.runs.get_or_create(&labels).inc();
        self.duration.observe(took.as_secs_f64());
    }

    /// Records each account's part of a run: whether it failed, when it
    /// last succeeded, its moves by outcome. The accounts of an earlier run
    /// that this one did not plan lose their series.
    pub(super) fn record_accounts(&self, runs: &[AccountRun]) {
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        let current: BTreeSet<String> = runs.iter().map(|r| r.account_id.clone()).collect();
        let mut labelled = self
            .labelled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for gone in labelled.difference(&current) {
            let account = AccountLabels {
                account: gone.clone(),
            };
            self.last_success.remove(&account);
            self.account_failed.remove(&account);
            for (status, _) in super::accounts::Moves::default().by_status() {
                self.moves.remove(&MoveLabels {
                    status: status.to_owned(),
                    account: gone.clone(),
                });
            }
        }
        for run in runs {
            let account = AccountLabels {
                account: run.account_id.clone(),
            };
            self.account_failed
                .get_or_create(&account)
                .set(i64::from(!run.succeeded()));
            if run.succeeded() {
                self.last_success.get_or_create(&account).set(now);
            }
            for (status, count) in run.moves.unwrap_or_default().by_status() {
                let labels = MoveLabels {
                    status: status.to_owned(),
                    account: run.account_id.clone(),
                };
                self.moves.get_or_create(&labels).inc_by(count as u64);
            }
        }
        *labelled = current;
    }

    /// A run over accounts that failed before it reached any member (the
    /// directory could not be listed, the caller's keys were refused):
    /// every account of the last run reads failed, keeping its series, so
    /// that `regroup_reconcile_account_failed` does not go on saying 0 for
    /// accounts this run never reconciled.
    pub(super) fn record_no_account_reached(&self) {
        let labelled = self
            .labelled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for account in labelled.iter() {
            let labels = AccountLabels {
                account: account.clone(),
            };
            self.account_failed.get_or_create(&labels).set(1);
        }
    }

    pub fn record_call(&self, action: &str, code: &str) {
        let labels = CallLabels {
            action: action.to_owned(),
            code: code.to_owned(),
        };
        self.calls.get_or_create(&labels).inc();
    }

    pub fn record_throttled(&self, answers: u64) {
        self.throttled.inc_by(answers);
    }

    /// The metrics in the text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::accounts::Moves;

    fn run(account: &str, result: RunResult, moved: usize) -> AccountRun {
        AccountRun {
            account_id: account.to_owned(),
            name: None,
            result,
            error: None,
            drifted: moved,
            moves: Some(Moves {
                moved,
                ..Moves::default()
            }),
        }
    }

    /// The lines of the encoded metrics that name `account`.
    fn lines_of(metrics: &Metrics, account: &str) -> Vec<String> {
        let label = format!("account=\"{account}\"");
        metrics
            .encode()
            .lines()
            .filter(|line| line.contains(&label))
            .map(str::to_owned)
            .collect()
    }

    /// 1001's `moved` counter reads `count`.
    fn assert_moved(metrics: &Metrics, count: u64) {
        let line = format!("regroup_moves_total{{status=\"moved\",account=\"1001\"}} {count}");
        let lines = lines_of(metrics, "1001");
        assert!(lines.contains(&line), "{line} in {lines:?}");
    }

    #[test]
    fn each_account_has_its_series_until_a_run_no_longer_plans_it() {
        let metrics = Metrics::new();
        metrics.record_accounts(&[
            run("1001", RunResult::Success, 2),
            run("1002", RunResult::Failure, 0),
        ]);
        let failing = lines_of(&metrics, "1002");
        assert!(
            failing.contains(&"regroup_reconcile_account_failed{account=\"1002\"} 1".to_owned())
                && !failing
                    .iter()
                    .any(|l| l.starts_with("regroup_last_reconcile_success")),
            "1002 failed and never succeeded: {failing:?}"
        );
        assert_moved(&metrics, 2);
        // 1002 left the directory: its series go, 1001's count on.
        metrics.record_accounts(&[run("1001", RunResult::Success, 1)]);
        assert_eq!(
            lines_of(&metrics, "1002"),
            Vec::<String>::new(),
            "1002 is gone"
        );
        assert_moved(&metrics, 3);
    }

    #[test]
    fn a_run_that_reaches_no_account_marks_each_known_account_failed() {
        let metrics = Metrics::new();
        metrics.record_accounts(&[
            run("1001", RunResult::Success, 2),
            run("1002", RunResult::Success, 0),
        ]);
        metrics.record_no_account_reached();
        for account in ["1001", "1002"] {
            let lines = lines_of(&metrics, account);
            let failed = format!("regroup_reconcile_account_failed{{account=\"{account}\"}} 1");
            assert!(
                lines.contains(&failed)
                    && lines
                        .iter()
                        .any(|l| l.starts_with("regroup_last_reconcile_success")),
                "{account} reads failed and keeps when it last succeeded: {lines:?}"
            );
        }
        assert_moved(&metrics, 2);
    }
}
