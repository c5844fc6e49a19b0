//! What `regroup apply` asks for, resolved from the command line: the
//! options of one apply, with no parser types, and how it ended.

use std::path::PathBuf;

use super::run::ApplyOptions;
use crate::cloud::connect::ConnectOptions;
use crate::manifest::MaxChanges;
use crate::planning::accounts::Fanout;

/// The manifest a run reads, and whether it was named (`-f`, `--file`,
/// `REGROUP_FILE`) or left to its default: a named manifest that is
/// missing is an error, never a reason to skip a saved plan's check.
#[derive(Debug, Clone)]
pub struct ManifestChoice {
    pub path: PathBuf,
    pub named: bool,
}

/// The rails of an apply, shared by `apply` and `reconcile`.
#[derive(Debug, Clone)]
pub struct Rails {
    /// Plan without explicit resources that do not exist.
    pub ignore_missing: bool,
    /// `--max-changes`, which wins over the manifest's `max_changes`.
    pub max_changes: Option<MaxChanges>,
    /// Make the moves an auto-grouping rule would undo.
    pub override_rules: bool,
    /// How the joins run.
    pub run: ApplyOptions,
}

/// One `regroup apply`.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    pub connect: ConnectOptions,
    pub manifest: ManifestChoice,
    /// `--region`: the regions the run may touch (empty for all).
    pub regions: Vec<String>,
    /// A saved plan to apply instead of planning.
    pub planfile: Option<PathBuf>,
    pub auto_approve: bool,
    pub strict: bool,
    /// Where to write the report.
    pub report: Option<PathBuf>,
    /// Where to write the undo plan.
    pub undo_plan: Option<PathBuf>,
    pub rails: Rails,
    /// Whether the plan shown may use colour.
    pub color: bool,
    /// `--account` and `--shard`, for a manifest with `accounts:`.
    pub fanout: Fanout,
}

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Everything planned was done and verified (or there was nothing to
    /// do).
    Success,
    /// A change failed or was left undone, or the person did not approve.
    Failure,
    /// Ctrl-C, SIGTERM or SIGHUP stopped it.
    Interrupted,
}

/// An apply's end, with the records (report, undo plan) that could not be
/// written: moves were made, so these are said after the summary, and turn
/// a success into a failure.
pub struct Applied {
    pub ended: Ended,
    pub unwritten: Vec<anyhow::Error>,
}

impl Applied {
    pub(super) fn just(ended: Ended) -> Applied {
        Applied {
            ended,
            unwritten: Vec::new(),
        }
    }
}
