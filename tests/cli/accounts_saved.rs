//! A saved plan over accounts whose stale-plan check cannot read one
//! member: a RAM denial (an API error) or throttling there is that
//! member's failure alone. Its changes are reported `not_started` with the
//! reason, the other members' moves are made, and the run exits 1; neither
//! a refusal of the whole plan nor a member applied unchecked. (The role
//! gone is `accounts::a_saved_plan_applies_the_others_when_a_members_role_is_gone`.)

use regroup::emulator::fleet::{Fleet, FleetResource};
use regroup::emulator::Settings;
use regroup::resource::ResourceType;

use crate::accounts::{directory, in_team_groups, without_request_id, BY_TEAM, MEMBERS};
use crate::harness::{read_json, Running, Setup};

/// A plan of `fleet` saved in one emulator, and a second emulator of the
/// same fleet set up by `settings`, holding that plan as `plan.json`.
fn saved_plan_in(fleet: Fleet, settings: impl FnOnce(&mut Settings)) -> Running {
    let planned = crate::accounts::start(fleet.clone(), BY_TEAM);
    let (code, _, err) = planned.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code, 0, "the plan is made: {err}");
    let saved = std::fs::read_to_string(planned.path("plan.json")).expect("the plan is saved");
    let env = Setup::new()
        .fleet(fleet)
        .manifest(BY_TEAM)
        .emulator(settings)
        .start();
    env.write("plan.json", &saved);
    env
}

/// Applies `plan.json` with `extra` options and checks what every test
/// here expects: exit 1, stderr the one line of member-2's `failure`,
/// `member_2_changes` of member-2 not started with that line, the other
/// members' 20 moves made and no join sent in member-2.
fn applies_all_but_member_2(env: &Running, extra: &[&str], failure: &str, member_2_changes: usize) {
    let mut args = vec![
        "apply",
        "plan.json",
        "--auto-approve",
        "--report",
        "report.json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = env.run(&args);
    assert_eq!(code, 1, "the run fails for member-2: {out}{err}");
    assert_eq!(
        without_sts_key(&without_request_id(&err)),
        format!("Error: 1 of 3 account(s) failed:\n{failure}\n"),
        "one line naming the account and what could not be read"
    );
    let summary = out.rfind("\nApply ").map_or("", |at| &out[at..]);
    assert_eq!(
        without_sts_key(&without_request_id(summary)),
        format!(
            "\nApply stopped! 20 moved, 0 failed, {member_2_changes} not started. Run apply again to finish.\n  not started: {failure}\n"
        ),
        "the others are applied, member-2's changes not started: {out}"
    );
    assert_eq!(
        in_team_groups(env),
        20,
        "member-0's and member-1's moves are made, member-2's are not"
    );
    let report = read_json(&env.path("report.json"));
    let outcomes = report["outcomes"].as_array().expect("outcomes");
    assert_eq!(
        outcomes.len(),
        20 + member_2_changes,
        "an outcome for every saved change: {report:#}"
    );
    for outcome in outcomes {
        let in_member_2 = outcome["change"]["account_id"] == MEMBERS[2].0;
        let wanted = if in_member_2 { "not_started" } else { "moved" };
        assert_eq!(outcome["status"], wanted, "{outcome}");
    }
    let joins_in_member_2 = env
        .requests()
        .iter()
        .filter(|r| r.action == "JoinResourceGroup" && r.account == MEMBERS[2].0)
        .count();
    assert_eq!(
        joins_in_member_2, 0,
        "nothing is moved in member-2 unchecked"
    );
}

/// `text` with the id of the STS key RAM names (made up on each run) as
/// `STS.…`.
fn without_sts_key(text: &str) -> String {
    let mut rest = text;
    let mut kept = String::new();
    while let Some(at) = rest.find("STS.") {
        kept.push_str(&rest[..at]);
        kept.push_str("STS.…");
        rest = rest[at + 4..].trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    }
    kept + rest
}

/// The directory with one disk in member-2, tagged for team-2: a read
/// (`DescribeDisks`) no other member's stale check makes.
fn with_a_disk_in_member_2() -> Fleet {
    let mut fleet = directory();
    fleet.accounts[2].resources.push(FleetResource {
        tags: [("team".to_owned(), "team-2".to_owned())].into(),
        ..crate::support::resource(ResourceType::Disk, "d-bp1m2disk00000000001", "cn-hangzhou")
    });
    fleet
}

/// At most one `DescribeDisks` per account and region a week (quotas are
/// per account, docs/sources/resource-directory.md §6): the second is
/// throttled, and stays so for the test's life.
fn one_disk_read_a_week(settings: &mut Settings) {
    settings.quotas = vec!["DescribeDisks=1/604800s".parse().expect("a quota")];
}

/// Throttling gives up after a second instead of the default five minutes.
const PATIENCE: [&str; 2] = ["--retry-for", "1s"];

const THROTTLED: &str =
    "DescribeDisks: Throttling.User: Request was denied due to user flow control. (HTTP 400)";

#[test]
fn a_saved_plan_applies_the_others_when_a_member_answers_its_check_with_an_error() {
    // Member-2's role lacks ecs:DescribeInstances (a least-privilege role
    // short of one read): its stale check is refused with Forbidden.RAM.
    let env = saved_plan_in(directory(), |settings| {
        settings.denied_in_accounts.insert(
            MEMBERS[2].0.to_owned(),
            vec!["ecs:DescribeInstances".to_owned()],
        );
    });
    let failure = "account 1000000000000003 (member-2): could not read the current groups: missing RAM permission for AssumedRoleUser STS.…: ecs:DescribeInstances; hint: grant it in RAM (`regroup policy -f MANIFEST` prints every permission regroup needs)";
    applies_all_but_member_2(&env, &[], failure, 10);
}

#[test]
fn a_saved_plan_applies_the_others_when_a_members_stale_check_is_throttled() {
    // Planned in the same emulator: member-2's one DescribeDisks of the week
    // is spent by the plan, so its stale check's read is throttled. Applied
    // without the manifest, the stale check is the only read before joins.
    let env = Setup::new()
        .fleet(with_a_disk_in_member_2())
        .examples()
        .emulator(one_disk_read_a_week)
        .start();
    std::fs::write(env.path("teams.yaml"), BY_TEAM).expect("the manifest is written");
    let (code, _, err) = env.run(&["plan", "-f", "teams.yaml", "-o", "plan.json"]);
    assert_eq!(code, 0, "the plan is made: {err}");
    std::fs::remove_file(env.path("teams.yaml")).expect("the manifest is removed");
    let failure = format!(
        "account 1000000000000003 (member-2): could not read the current groups: {THROTTLED}"
    );
    applies_all_but_member_2(&env, &PATIENCE, &failure, 11);
}

#[test]
fn a_saved_plan_applies_the_others_when_a_members_check_against_the_manifest_is_throttled() {
    // Planned elsewhere: member-2's stale check reads its disk, the one
    // DescribeDisks of the week; checking the plan against the manifest
    // lists the disks again, and is throttled.
    let env = saved_plan_in(with_a_disk_in_member_2(), one_disk_read_a_week);
    let failure = format!(
        "account 1000000000000003 (member-2): could not check the plan against the manifest: {THROTTLED}"
    );
    applies_all_but_member_2(&env, &PATIENCE, &failure, 11);
}
