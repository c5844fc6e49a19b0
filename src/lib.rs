//! regroup keeps Alibaba Cloud ECS resources in the resource groups a YAML
//! manifest declares. Data flows one way:
//!
//! ```text
//! manifest ──► Manifest ──┐
//!                         ├──► plan ──► Plan ──► render (text | json | markdown)
//! cloud ────► Inventory ──┘                 └──► apply ──► JoinResourceGroup ──► Report
//! ```
//!
//! `manifest`, `plan`, `render` and `cloud::sign` do no I/O; `cloud`,
//! `inventory`, `apply` and `emulator` talk to the network.

pub mod api;
pub mod apply;
pub mod atomic_file;
pub mod cli;
pub mod cloud;
pub mod commands;
pub mod emulator;
pub mod inventory;
pub mod logging;
pub mod manifest;
pub mod plan;
pub mod render;
pub mod resource;
pub mod schedule;
