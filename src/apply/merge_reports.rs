//! `regroup merge` of reports: the `--report`s of a fleet's shards, each
//! applied by its own CI job, combined into one record, and that record as
//! a pull-request comment. Pure: the caller reads the files.

use std::collections::{HashMap, HashSet};

use super::report::{Outcome, Report};
use crate::cloud::client::StatsSnapshot;
use crate::plan::AccountId;
use crate::resource::ResourceKey;

/// A report to merge, read, and the file it was read from.
#[derive(Debug)]
pub struct ShardReport {
    pub file: String,
    pub report: Report,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReportMergeError {
    #[error("no reports to merge")]
    Empty,
    #[error("{0} is named twice")]
    Twice(String),
    #[error("{first} and {second} have different format versions ({first_version} and {second_version}): merge reports of one regroup version")]
    Versions {
        first: String,
        first_version: u32,
        second: String,
        second_version: u32,
    },
    #[error("{first} and {second} record applies of different manifests (sha256 {first_sha}… and {second_sha}…): merge the shards of one manifest")]
    Manifests {
        first: String,
        first_sha: String,
        second: String,
        second_sha: String,
    },
    #[error("{what} is in both {first} and {second}: the shards overlap (apply each shard once)")]
    Overlap {
        what: String,
        first: String,
        second: String,
    },
}

/// The shards' reports as one: outcomes account by account (each shard's
/// order kept within an account; reports of one account, which name none,
/// in the order given), counts recounted, calls summed, interrupted if any
/// shard was, each shard's reason to stop named with its file, from the
/// first start to the last finish.
pub fn merge_reports(shards: Vec<ShardReport>) -> Result<Report, ReportMergeError> {
    check(&shards)?;
    let mut merged: Option<Report> = None;
    let mut stopped = Vec::new();
    for ShardReport { file, report } in shards {
        // Every field named, none with `..`: a field added to `Report`
        // does not compile here until it is merged.
        let Report {
            format_version,
            manifest_sha256,
            started_at,
            finished_at,
            interrupted,
            moved: _,
            failed: _,
            not_started: _,
            unverified: _,
            stopped: reason,
            calls,
            outcomes,
        } = report;
        stopped.extend(reason.map(|why| format!("{file}: {why}")));
        let into = merged.get_or_insert_with(|| Report {
            format_version,
            manifest_sha256,
            started_at,
            finished_at,
            interrupted: false,
            moved: 0,
            failed: 0,
            not_started: 0,
            unverified: 0,
            stopped: None,
            calls: StatsSnapshot::default(),
            outcomes: Vec::new(),
        });
        into.started_at = into.started_at.min(started_at);
        into.finished_at = into.finished_at.max(finished_at);
        into.interrupted |= interrupted;
        add_calls(&mut into.calls, calls);
        into.outcomes.extend(outcomes);
    }
    let mut merged = merged.ok_or(ReportMergeError::Empty)?;
    merged.stopped = (!stopped.is_empty()).then(|| stopped.join("; "));
    // A stable sort: within an account, each shard's own order stays.
    merged
        .outcomes
        .sort_by(|a, b| a.change.account_id.cmp(&b.change.account_id));
    merged.count();
    Ok(merged)
}

fn add_calls(total: &mut StatsSnapshot, calls: StatsSnapshot) {
    let StatsSnapshot {
        requests,
        retries,
        throttled,
        per_action,
    } = calls;
    total.requests += requests;
    total.retries += retries;
    total.throttled += throttled;
    for (action, count) in per_action {
        *total.per_action.entry(action).or_default() += count;
    }
}

/// One format version and one manifest; no file twice, and no account or
/// resource in two shards.
fn check(shards: &[ShardReport]) -> Result<(), ReportMergeError> {
    let first = shards.first().ok_or(ReportMergeError::Empty)?;
    let mut files = HashSet::new();
    if let Some(twice) = shards.iter().find(|s| !files.insert(&s.file)) {
        return Err(ReportMergeError::Twice(twice.file.clone()));
    }
    if let Some(other) = shards
        .iter()
        .find(|s| s.report.format_version != first.report.format_version)
    {
        return Err(ReportMergeError::Versions {
            first: first.file.clone(),
            first_version: first.report.format_version,
            second: other.file.clone(),
            second_version: other.report.format_version,
        });
    }
    if let Some(other) = shards
        .iter()
        .find(|s| s.report.manifest_sha256 != first.report.manifest_sha256)
    {
        return Err(ReportMergeError::Manifests {
            first: first.file.clone(),
            first_sha: short(&first.report.manifest_sha256).to_owned(),
            second: other.file.clone(),
            second_sha: short(&other.report.manifest_sha256).to_owned(),
        });
    }
    let mut accounts: HashMap<&str, &str> = HashMap::new();
    let mut resources: HashMap<(&AccountId, &ResourceKey), &str> = HashMap::new();
    for shard in shards {
        let mine: HashSet<&str> = outcomes_accounts(&shard.report.outcomes).collect();
        for account in mine {
            if let Some(first) = accounts.insert(account, &shard.file) {
                return Err(overlap(format!("account {account}"), first, &shard.file));
            }
        }
        for outcome in &shard.report.outcomes {
            let key = (&outcome.change.account_id, &outcome.change.resource);
            if let Some(first) = resources.insert(key, &shard.file) {
                return Err(overlap(
                    outcome.change.resource.to_string(),
                    first,
                    &shard.file,
                ));
            }
        }
    }
    Ok(())
}

fn outcomes_accounts(outcomes: &[Outcome]) -> impl Iterator<Item = &str> {
    outcomes
        .iter()
        .filter_map(|o| o.change.account_id.as_deref().map(String::as_str))
}

fn overlap(what: String, first: &str, second: &str) -> ReportMergeError {
    ReportMergeError::Overlap {
        what,
        first: first.to_owned(),
        second: second.to_owned(),
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// The merged report as a pull-request comment: its summary (the counts,
/// then each failure and unverified change) in a code block, cut by whole
/// lines to stay within GitHub's limit on a comment.
pub fn report_markdown(report: &Report) -> String {
    const HEAD: &str = "### regroup apply\n\n```text\n";
    const TAIL: &str = "```\n";
    let summary = report.summary();
    let mut lines = summary.lines();
    let mut out = String::from(HEAD);
    // Room for the closing fence and the note about cut lines.
    let room = crate::render::COMMENT_LIMIT - TAIL.len() - 200;
    let mut cut = 0;
    for line in lines.by_ref() {
        if out.len() + line.len() + 1 > room {
            cut = 1;
            break;
        }
        // A fence inside a message would close the block early.
        out.push_str(&line.replace("```", "'''"));
        out.push('\n');
    }
    let cut = cut + lines.count();
    out.push_str(TAIL);
    if cut > 0 {
        out.push_str(&format!(
            "\n_… {cut} more lines are not shown: the comment would pass GitHub's {}-character limit. The merged JSON report has them all._\n",
            crate::render::COMMENT_LIMIT
        ));
    }
    out
}

#[cfg(test)]
mod tests;
