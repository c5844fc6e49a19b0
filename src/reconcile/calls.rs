//! Feeds `regroup_api_calls_total{action,code}` from the client's own log:
//! the client logs every request it sends as a `call` event (at debug
//! level, with its `action` and `outcome`), and this layer of the logging
//! subscriber counts those events into the metrics of a running
//! `reconcile`. Until one starts counting, the layer does nothing.

use std::sync::{Arc, OnceLock};

use tracing::field::{Field, Visit};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Filter, Layer};

use super::metrics::Metrics;

/// Where counted calls go: set once, by the one `reconcile` of a process.
static SINK: OnceLock<Arc<Metrics>> = OnceLock::new();

/// From now on, every call the client logs is counted into `metrics`.
pub fn count_into(metrics: Arc<Metrics>) {
    let _ = SINK.set(metrics);
}

/// The layer, with the filter that lets the client's call events reach it
/// whatever `-v` says.
pub fn layer<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    CallCounter.with_filter(client_events())
}

fn client_events<S>() -> impl Filter<S> {
    Targets::new().with_target("regroup::cloud", tracing::Level::DEBUG)
}

struct CallCounter;

impl<S: tracing::Subscriber> Layer<S> for CallCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let Some(metrics) = SINK.get() else {
            return;
        };
        let mut fields = CallFields::default();
        event.record(&mut fields);
        if fields.message != "call" {
            return;
        }
        if let (Some(action), Some(outcome)) = (fields.action, fields.outcome) {
            metrics.record_call(&action, code_of(&outcome));
        }
    }
}

/// The answer code in a call event's `outcome`: `ok`, `STATUS CODE` for an
/// API error (`400 Throttling.User`), or the client's own code for a
/// failure to get an answer.
fn code_of(outcome: &str) -> &str {
    if outcome == "ok" {
        return "OK";
    }
    match outcome.split_once(' ') {
        Some((status, code)) if status.chars().all(|c| c.is_ascii_digit()) => code,
        _ => outcome,
    }
}

#[derive(Default)]
struct CallFields {
    message: String,
    action: Option<String>,
    outcome: Option<String>,
}

impl Visit for CallFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record(field, format!("{value:?}"));
    }
}

impl CallFields {
    fn record(&mut self, field: &Field, value: String) {
        match field.name() {
            "message" => self.message = value,
            "action" => self.action = Some(value),
            "outcome" => self.outcome = Some(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_come_out_of_outcomes() {
        assert_eq!(code_of("ok"), "OK");
        assert_eq!(code_of("400 Throttling.User"), "Throttling.User");
        assert_eq!(code_of("Transport"), "Transport");
    }
}
