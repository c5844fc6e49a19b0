//! `regroup reconcile`: the loop ([`run`]) with its stop on a signal
//! ([`signals`]) and its per-run record ([`report`]), each account's part
//! of a run ([`accounts`]); when the next run
//! starts ([`pace`]), what the loop exposes to Prometheus ([`metrics`],
//! served by [`server`]), and the count of API calls by action and answer
//! that the client's call log feeds ([`calls`]).

mod accounts;
pub mod calls;
pub mod metrics;
pub mod pace;
mod report;
mod run;
pub mod server;
mod signals;

pub use run::{reconcile, Mode, ReconcileOptions};
