//! Merging shards' reports: every field carried, overlaps refused.

use chrono::TimeZone;

use super::*;
use crate::apply::report::Status;
use crate::plan::sample_change;

fn outcome(id: &str, account: Option<&str>, status: Status) -> Outcome {
    let mut outcome = Outcome::new(sample_change(id, account), status);
    if status == Status::Failed {
        outcome.code = Some("Throttling.User".into());
        outcome.message = Some("Request was denied due to user flow control.".into());
    }
    outcome
}

fn shard(file: &str, minute: u32, outcomes: Vec<Outcome>, stopped: Option<&str>) -> ShardReport {
    let at = |m: u32| chrono::Utc.with_ymd_and_hms(2026, 12, 6, 12, m, 0).unwrap();
    let mut report = Report {
        format_version: 1,
        manifest_sha256: "a1b2c3d4e5f6a7b8".into(),
        started_at: at(minute),
        finished_at: at(minute + 5),
        interrupted: false,
        moved: 0,
        failed: 0,
        not_started: 0,
        unverified: 0,
        stopped: stopped.map(str::to_owned),
        calls: StatsSnapshot {
            requests: 3,
            retries: 1,
            throttled: 1,
            per_action: [("JoinResourceGroup".to_owned(), 2)].into(),
        },
        outcomes,
    };
    report.count();
    ShardReport {
        file: file.into(),
        report,
    }
}

#[test]
fn every_field_is_merged() {
    let merged = merge_reports(vec![
        shard(
            "b.json",
            10,
            vec![outcome("i-3", Some("1002"), Status::Moved)],
            Some("RAM denied JoinResourceGroup"),
        ),
        shard(
            "a.json",
            0,
            vec![
                outcome("i-1", Some("1001"), Status::Moved),
                outcome("i-2", Some("1001"), Status::Failed),
            ],
            None,
        ),
    ])
    .expect("disjoint shards merge");
    // Every field named: a field added to `Report` fails to compile here
    // until this test says what merging does with it.
    let Report {
        format_version,
        manifest_sha256,
        started_at,
        finished_at,
        interrupted,
        moved,
        failed,
        not_started,
        unverified,
        stopped,
        calls,
        outcomes,
    } = merged;
    assert_eq!(
        (format_version, manifest_sha256.as_str()),
        (1, "a1b2c3d4e5f6a7b8"),
        "the shards' own"
    );
    assert_eq!(
        (started_at.to_rfc3339(), finished_at.to_rfc3339()),
        (
            "2026-12-06T12:00:00+00:00".to_owned(),
            "2026-12-06T12:15:00+00:00".to_owned()
        ),
        "the first start and the last finish"
    );
    assert!(!interrupted, "no shard was interrupted");
    assert_eq!(
        (moved, failed, not_started, unverified),
        (2, 1, 0, 0),
        "counted again"
    );
    assert_eq!(
        stopped.as_deref(),
        Some("b.json: RAM denied JoinResourceGroup"),
        "why, and where"
    );
    assert_eq!(
        calls,
        StatsSnapshot {
            requests: 6,
            retries: 2,
            throttled: 2,
            per_action: [("JoinResourceGroup".to_owned(), 4)].into(),
        },
        "calls summed"
    );
    let ids: Vec<&str> = outcomes.iter().map(|o| &*o.change.resource.id).collect();
    assert_eq!(
        ids,
        ["i-1", "i-2", "i-3"],
        "account by account, whatever the files' order"
    );
}

#[test]
fn overlaps_and_other_manifests_are_refused_naming_both_files() {
    let error = merge_reports(vec![
        shard(
            "a.json",
            0,
            vec![outcome("i-1", Some("1001"), Status::Moved)],
            None,
        ),
        shard(
            "b.json",
            0,
            vec![outcome("i-2", Some("1001"), Status::Moved)],
            None,
        ),
    ])
    .expect_err("one account in two shards");
    assert_eq!(
        error.to_string(),
        "account 1001 is in both a.json and b.json: the shards overlap (apply each shard once)",
        "the account and both files"
    );
    let error = merge_reports(vec![
        shard("a.json", 0, vec![outcome("i-1", None, Status::Moved)], None),
        shard("b.json", 0, vec![outcome("i-1", None, Status::Moved)], None),
    ])
    .expect_err("one resource in two shards");
    assert_eq!(
        error.to_string(),
        "instance/i-1 (cn-hangzhou) is in both a.json and b.json: the shards overlap (apply each shard once)",
        "the resource and both files"
    );
    let mut other = shard("b.json", 0, Vec::new(), None);
    other.report.manifest_sha256 = "ffffffffffffffff".into();
    assert_eq!(
        merge_reports(vec![shard("a.json", 0, Vec::new(), None), other])
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err("a.json and b.json record applies of different manifests (sha256 a1b2c3d4e5f6… and ffffffffffff…): merge the shards of one manifest".to_owned()),
        "one manifest"
    );
    let mut newer = shard("b.json", 0, Vec::new(), None);
    newer.report.format_version = 2;
    assert!(
        matches!(
            merge_reports(vec![shard("a.json", 0, Vec::new(), None), newer]),
            Err(ReportMergeError::Versions {
                second_version: 2,
                ..
            })
        ),
        "one format version"
    );
    assert_eq!(
        merge_reports(Vec::new()).map(|_| ()),
        Err(ReportMergeError::Empty),
        "nothing to merge"
    );
}

#[test]
fn the_comment_is_the_summary_within_the_limit() {
    let merged = merge_reports(vec![shard(
        "a.json",
        0,
        vec![
            outcome("i-1", None, Status::Moved),
            outcome("i-2", None, Status::Failed),
        ],
        None,
    )])
    .expect("merges");
    assert_eq!(
        report_markdown(&merged),
        "### regroup apply\n\n```text\nApply complete! 1 moved, 1 failed.\n  failed: instance/i-2 (cn-hangzhou): Throttling.User: Request was denied due to user flow control.\n```\n",
        "the summary in a code block"
    );
    let many: Vec<Outcome> = (0..2_000)
        .map(|n| outcome(&format!("i-{n:05}"), None, Status::Failed))
        .collect();
    let big = merge_reports(vec![shard("a.json", 0, many, None)]).expect("merges");
    let comment = report_markdown(&big);
    assert!(
        comment.len() <= crate::render::COMMENT_LIMIT,
        "within GitHub's limit: {}",
        comment.len()
    );
    assert!(
        comment.contains("```\n\n_… ") && comment.contains("more lines are not shown"),
        "the cut is said, after the closing fence"
    );
}
