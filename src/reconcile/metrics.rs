//! What `regroup reconcile` tells Prometheus, kept in a `prometheus-client`
//! registry and encoded in its text format (OpenMetrics, which Prometheus
//! scrapes). Counters carry `_total`, added by the crate.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::apply::Report;
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
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    action: String,
    code: String,
}

/// How a reconcile run ended, the `result` label of
/// `regroup_reconcile_runs_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
pub struct Metrics {
    registry: Registry,
    drifted: Family<GroupLabels, Gauge>,
    runs: Family<ResultLabels, Counter>,
    last_success: Gauge<f64, AtomicU64>,
    moves: Family<StatusLabels, Counter>,
    calls: Family<CallLabels, Counter>,
    throttled: Counter,
    duration: Histogram,
}

impl Metrics {
    pub fn new() -> Metrics {
        let drifted = Family::<GroupLabels, Gauge>::default();
        let runs = Family::<ResultLabels, Counter>::default();
        let last_success = Gauge::<f64, AtomicU64>::default();
        let moves = Family::<StatusLabels, Counter>::default();
        let calls = Family::<CallLabels, Counter>::default();
        let throttled = Counter::default();
        // 0.25 s to about 17 minutes: a plan of a few resources to a slow
        // apply of many.
        let duration = Histogram::new(exponential_buckets(0.25, 2.0, 13));
        let mut registry = Registry::default();
        registry.register(
            "regroup_drifted_resources",
            "Resources the last plan found outside the group the manifest puts them in, by that group",
            drifted.clone(),
        );
        registry.register(
            "regroup_reconcile_runs",
            "Reconcile runs, by result",
            runs.clone(),
        );
        registry.register(
            "regroup_last_reconcile_success_timestamp_seconds",
            "Unix time at which the last successful reconcile run ended",
            last_success.clone(),
        );
        registry.register(
            "regroup_moves",
            "Changes applied by reconcile runs, by outcome (moved, failed, not_started, unverified)",
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
            moves,
            calls,
            throttled,
            duration,
        }
    }

    /// Sets the drift gauge from a plan: every group the plan touches has a
    /// series, 0 when nothing is to move into it, so that a corrected drift
    /// reads 0 rather than disappearing.
    pub fn set_drift(&self, plan: &Plan, account: &str) {
        let mut per_group: BTreeMap<&str, i64> = plan
            .groups
            .iter()
            .map(|summary| (&*summary.group.name, 0))
            .collect();
        for change in &plan.changes {
            *per_group.entry(&change.to.name).or_default() += 1;
        }
        self.drifted.clear();
        for (group, count) in per_group {
            let labels = GroupLabels {
                group: group.to_owned(),
                account: account.to_owned(),
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
        if result == RunResult::Success {
            let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
            self.last_success.set(now);
        }
    }

    pub fn record_moves(&self, report: &Report) {
        for (status, count) in [
            ("moved", report.moved),
            ("failed", report.failed),
            ("not_started", report.not_started),
            ("unverified", report.unverified),
        ] {
            let labels = StatusLabels {
                status: status.to_owned(),
            };
            self.moves.get_or_create(&labels).inc_by(count as u64);
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
