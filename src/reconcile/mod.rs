//! `regroup reconcile`'s parts that are not the command itself: when the
//! next run starts ([`pace`]), what the loop exposes to Prometheus
//! ([`metrics`], served by [`server`]), and the count of API calls by
//! action and answer that the client's call log feeds ([`calls`]).

pub mod calls;
pub mod metrics;
pub mod pace;
pub mod server;
