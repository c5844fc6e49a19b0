//! Drives the real `regroup` binary against an in-process emulator on
//! 127.0.0.1:0, one module per feature, named as a newcomer would look for
//! it (`canary.rs` holds the tests of `--canary`). The shared builder is in
//! tests/support (`harness.rs`: `Setup`, `Running` and the assertion
//! helpers; `mod.rs`: the one resource builder and generated fleets;
//! `text.rs`: `indoc` for multi-line YAML). All of it is one test binary:
//! Cargo builds each file at the top of tests/ as a binary of its own.
//!
//! Where to look, by what a command does:
//! - reading the manifest: `validate`, `schema`, `regions`, `strict`,
//!   `bounded_inputs`;
//! - `plan` and its outputs: `plan`, `show`, `export`, `types`,
//!   `exclusive_groups`, `autogroup`;
//! - many accounts: `accounts`, `accounts_saved` (a saved plan whose check
//!   cannot read one member); on a CI engine: `matrix` (and the Argo
//!   example), `merge`;
//! - `apply`: `approval`, `saved_plans`, `blast_radius` (`--max-changes`,
//!   `--max-errors`), `canary`, `undo`, `faults`, `quotas`, `progress`,
//!   `interrupts`, `disrupted_runs`;
//! - files and streams: `output_files`, `closed_stdout`, `colour`;
//! - credentials and the network: `credentials`, `chain`, `signature`,
//!   `permissions`, `proxies`, `conformance`, `conformance_wire`;
//! - the command line: `usage`, `terraform_spellings`;
//! - the other commands: `history` (`history_services`: other services'
//!   resources), `reconcile` (and over accounts, `reconcile_accounts`),
//!   `emulator`;
//! - what ships: `docs` (every documented command runs), `distribution`.

#[path = "../support/harness.rs"]
mod harness;
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/text.rs"]
mod text;
#[path = "../support/tools.rs"]
mod tools;

mod accounts;
mod accounts_saved;
mod approval;
mod autogroup;
mod blast_radius;
mod bounded_inputs;
mod canary;
mod chain;
mod closed_stdout;
mod colour;
mod conformance;
mod conformance_wire;
mod credentials;
mod disrupted_runs;
mod distribution;
mod docs;
mod emulator;
mod exclusive_groups;
mod export;
mod faults;
mod history;
mod history_services;
mod interrupts;
mod matrix;
mod merge;
mod output_files;
mod permissions;
mod plan;
mod progress;
mod proxies;
mod quotas;
mod reconcile;
mod reconcile_accounts;
mod regions;
mod resource_directory;
mod saved_plans;
mod schema;
mod services;
mod show;
mod signature;
mod strict;
mod terraform_spellings;
mod types;
mod undo;
mod usage;
mod validate;
