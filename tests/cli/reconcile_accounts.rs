//! `regroup reconcile` over the members of a Resource Directory (a
//! manifest with `accounts:`, the directory of examples/fleet-accounts.yaml
//! as in `accounts.rs`), and the quota discovery every reconcile run makes
//! before its first join. Each run plans across the members and applies
//! account by account as `regroup apply` does; its report, its lines and
//! its metrics name each account; a member that fails fails alone and the
//! loop goes on.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::accounts::{directory, in_team_groups, without_request_id, BY_TEAM, MEMBERS, ROLE_GONE};
use crate::harness::{read_json, Running, Setup, ALL_INTO_PROD};
use crate::reconcile::{scrape, total, Loop};

/// The management account of examples/fleet-accounts.yaml.
const MANAGEMENT: &str = "1000000000000000";

/// A correct-mode loop over `env`'s directory, with its metrics and
/// reports, a second between runs.
fn correcting(env: &Running) -> Loop {
    Loop::start(
        env,
        &[
            "--mode",
            "correct",
            "--interval",
            "1s",
            "--metrics-listen",
            "127.0.0.1:0",
            "--report-dir",
            "reports",
        ],
    )
}

/// The reports the loop wrote, oldest first.
fn reports(env: &Running) -> Vec<serde_json::Value> {
    let mut paths: Vec<_> = std::fs::read_dir(env.path("reports"))
        .expect("the report folder exists")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    paths.sort();
    paths.iter().map(|path| read_json(path)).collect()
}

