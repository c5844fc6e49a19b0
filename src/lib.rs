//! regroup keeps Alibaba Cloud ECS resources in the resource groups a YAML
//! manifest declares. Data flows one way:
//!
//! ```text
//! manifest ──► Manifest ──┐
//!                         ├──► plan ──► Plan ──► render (text | json | markdown)
//! cloud ────► Inventory ──┘                 └──► apply ──► JoinResourceGroup ──► Report
//! ```
//!
//! `resource`, `plan`, `render` and `api` do no I/O, and `manifest` only reads
//! its file; `cloud`, `inventory`, `planning`, `apply`, `reconcile`,
//! `history` and `emulator` talk to the network. `cli` and `commands` turn
//! the command line into plain option structs; nothing below them sees a
//! clap type.
//! `cloud` (the client) and `emulator` (the server) share the wire contract in
//! `api` and never use each other; a test (`layering`) reads the "Forbidden arrows"
//! table of `docs/architecture.md` and keeps these arrows pointing one way.
//!
//! The modules are private: the binary needs [`run`], the integration tests
//! and benchmarks the [`emulator`], and documentation examples the pure
//! [`api`] and [`Manifest`].

mod accounts;
pub mod api;
mod apply;
mod atomic_file;
mod bounded_read;
mod cli;
mod clock;
mod cloud;
mod commands;
pub mod emulator;
mod history;
mod inventory;
#[cfg(test)]
mod layering;
pub mod logging;
mod manifest;
mod matrix;
mod output;
mod plan;
mod planning;
mod reconcile;
mod render;
pub mod resource;
mod schedule;
#[cfg(test)]
mod sizes;

pub use cli::{command as cli_command, with_terraform_spellings, Cli, Command};
pub use commands::{exit_for_error, run, Exit, Overrides};
pub use manifest::{yaml_to_json, Manifest};
