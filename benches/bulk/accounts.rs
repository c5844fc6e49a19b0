//! The many-accounts regime (issue 28): a Resource Directory of 200 member
//! accounts × 1,000 instances each (one region, tagged `team: team-0..2`,
//! groups `team-0..2` in each member), planned with `accounts: {all:
//! true}` over 1, 16, 100 and all 200 members (`--account`, repeated),
//! against the per-account floor: the plan of one member alone, which a
//! run over many cannot beat per account since each account's reads are
//! paced by that account's own quotas. Each regroup run's calls
//! (ListAccounts, AssumeRole, the reads of every member) come from the
//! emulator's request log; its peak RSS says whether memory grows with the
//! accounts planned at once or with the sum (each account is shown as it is
//! planned and its changes kept in a file: src/planning/stream.rs). Each
//! run saves its plan (`-o`), so the figures include writing it.
//!
//! `cargo bench --bench bulk -- --accounts` (`--quick`: 1, 4 and 20
//! members). The fleet is written by a child process (`--write-accounts
//! MEMBERS DIR`), so that this process stays small (see bulk.rs).

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
                account_id: member_id(m),
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

/// The account id of member `m`.
fn member_id(m: usize) -> String {
    format!("{}", 2_000_000_000_000_000u64 + m as u64)
}

/// The plan over the first 1, 16 and 100 members (`--account`), and over
/// all of them.
pub fn run(dir: &Path, quick: bool) {
    let counts: &[usize] = if quick {
        &[1, 4, 20]
    } else {
        &[1, 16, 100, 200]
    };
    let members = counts.iter().copied().max().unwrap_or(1);
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--write-accounts", &members.to_string()])
        .arg(dir)
        .status()
        .expect("the fleet is written");
    assert!(status.success(), "the fleet is written");
    let server = Server::start_written(dir, &["--qps", &QPS.to_string()]);
    println!("### many accounts (latency {LATENCY_MS} ms, {QPS} calls/s per API and region, per account)\n");
    println!("| accounts × instances | calls | calls per account | wall | × the floor | CPU | peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut floor = None;
    for &count in counts {
        let mut args = vec![
            "-f".to_owned(),
            "accounts.yaml".to_owned(),
            "plan".to_owned(),
        ];
        if count < members {
            args.extend((0..count).flat_map(|m| ["--account".to_owned(), member_id(m)]));
        }
        args.extend(["-o".to_owned(), "plan.json".to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = regroup(&server, dir, &args);
        let noun = if count == 1 { "account" } else { "accounts" };
        assert!(
            run.stdout
                .contains(&format!("{count} {noun}: {count} planned.")),
            "every member planned: {}",
            run.stdout
                .lines()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .join(" / ")
        );
        let floor = *floor.get_or_insert(run.wall);
        println!(
            "| {}{count} × {PER_ACCOUNT} | {} | {:.1} | {} | {:.1}× | {} | {:.0} MB |",
            if count == 1 { "the floor: " } else { "" },
            run.calls,
            run.calls as f64 / count as f64,
            secs(run.wall),
            run.wall.as_secs_f64() / floor.as_secs_f64(),
            secs(run.cpu),
            run.peak_rss_mb
        );
    }
}
