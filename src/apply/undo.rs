//! The guard of an undo plan: a saved plan is data, not authority, and one
//! marked `undo` moves resources against the manifest by design, so it is
//! checked against the report of the apply it undoes instead. Pure: the
//! caller reads the report.

use std::collections::HashMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Status;
use crate::plan::{Change, Plan};
use crate::resource::ResourceKey;

/// Reports larger than this are refused when an undo plan names one: a
/// report records more of each change than a plan (status, request ids,
/// notes), so it has twice the room of [`crate::plan::MAX_PLAN_BYTES`].
pub const MAX_REPORT_BYTES: u64 = 2 * crate::plan::MAX_PLAN_BYTES;

/// Whether an outcome with this status may have moved its resource: the
/// moves an undo plan takes back.
pub fn may_have_moved(status: Status) -> bool {
    matches!(status, Status::Moved | Status::Unverified)
}

/// The sha256 of a report's bytes, as an undo plan records it.
pub fn report_sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Why an undo plan is not applied.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("the undo plan names no report of the apply it undoes, so nothing was changed\n  hint: undo plans are written by `apply --undo-plan FILE --report FILE`; plan again from the manifest instead")]
    Unbound,
    #[error("the report {file} that the undo plan was made from has changed since (sha256 {expected} then, {found} now), so nothing was changed")]
    ReportChanged {
        file: String,
        expected: String,
        found: String,
    },
    #[error(
        "the report {file} that the undo plan was made from cannot be read as a report: {why}"
    )]
    NotAReport { file: String, why: String },
    #[error("the undo plan has {} change(s) that its report does not record, so nothing was changed:\n{}\n  hint: an undo plan only moves back what its apply moved, to where it was", .0.len(), .0.join("\n"))]
    Unrecorded(Vec<String>),
}

/// The part of a report the guard reads.
#[derive(Deserialize)]
struct SavedReport {
    outcomes: Vec<SavedOutcome>,
}

#[derive(Deserialize)]
struct SavedOutcome {
    change: Change,
    status: Status,
}

/// Checks `plan`, an undo plan, against `report`, the bytes of the report
/// it names: the report must be the one it was made from, and each undo
/// change must reverse a change that the report says moved (or may have),
/// from the group it was moved to, back to the group it was moved from.
pub fn check_against_report(plan: &Plan, report: &[u8]) -> Result<(), UndoError> {
    let bound = plan.undoes.as_ref().ok_or(UndoError::Unbound)?;
    let found = report_sha256(report);
    if found != bound.sha256 {
        return Err(UndoError::ReportChanged {
            file: bound.file.clone(),
            expected: short(&bound.sha256).to_owned(),
            found: short(&found).to_owned(),
        });
    }
    let saved: SavedReport = serde_json::from_slice(report).map_err(|e| UndoError::NotAReport {
        file: bound.file.clone(),
        why: e.to_string(),
    })?;
    let made: HashMap<&ResourceKey, &Change> = saved
        .outcomes
        .iter()
        .filter(|o| may_have_moved(o.status))
        .map(|o| (&o.change.resource, &o.change))
        .collect();
    let unrecorded: Vec<String> = plan
        .changes
        .iter()
        .filter(|undo| {
            !made
                .get(&undo.resource)
                .is_some_and(|done| done.to.id == undo.from.id && done.from.id == undo.to.id)
        })
        .map(|undo| {
            format!(
                "  {}: the undo plan moves it from `{}` to `{}`",
                undo.resource, undo.from.id, undo.to.id
            )
        })
        .collect();
    if unrecorded.is_empty() {
        Ok(())
    } else {
        Err(UndoError::Unrecorded(unrecorded))
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