/// A report's `accounts`, each as (id, name, result, drifted, moved).
fn accounts_of(report: &serde_json::Value) -> Vec<(String, String, String, u64, u64)> {
    report["accounts"]
        .as_array()
        .unwrap_or_else(|| panic!("the report lists its accounts: {report:#}"))
        .iter()
        .map(|a| {
            (
                a["account_id"].as_str().unwrap_or_default().to_owned(),
                a["name"].as_str().unwrap_or_default().to_owned(),
                a["result"].as_str().unwrap_or_default().to_owned(),
                a["drifted"].as_u64().unwrap_or(u64::MAX),
                a["moves"]["moved"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_correcting_loop_over_a_directory_converges_every_member_and_reports_each() {
    let env = Setup::new().fleet(directory()).manifest(BY_TEAM).start();
    let mut reconcile = correcting(&env);
    let address = reconcile.metrics_address();
    let planned = reconcile.line(Duration::from_secs(60), |l| l.contains(" correct: "));
    assert!(
        planned.ends_with(" correct: 3 accounts: 3 planned. Plan: 30 to move, 0 unchanged."),
        "the run plans across the three members: {planned}"
    );
    reconcile.line(Duration::from_secs(60), |l| {
        l == "Apply complete! 30 moved, 0 failed."
    });
    assert_eq!(in_team_groups(&env), 30, "every member converged");
    let settled = reconcile.line(Duration::from_secs(30), |l| l.contains(" correct: "));
    assert!(
        settled.ends_with(" correct: 3 accounts: 3 planned. No changes. All 30 resources the manifest manages are in their groups."),
        "the next run finds nothing to do: {settled}"
    );

    let samples = scrape(&address);
    for (id, _, _) in MEMBERS {
        let account = [("account", id)];
        assert!(
            total(
                &samples,
                "regroup_last_reconcile_success_timestamp_seconds",
                &account
            ) > 1.7e9,
            "{id} has its own success time: {samples:?}"
        );
        assert_eq!(
            total(&samples, "regroup_reconcile_account_failed", &account),
            0.0,
            "{id} did not fail: {samples:?}"
        );
        assert_eq!(
            total(
                &samples,
                "regroup_moves_total",
                &[("account", id), ("status", "moved")]
            ),
            10.0,
            "{id}'s ten moves are counted under it: {samples:?}"
        );
        let drift_series = samples
            .iter()
            .filter(|(name, labels, _)| {
                name == "regroup_drifted_resources"
                    && labels.get("account").and_then(|a| a.as_str()) == Some(id)
            })
            .count();
        assert_eq!(
            (
                drift_series,
                total(&samples, "regroup_drifted_resources", &account)
            ),
            (3, 0.0),
            "a drift series for each of {id}'s three groups, all in order: {samples:?}"
        );
    }
    let labelled: BTreeSet<&str> = samples
        .iter()
        .filter_map(|(_, labels, _)| labels.get("account").and_then(|a| a.as_str()))
        .collect();
    let members: BTreeSet<&str> = MEMBERS.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(
        labelled, members,
        "the members, and only they, label series"
    );

    let (code, printed) = reconcile.terminate();
    assert_eq!(code, 0, "SIGTERM ends with 0: {}", printed.join("\n"));
    let first = &reports(&env)[0];
    assert_eq!(first["result"], "success", "{first:#}");
    assert_eq!(
        first["account_id"], MANAGEMENT,
        "the caller's account: {first:#}"
    );
    assert_eq!(
        accounts_of(first),
        MEMBERS
            .iter()
            .map(|(id, name, _)| (
                (*id).to_owned(),
                (*name).to_owned(),
                "success".to_owned(),
                10,
                10
            ))
            .collect::<Vec<_>>(),
        "each member with its drift and its moves: {first:#}"
    );
    let outcomes = first["apply"]["outcomes"]
        .as_array()
        .expect("the apply's outcomes");
    assert!(
        outcomes.len() == 30
            && outcomes
                .iter()
                .all(|o| o["change"]["account_id"].is_string()),
        "every outcome names its account: {first:#}"
    );
}

#[test]
fn a_member_whose_role_cannot_be_assumed_fails_alone_and_the_loop_goes_on() {
    let mut fleet = directory();
    fleet.accounts[2].roles.clear();
    let env = Setup::new().fleet(fleet).manifest(BY_TEAM).start();
    let mut reconcile = correcting(&env);
    let address = reconcile.metrics_address();
    let planned = reconcile.line(Duration::from_secs(60), |l| l.contains(" correct: "));
    assert!(
        planned
            .ends_with(" correct: 3 accounts: 2 planned, 1 failed. Plan: 20 to move, 0 unchanged."),
        "the two others are planned: {planned}"
    );
    reconcile.line(Duration::from_secs(60), |l| {
        l == "Apply complete! 20 moved, 0 failed."
    });
    reconcile.line(Duration::from_secs(10), |l| {
        l == "Run failed: 1 of 3 account(s) failed:"
    });
    let why = reconcile.line(Duration::from_secs(10), |_| true);
    assert_eq!(
        without_request_id(&why),
        ROLE_GONE,
        "one line naming the account and the role"
    );
    // The loop goes on: the next run plans again, member-2 still failing.
    let again = reconcile.line(Duration::from_secs(30), |l| l.contains(" correct: "));
    assert!(
        again.ends_with(" correct: 3 accounts: 2 planned, 1 failed. No changes. All 20 resources the manifest manages are in their groups."),
        "{again}"
    );
    // Said once the run is counted.
    reconcile.line(Duration::from_secs(10), |l| {
        l == "Run failed: 1 of 3 account(s) failed:"
    });
    assert_eq!(in_team_groups(&env), 20, "member-0 and member-1 converged");

    let samples = scrape(&address);
    let failed = |id: &str| {
        total(
            &samples,
            "regroup_reconcile_account_failed",
            &[("account", id)],
        )
    };
    let succeeded_at = |id: &str| {
        total(
            &samples,
            "regroup_last_reconcile_success_timestamp_seconds",
            &[("account", id)],
        )
    };
    assert_eq!(
        [
            failed(MEMBERS[0].0),
            failed(MEMBERS[1].0),
            failed(MEMBERS[2].0)
        ],
        [0.0, 0.0, 1.0],
        "member-2 alone is failing: {samples:?}"
    );
    assert!(
        succeeded_at(MEMBERS[0].0) > 1.7e9 && succeeded_at(MEMBERS[1].0) > 1.7e9,
        "the others succeeded: {samples:?}"
    );
    assert_eq!(
        succeeded_at(MEMBERS[2].0),
        0.0,
        "member-2 never did: {samples:?}"
    );
    assert!(
        total(
            &samples,
            "regroup_reconcile_runs_total",
            &[("result", "failure")]
        ) >= 2.0,
        "each run with a failed member counts as failed: {samples:?}"
    );

    let (code, printed) = reconcile.terminate();
    assert_eq!(code, 0, "SIGTERM ends with 0: {}", printed.join("\n"));
    let first = &reports(&env)[0];
    assert_eq!(first["result"], "failure", "{first:#}");
    let runs = accounts_of(first);
    assert_eq!(
        runs.iter()
            .map(|(id, _, result, _, moved)| (id.as_str(), result.as_str(), *moved))
            .collect::<Vec<_>>(),
        [
            (MEMBERS[0].0, "success", 10),
            (MEMBERS[1].0, "success", 10),
            (MEMBERS[2].0, "failure", 0)
        ],
        "{first:#}"
    );
    assert_eq!(
        without_request_id(first["accounts"][2]["error"].as_str().unwrap_or_default()),
        "cannot assume role ResourceDirectoryAccountAccessRole: AssumeRole: EntityNotExist.Role: The specified Role not exists. (HTTP 404)",
        "member-2's error is in its own entry: {first:#}"
    );
}

#[test]
fn account_and_shard_narrow_a_loop_as_they_narrow_plan() {
    let env = Setup::new().fleet(directory()).manifest(BY_TEAM).start();
    let (code, out, err) = env.run(&[
        "reconcile",
        "--runs",
        "1",
        "--account",
        MEMBERS[2].0,
        "--report-dir",
        "reports",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let line = out
        .lines()
        .find(|l| l.contains(" detect: "))
        .unwrap_or_default();
    assert!(
        line.ends_with(" detect: 1 account: 1 planned. Plan: 10 to move, 0 unchanged."),
        "member-2 alone: {out}"
    );
    assert_eq!(
        accounts_of(&reports(&env)[0]),
        [(
            MEMBERS[2].0.to_owned(),
            MEMBERS[2].1.to_owned(),
            "success".to_owned(),
            10,
            0
        )],
        "detect mode: its drift, no moves"
    );
    assert_eq!(env.writes(), 0, "detect mode moves nothing");

    // Shard 1 of 3 holds member-1 alone (as accounts.rs finds for plan).
    let (code, out, err) = env.run(&[
        "reconcile",
        "--runs",
        "1",
        "--shard",
        "1/3",
        "--mode",
        "correct",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(" correct: 1 account: 1 planned. Plan: 10 to move, 0 unchanged.\nApply complete! 10 moved, 0 failed.\n"),
        "{out}"
    );
    assert_eq!(in_team_groups(&env), 10, "member-1's ten moves only");

    let plain = Setup::new().instances(1).manifest(ALL_INTO_PROD).start();
    let (code, out, err) = plain.run(&["reconcile", "--runs", "1", "--shard", "1/2"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.starts_with(
            "Error: --shard selects among the member accounts of a manifest's `accounts:`"
        ),
        "{err}"
    );
    assert!(plain.requests().is_empty(), "refused before any call");
}

/// Requests answered `Throttling.User`, as "account action".
fn throttled(env: &Running) -> Vec<String> {
    env.requests()
        .into_iter()
        .filter(|r| r.code.as_deref() == Some("Throttling.User"))
        .map(|r| format!("{} {}", r.account, r.action))
        .collect()
}

/// The accounts Quota Center's `ListProductQuotas` was asked in.
fn quotas_read_in(env: &Running) -> BTreeSet<String> {
    env.requests()
        .into_iter()
        .filter(|r| r.action == "ListProductQuotas")
        .map(|r| r.account)
        .collect()
}

/// `JoinResourceGroup=4/2s` in every account (the emulator's quotas are
/// per account, as Alibaba Cloud's are, and published through Quota
/// Center): twelve joins need three windows, and paced under the quota
/// none is refused; without discovery the first window's excess is.
fn tight_joins(setup: Setup) -> Running {
    setup
        .emulator(|settings| {
            settings.quotas = vec!["JoinResourceGroup=4/2s".parse().expect("a quota")];
        })
        .start()
}

#[test]
fn a_run_discovers_its_quotas_and_paces_its_joins_under_them() {
    let env = tight_joins(Setup::new().instances(12).manifest(ALL_INTO_PROD));
    let (code, out, err) = env.run(&["-v", "reconcile", "--mode", "correct", "--runs", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("\nApply complete! 12 moved, 0 failed.\n"),
        "{out}"
    );
    assert!(
        err.contains("quota known: keeping just under it"),
        "the quota was read and used: {err}"
    );
    assert_eq!(
        quotas_read_in(&env),
        BTreeSet::from(["1234567890123456".to_owned()]),
        "Quota Center asked in the account"
    );
    assert_eq!(
        throttled(&env),
        Vec::<String>::new(),
        "paced: not one call refused"
    );
}

#[test]
fn a_run_over_members_discovers_each_members_quotas() {
    let env = tight_joins(Setup::new().fleet(directory()).manifest(BY_TEAM));
    let (code, out, err) = env.run(&["reconcile", "--mode", "correct", "--runs", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("\nApply complete! 30 moved, 0 failed.\n"),
        "{out}"
    );
    let members: BTreeSet<String> = MEMBERS.iter().map(|(id, _, _)| (*id).to_owned()).collect();
    assert!(
        members.is_subset(&quotas_read_in(&env)),
        "each member's quotas read in that member: {:?}",
        quotas_read_in(&env)
    );
    assert_eq!(
        throttled(&env),
        Vec::<String>::new(),
        "paced: not one call refused"
    );
}

#[test]
fn a_run_that_cannot_list_the_directory_marks_every_member_failed() {
    // One `ListAccounts` a week in the management account: the first run
    // lists the members, the next is throttled before it reaches any.
    let env = Setup::new()
        .fleet(directory())
        .manifest(BY_TEAM)
        .emulator(|settings| {
            settings.quotas = vec!["ListAccounts=1/604800s".parse().expect("a quota")];
        })
        .start();
    let mut reconcile = Loop::start(
        &env,
        &[
            "--retry-for",
            "1s",
            "--interval",
            "1s",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let address = reconcile.metrics_address();
    let planned = reconcile.line(Duration::from_secs(60), |l| l.contains(" detect: "));
    assert!(
        planned.contains(" detect: 3 accounts: 3 planned."),
        "the first run lists and plans the three members: {planned}"
    );
    let failed = reconcile.line(Duration::from_secs(60), |l| l.starts_with("Run failed"));
    assert!(
        failed.contains("Throttling"),
        "the next run cannot list the directory: {failed}"
    );
    // Read once the failed run is counted.
    let samples = (0..50)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            scrape(&address)
        })
        .find(|samples| {
            total(
                samples,
                "regroup_reconcile_runs_total",
                &[("result", "failure")],
            ) >= 1.0
        })
        .expect("the failed run is counted within 5 s");
    let member_failed = |id: &str| {
        total(
            &samples,
            "regroup_reconcile_account_failed",
            &[("account", id)],
        )
    };
    assert_eq!(
        MEMBERS.map(|(id, _, _)| member_failed(id)),
        [1.0, 1.0, 1.0],
        "no member was reconciled by the failed run: {samples:?}"
    );
    let (code, printed) = reconcile.terminate();
    assert_eq!(code, 0, "SIGTERM ends with 0: {}", printed.join("\n"));
}
