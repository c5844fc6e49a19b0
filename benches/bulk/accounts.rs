//! The many-accounts regime (issue 28): a Resource Directory of 100 member
//! accounts × 1,000 instances each (one region, tagged `team: team-0..2`,
//! groups `team-0..2` in each member), planned with `accounts: {all:
//! true}` in one run, against the per-account floor: the same plan of one
//! member alone, which a run over many cannot beat per account since each
//! account's reads are paced by that account's own quotas. Each regroup
//! run's calls (ListAccounts, AssumeRole, the reads of every member) come
//! from the emulator's request log; its peak RSS says whether memory grows
//! with the largest account or with the sum.
//!
//! `cargo bench --bench bulk -- --accounts` (`--quick`: 10 members). The
//! fleet is written by a child process (`--write-accounts MEMBERS DIR`), so
//! that this process stays small (see bulk.rs).

use std::collections::BTreeMap;
use std::path::Path;

use regroup::emulator::fleet::{Fleet, FleetGroup, MemberAccount, MEMBER_ACCESS_ROLE};
use regroup::resource::ResourceType;

use super::{regroup, secs, Server, LATENCY_MS, QPS};

const PER_ACCOUNT: usize = 1_000;

/// Every member, instances into their team's group.
const MANIFEST: &str = include_str!("../../examples/accounts.yaml");

/// A directory of `members` members of [`PER_ACCOUNT`] instances each,
/// every instance still in its member's default group.
fn directory(members: usize) -> Fleet {
    let mut fleet = crate::support::fleet(0);
    fleet.accounts = (0..members)
        .map(|m| {
            let group = |suffix: &str, name: &str, default: bool| FleetGroup {
                id: format!("rg-acfm{m:04}{suffix}"),
                name: name.into(),
                default,
                display_name: None,
                status: None,
            };
            let mut resource_groups = vec![group("default", "default", true)];
            resource_groups
                .extend((0..3).map(|t| group(&format!("team{t}"), &format!("team-{t}"), false)));
            MemberAccount {
                account_id: format!("{}", 2_000_000_000_000_000u64 + m as u64),
                name: format!("member-{m}"),
                folder: None,
                account_type: None,
                access_keys: Vec::new(),
                resource_groups,
                resources: (0..PER_ACCOUNT)
                    .map(|n| {
                        let mut resource = crate::support::resource(
                            ResourceType::Instance,
                            &format!("i-bp1m{m:04}{n:06}"),
                            "cn-hangzhou",
                        );
                        resource.tags =
                            BTreeMap::from([("team".into(), format!("team-{}", n % 3))]);
                        resource
                    })
                    .collect(),
                auto_grouping: None,
                roles: vec![MEMBER_ACCESS_ROLE.to_owned()],
                tags: BTreeMap::new(),
            }
        })
        .collect();
    fleet
}

/// `--write-accounts MEMBERS DIR`: writes the fleet and the manifest;
/// whether it was asked for.
pub fn write_if_asked(args: &[String]) -> bool {
    let [_, flag, members, dir] = args else {
        return false;
    };
    if flag != "--write-accounts" {
        return false;
    }
    let dir = Path::new(dir);
    let members: usize = members.parse().expect("MEMBERS");
    std::fs::write(
        dir.join("fleet.json"),
        serde_json::to_string(&directory(members)).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("accounts.yaml"), MANIFEST).unwrap();
    true
}

/// The plan over `members` members, and over one alone (`--account`).
pub fn run(dir: &Path, quick: bool) {
    let members = if quick { 10 } else { 100 };
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--write-accounts", &members.to_string()])
        .arg(dir)
        .status()
        .expect("the fleet is written");
    assert!(status.success(), "the fleet is written");
    let server = Server::start_written(dir, &["--qps", &QPS.to_string()]);
    println!("### many accounts (latency {LATENCY_MS} ms, {QPS} calls/s per API and region, per account)\n");
    println!("| accounts × instances | calls | calls per account | wall | per account | CPU | peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let one = regroup(
        &server,
        dir,
        &[
            "-f",
            "accounts.yaml",
            "plan",
            "--account",
            "2000000000000000",
        ],
    );
    let all = regroup(&server, dir, &["-f", "accounts.yaml", "plan"]);
    assert!(
        all.stdout
            .contains(&format!("{members} accounts: {members} planned.")),
        "every member planned: {}",
        all.stdout.lines().last().unwrap_or_default()
    );
    for (label, run, count) in [("1 (the floor)", &one, 1), ("all", &all, members)] {
        println!(
            "| {label}: {count} × {PER_ACCOUNT} | {} | {:.1} | {} | {} | {} | {:.0} MB |",
            run.calls,
            run.calls as f64 / count as f64,
            secs(run.wall),
            secs(run.wall / count as u32),
            secs(run.cpu),
            run.peak_rss_mb
        );
    }
    println!(
        "\n{members} accounts took {:.1}× the floor of one account's plan.",
        all.wall.as_secs_f64() / one.wall.as_secs_f64()
    );
}
