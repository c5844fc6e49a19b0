//! The records an apply leaves: `--report` and `--undo-plan`, their paths
//! checked before the first call and both written whole after the last.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::report::Report;
use super::request::ApplyRequest;
use super::undo;
use crate::atomic_file;
use crate::plan::{Plan, ReportRef};
use crate::render::{self, Render};

/// Checks `--report` and `--undo-plan` before the first call, so that a
/// bad path is not found after the moves: each must be writable, and
/// neither the manifest nor the plan being applied, nor the other; an undo
/// plan needs a report to be bound to.
pub(super) fn check_paths(request: &ApplyRequest) -> anyhow::Result<()> {
    for path in [&request.report, &request.undo_plan].into_iter().flatten() {
        check_output_path(path, request)?;
    }
    if request.undo_plan.is_some() && request.report.is_none() {
        bail!("--undo-plan needs --report: an undo plan is bound to the report of the moves it undoes, and is applied only beside it");
    }
    Ok(())
}

fn check_output_path(path: &Path, request: &ApplyRequest) -> anyhow::Result<()> {
    atomic_file::check_target(path)?;
    if let Some((report, undo)) = request.report.as_ref().zip(request.undo_plan.as_ref()) {
        if atomic_file::same_target(report, undo) {
            bail!(
                "--report and --undo-plan name the same file, {} and {}",
                report.display(),
                undo.display()
            );
        }
    }
    atomic_file::check_not_input(path, &request.manifest.path, "the manifest")?;
    if let Some(plan) = &request.planfile {
        atomic_file::check_not_input(path, plan, "the plan being applied")?;
    }
    Ok(())
}

/// What writing the records came to: the undo plan's path and size when
/// it was written, and every record that could not be.
pub(super) struct Written {
    pub undo: Option<(PathBuf, usize)>,
    pub failures: Vec<anyhow::Error>,
}

/// Writes the records: moves were made, so neither a closed stdout nor a
/// full disk may cost them. The undo plan before the report: of the two, it
/// matters most when something went wrong; the report's bytes are made
/// first, since the undo plan carries their checksum.
pub(super) fn write(
    report: &Report,
    plan: &Plan,
    request: &ApplyRequest,
) -> anyhow::Result<Written> {
    let report_bytes = serde_json::to_vec_pretty(report)?;
    let undo =
        request
            .undo_plan
            .as_ref()
            .zip(request.report.as_ref())
            .map(|(path, report_path)| {
                let bound = ReportRef {
                    file: atomic_file::canonical_target(report_path)?
                        .display()
                        .to_string(),
                    sha256: undo::report_sha256(&report_bytes),
                };
                let undo = report.undo_plan(plan, bound);
                atomic_file::write(path, |file| render::Json.write(&undo, file))
                    .with_context(|| format!("could not write the undo plan {}", path.display()))
                    .map(|()| (path.clone(), undo.changes.len()))
            });
    let saved = request.report.as_ref().map(|path| {
        atomic_file::write(path, |file| file.write_all(&report_bytes))
            .with_context(|| format!("could not write the report {}", path.display()))
    });
    let mut written = Written {
        undo: None,
        failures: Vec::new(),
    };
    match undo {
        Some(Ok(done)) => written.undo = Some(done),
        Some(Err(error)) => written.failures.push(error),
        None => {}
    }
    if let Some(Err(error)) = saved {
        written.failures.push(error);
    }
    Ok(written)
}
