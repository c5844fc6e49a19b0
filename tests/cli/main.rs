//! Drives the real `regroup` binary against an in-process emulator on
//! 127.0.0.1:0, one module per topic. The shared builder is in
//! tests/support. All of it is one test binary: Cargo builds each file at
//! the top of tests/ as a binary of its own.

#[path = "../support/harness.rs"]
mod harness;
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/tools.rs"]
mod tools;

mod apply;
mod autogroup;
mod chain;
mod conformance;
mod conformance_wire;
mod credentials;
mod distribution;
mod docs;
mod emulator;
mod export;
mod hardening;
mod history;
mod newuser;
mod output;
mod permissions;
mod plan;
mod quotas;
mod rails;
mod reconcile;
mod schema;
mod signature;
mod types;
mod validate;
