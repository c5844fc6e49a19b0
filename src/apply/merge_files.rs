//! `regroup merge FILE…`: each file read (bounded) and told apart by its
//! fields (a plan has `changes`, a report `outcomes`), verified as regroup
//! reads it elsewhere (a plan's format version and checksum, as `apply`
//! reads a saved plan; a report's every field, as the undo guard reads
//! one), and merged: plans by `plan::merge`, reports by `merge_reports`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::de::IgnoredAny;
use serde::Deserialize;

pub use super::merge_reports::report_markdown;
use super::merge_reports::{merge_reports, ShardReport};
use super::report::Report;
use super::undo::MAX_REPORT_BYTES;
use crate::plan::{Plan, ShardPlan, MAX_PLAN_BYTES};

/// What the files merged into.
#[derive(Debug)]
pub enum Merged {
    Plan(Plan),
    Report(Report),
}

/// The fields that tell a plan from a report; the rest is skipped unread.
#[derive(Deserialize)]
struct Kind {
    changes: Option<IgnoredAny>,
    outcomes: Option<IgnoredAny>,
}

/// One file read: a plan or a report.
enum Input {
    Plan(ShardPlan),
    Report(ShardReport),
}

/// The plans or reports at `paths`, merged.
pub fn read_and_merge(paths: &[PathBuf]) -> anyhow::Result<Merged> {
    let inputs = paths
        .iter()
        .map(|path| read(path))
        .collect::<anyhow::Result<Vec<Input>>>()?;
    let (mut plans, mut reports) = (Vec::new(), Vec::new());
    for input in inputs {
        match input {
            Input::Plan(plan) => plans.push(plan),
            Input::Report(report) => reports.push(report),
        }
    }
    if let (Some(plan), Some(report)) = (plans.first(), reports.first()) {
        bail!(
            "{} is a plan and {} a report: merge plans with plans, or reports with reports",
            plan.file,
            report.file
        );
    }
    Ok(if reports.is_empty() {
        Merged::Plan(crate::plan::merge(plans)?)
    } else {
        Merged::Report(merge_reports(reports)?)
    })
}

fn read(path: &Path) -> anyhow::Result<Input> {
    let file = path.display().to_string();
    // A report may be twice a plan's size; a plan is held to its own limit.
    let bytes = crate::bounded_read::read_at_most(path, MAX_REPORT_BYTES)?;
    let kind: Kind = serde_json::from_slice(&bytes)
        .with_context(|| format!("{file} is neither a plan nor a report regroup wrote"))?;
    match (kind.changes, kind.outcomes) {
        (Some(_), None) => {
            if bytes.len() as u64 > MAX_PLAN_BYTES {
                bail!("{file} is larger than a plan may be ({MAX_PLAN_BYTES} bytes)");
            }
            let plan = crate::planning::plan_from(path, &bytes)?;
            Ok(Input::Plan(ShardPlan { file, plan }))
        }
        (None, Some(_)) => {
            let report: Report = serde_json::from_slice(&bytes)
                .with_context(|| format!("{file} is not a report regroup can use"))?;
            Ok(Input::Report(ShardReport { file, report }))
        }
        _ => bail!("{file} is neither a plan (`changes`) nor a report (`outcomes`) regroup wrote"),
    }
}
