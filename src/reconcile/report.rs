//! One reconcile run's record, written to `--report-dir` as
//! `reconcile-<UTC time>.json`, the newest [`REPORTS_KEPT`] kept.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::accounts::AccountRun;
use crate::apply::Report;
use crate::atomic_file;
use crate::cloud::client::StatsSnapshot;
use crate::plan::{Change, ManifestInfo};

/// Reports kept in `--report-dir`; older ones are removed.
const REPORTS_KEPT: usize = 100;

/// One run's record, written to `--report-dir`.
#[derive(serde::Serialize)]
pub(super) struct RunReport {
    pub format_version: u32,
    pub mode: &'static str,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub result: &'static str,
    pub manifest: ManifestInfo,
    /// The caller's account (a Resource Directory's management account
    /// in a run over its members).
    pub account_id: String,
    /// How each account's part went: the caller's alone, or each member a
    /// run over `accounts:` planned; empty when the run failed before it
    /// knew them.
    pub accounts: Vec<AccountRun>,
    /// Why the run failed, when it failed before or outside the apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The changes the plan found: resources outside their groups.
    pub drift: Vec<Change>,
    /// `correct` mode: the apply's report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply: Option<Report>,
    pub calls: StatsSnapshot,
}

/// Writes a run's report as `reconcile-<UTC time>.json` in `dir`, and
/// removes the oldest beyond [`REPORTS_KEPT`].
pub(super) fn save_report(dir: &Path, report: &RunReport) -> anyhow::Result<()> {
    let name = format!(
        "reconcile-{}.json",
        report.finished_at.format("%Y%m%dT%H%M%S%.3fZ")
    );
    let path = dir.join(name);
    atomic_file::write(&path, |file| {
        Ok(serde_json::to_writer_pretty(file, report)?)
    })
    .with_context(|| format!("could not write the report {}", path.display()))?;
    let mut reports: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("reconcile-") && name.ends_with(".json"))
        })
        .collect();
    // The names sort in time order.
    reports.sort();
    let excess = reports.len().saturating_sub(REPORTS_KEPT);
    for old in &reports[..excess] {
        std::fs::remove_file(old)
            .with_context(|| format!("could not remove the old report {}", old.display()))?;
    }
    Ok(())
}
