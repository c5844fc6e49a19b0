//! Many accounts (a manifest's `accounts:`): a Resource Directory with a
//! management account and three members (examples/fleet-accounts.yaml:
//! ten instances each, tagged `team: team-0..2`, groups `team-0..2` in
//! each member) planned and applied as one run, each member through the
//! role it trusts the management account with; `--shard` and `--account`
//! narrowing it; a member whose role cannot be assumed failing alone.

use regroup::emulator::fleet::Fleet;

use crate::harness::{read_json, stdout_of, Running, Setup};

pub(crate) const MEMBERS: [(&str, &str, &str); 3] = [
    ("1000000000000001", "member-0", "i-bp1m0"),
    ("1000000000000002", "member-1", "i-bp1m1"),
    ("1000000000000003", "member-2", "i-bp1m2"),
];

/// Member-2's failure when its role is gone, as stderr names it (without
/// the request id).
pub(crate) const ROLE_GONE: &str = "account 1000000000000003 (member-2): cannot assume role ResourceDirectoryAccountAccessRole: AssumeRole: EntityNotExist.Role: The specified Role not exists. (HTTP 404)";

/// examples/accounts.yaml: every member, instances into their team's group.
pub(crate) const BY_TEAM: &str = include_str!("../../examples/accounts.yaml");

pub(crate) fn directory() -> Fleet {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet-accounts.yaml");
    Fleet::load(&path).expect("the example directory loads")
}

pub(crate) fn start(fleet: Fleet, manifest: &str) -> Running {
    Setup::new().fleet(fleet).manifest(manifest).start()
}

/// The lines of stdout from the heading of `account` to the next blank
/// line after its summary.
fn section<'a>(out: &'a str, account: &str) -> Vec<&'a str> {
    let heading = format!("── Account {account}");
    out.lines()
        .skip_while(|line| !line.starts_with(&heading))
        .skip(1)
        .take_while(|line| !line.starts_with("── Account"))
        .filter(|line| line.starts_with("  ~ "))
        .collect()
}

/// The request id of an error message, which the emulator makes up.
pub(crate) fn without_request_id(text: &str) -> String {
    match text.find(", request id ") {
        Some(at) => {
            let end = text[at..].find(')').map_or(text.len(), |n| at + n);
            format!("{}{}", &text[..at], &text[end..])
        }
        None => text.to_owned(),
    }
}

/// Each member's instances and the group each is in now.
fn membership(env: &Running) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for member in env.snapshot().accounts {
        let team = |group: &str| {
            member
                .resource_groups
                .iter()
                .find(|g| g.id == group)
                .map(|g| g.name.clone())
                .unwrap_or_default()
        };
        for resource in &member.resources {
            let group = resource.group.as_deref().unwrap_or_default();
            all.push((resource.id.clone(), team(group)));
        }
    }
    all
}

/// What `regroup ARGS` prints as JSON, once it succeeds.
fn json_of(env: &Running, args: &[&str]) -> serde_json::Value {
    let (code, out, err) = env.run(args);
    assert_eq!(code, 0, "regroup {args:?}: {err}");
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("regroup {args:?} prints JSON ({e}): {out}"))
}

/// How many of the members' instances are in a `team-…` group now.
pub(crate) fn in_team_groups(env: &Running) -> usize {
    membership(env)
        .into_iter()
        .filter(|(_, team)| team.starts_with("team-"))
        .count()
}

/// Runs `args`, an apply that moves the 30 instances of the directory's
/// three members: it exits 0 and says so.
fn moves_all_thirty(env: &Running, args: &[&str]) {
    let (code, out, err) = env.run(args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    assert!(
        out.contains("\nApply complete! 30 moved, 0 failed.\n"),
        "{args:?}: {out}"
    );
}

#[test]
fn thirty_moves_are_planned_under_their_accounts_applied_and_settled() {
    let env = start(directory(), BY_TEAM);
    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "changes to make: {err}");
    for (id, name, prefix) in MEMBERS {
        assert!(
            out.contains(&format!("── Account {id} ({name}) ──\n")),
            "a section for {name}: {out}"
        );
        let moves = section(&out, id);
        assert_eq!(moves.len(), 10, "ten moves in {name}'s section: {moves:?}");
        assert!(
            moves
                .iter()
                .all(|line| line.starts_with(&format!("  ~ instance/{prefix}"))),
            "{name}'s section holds its own instances only: {moves:?}"
        );
    }
    assert!(
        out.ends_with("Plan: 10 to move, 0 unchanged.\n\n3 accounts: 3 planned.\nPlan: 30 to move, 0 unchanged.\n"),
        "each account's summary, then the combined one: {out}"
    );

    moves_all_thirty(
        &env,
        &["apply", "--auto-approve", "--report", "report.json"],
    );
    for (id, team) in membership(&env) {
        let wanted = format!(
            "team-{}",
            id.chars().last().and_then(|c| c.to_digit(10)).unwrap_or(0) % 3
        );
        assert_eq!(
            team, wanted,
            "{id} is in its team's group of its own account"
        );
    }
    let report = read_json(&env.path("report.json"));
    let outcomes = report["outcomes"].as_array().expect("outcomes");
    assert_eq!(outcomes.len(), 30, "one outcome per move");
    for outcome in outcomes {
        let resource = outcome["change"]["resource"]["id"]
            .as_str()
            .unwrap_or_default();
        let (account, _, _) = MEMBERS
            .iter()
            .find(|(_, _, prefix)| resource.starts_with(prefix))
            .expect("a member's instance");
        assert_eq!(
            outcome["change"]["account_id"], *account,
            "the report names the account of {resource}"
        );
    }

    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "nothing left to do: {out}{err}");
    assert!(
        out.ends_with("3 accounts: 3 planned.\nNo changes. All 30 resources the manifest manages are in their groups.\n"),
        "{out}"
    );
}

#[test]
fn a_shard_or_an_account_option_plans_its_accounts_only() {
    let env = start(directory(), BY_TEAM);
    // The split is by a hash of the account id: shard 1 of 3 holds
    // member-1 alone (src/accounts/shard.rs).
    let plan = json_of(&env, &["plan", "--shard", "1/3", "--format", "json"]);
    assert_eq!(
        plan["accounts"],
        serde_json::json!([{
            "account_id": "1000000000000002",
            "name": "member-1",
            "role": "ResourceDirectoryAccountAccessRole"
        }]),
        "one account in shard 1/3"
    );
    let changes = plan["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 10, "its ten moves");
    assert!(
        changes
            .iter()
            .all(|c| c["account_id"] == "1000000000000002"),
        "all of member-1: {changes:?}"
    );
    assert!(
        plan["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .all(|g| g["account_id"] == "1000000000000002"),
        "the groups name the account too"
    );

    let shards: Vec<usize> = ["1/3", "2/3", "3/3"]
        .iter()
        .map(|shard| {
            let (code, out, err) = env.run(&["plan", "--shard", shard, "--format", "json"]);
            assert_eq!(code, 0, "{shard}: {err}");
            let plan: serde_json::Value = serde_json::from_str(&out).expect("a JSON plan");
            plan["changes"].as_array().map_or(0, Vec::len)
        })
        .collect();
    assert_eq!(
        shards.iter().sum::<usize>(),
        30,
        "the shards cover every move once: {shards:?}"
    );
    let (code, out, err) = env.run(&["plan", "--shard", "3/3", "-o", "empty.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Warning: shard 3/3 holds none of the member accounts the manifest's `accounts:` selects"),
        "an empty shard says so: {out}"
    );
    let shown = out
        .strip_suffix("\nSaved the plan to empty.json. Apply it with: regroup apply empty.json\n")
        .unwrap_or_else(|| panic!("saved once shown: {out}"));
    let (code, again, err) = env.run(&["show", "empty.json"]);
    assert_eq!(code, 0, "the saved plan reads back: {err}");
    assert_eq!(again, shown, "the empty shard's plan shows as it was shown");
    assert_eq!(
        shown,
        "Warning: shard 3/3 holds none of the member accounts the manifest's `accounts:` selects (the split is by a hash of the account id)\n\
         Warning: this plan manages 0 resources: nothing the manifest names or selects was found in the regions read; check the rules' tags and names, the ids, and --region\n\n\
         No changes. All 0 resources the manifest manages are in their groups.\n",
        "an empty shard's plan, as a saved plan naming no account reads"
    );
    let (code, comment, err) = env.run(&[
        "plan",
        "--shard",
        "3/3",
        "--format",
        "markdown",
        "-o",
        "empty.json",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, again, err) = env.run(&["show", "empty.json", "--format", "markdown"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        again, comment,
        "the empty shard's comment, the same from the saved plan"
    );
    // Apply plans it whole (plan_across), and says the same, once each.
    let (code, out, err) = env.run(&["apply", "--shard", "3/3", "--auto-approve"]);
    assert_eq!(code, 0, "{err}");
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("Warning:")).collect();
    assert_eq!(
        warnings,
        shown
            .lines()
            .filter(|l| l.starts_with("Warning:"))
            .collect::<Vec<_>>(),
        "apply over the empty shard warns as plan does: {out}"
    );

    let (code, out, err) = env.run(&["plan", "--account", "1000000000000003"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with("1 account: 1 planned.\nPlan: 10 to move, 0 unchanged.\n")
            && out.starts_with("── Account 1000000000000003 (member-2) ──\n"),
        "member-2 alone: {out}"
    );
}

#[test]
fn a_member_whose_role_cannot_be_assumed_fails_alone() {
    let mut fleet = directory();
    fleet.accounts[2].roles.clear();
    let env = start(fleet, BY_TEAM);
    let failure = ROLE_GONE;
    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 1, "an account failed: {out}");
    assert_eq!(
        without_request_id(&err),
        format!("Error: 1 of 3 account(s) failed:\n{failure}\n"),
        "one line naming the account and the role"
    );
    assert!(
        out.ends_with("3 accounts: 2 planned, 1 failed.\nPlan: 20 to move, 0 unchanged.\n"),
        "the others are planned: {out}"
    );

    let (code, out, err) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "the run fails for member-2: {out}");
    assert!(
        out.contains("\nApply complete! 20 moved, 0 failed.\n"),
        "the others are applied: {out}"
    );
    assert!(
        without_request_id(&err).contains(failure),
        "and member-2's failure is said: {err}"
    );
    assert_eq!(
        in_team_groups(&env),
        20,
        "member-2's instances stay where they were"
    );
}

/// Issue 28: a saved plan whose member's role is gone by apply time (the
/// same directory served again without member-2's role) fails that
/// account alone: the others' moves are made, member-2's reported not
/// started, and the run exits 1 naming the account and the role.
#[test]
fn a_saved_plan_applies_the_others_when_a_members_role_is_gone() {
    let planned = start(directory(), BY_TEAM);
    let (code, _, err) = planned.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code, 0, "{err}");
    let saved = std::fs::read_to_string(planned.path("plan.json")).expect("the plan is saved");
    let mut fleet = directory();
    fleet.accounts[2].roles.clear();
    let env = start(fleet, BY_TEAM);
    env.write("plan.json", &saved);

    let (code, out, err) = env.run(&[
        "apply",
        "plan.json",
        "--auto-approve",
        "--report",
        "report.json",
    ]);
    let failure = ROLE_GONE;
    assert_eq!(code, 1, "the run fails for member-2: {out}{err}");
    assert_eq!(
        without_request_id(&err),
        format!("Error: 1 of 3 account(s) failed:\n{failure}\n"),
        "one line naming the account and the role"
    );
    let summary = out.rfind("\nApply ").map_or("", |at| &out[at..]);
    assert_eq!(
        without_request_id(summary),
        format!(
            "\nApply stopped! 20 moved, 0 failed, 10 not started. Run apply again to finish.\n  not started: {failure}\n"
        ),
        "the others are applied, member-2's moves not started: {out}"
    );
    assert_eq!(
        in_team_groups(&env),
        20,
        "member-0's and member-1's moves are made"
    );
    let report = read_json(&env.path("report.json"));
    let outcomes = report["outcomes"].as_array().expect("outcomes");
    assert_eq!(
        outcomes.len(),
        30,
        "an outcome for every saved change: {report:#}"
    );
    for outcome in outcomes {
        let wanted = if outcome["change"]["account_id"] == MEMBERS[2].0 {
            "not_started"
        } else {
            "moved"
        };
        assert_eq!(outcome["status"], wanted, "{outcome}");
    }
}

#[test]
fn a_group_missing_in_one_account_is_that_accounts_error() {
    let mut fleet = directory();
    fleet.accounts[1]
        .resource_groups
        .retain(|g| g.name != "team-2");
    let env = start(fleet, BY_TEAM);
    let (code, out, err) = env.run(&["plan", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).expect("a JSON plan");
    let error = plan["accounts"][1]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("team-2"),
        "member-1's error names the group: {plan:#}"
    );
    assert!(
        err.contains("account 1000000000000002 (member-1): ") && err.contains("team-2"),
        "named with the account: {err}"
    );
    assert_eq!(
        plan["changes"].as_array().map_or(0, Vec::len),
        20,
        "the others' moves"
    );
}

#[test]
fn accounts_the_directory_does_not_have_are_refused_with_their_place() {
    let manifest = BY_TEAM.replace(
        "accounts: {all: true}",
        "accounts: [fd-prod000001, fd-nope]",
    );
    let env = start(directory(), &manifest);
    let (code, out, err) = env.run(&["plan"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.starts_with(&format!(
            "Error: folder `fd-nope` ({}:9:27) names no member of the resource directory",
            env.manifest.display()
        )),
        "{err}"
    );
    assert_eq!(env.writes(), 0, "nothing moved");

    let plain = Setup::new()
        .instances(1)
        .manifest(
            "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: [{all: true}]\n",
        )
        .start();
    let (code, _, err) = stdout_of(plain.regroup(&["plan", "--shard", "1/2"]));
    assert_eq!(code, 1, "--shard needs accounts");
    assert!(
        err.starts_with(
            "Error: --shard selects among the member accounts of a manifest's `accounts:`"
        ),
        "{err}"
    );
}

#[test]
fn a_saved_plan_and_its_undo_are_checked_and_applied_account_by_account() {
    let env = start(directory(), BY_TEAM);
    let before = membership(&env);
    let (code, _, err) = env.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code, 0, "{err}");
    moves_all_thirty(
        &env,
        &[
            "apply",
            "plan.json",
            "--auto-approve",
            "--report",
            "report.json",
            "--undo-plan",
            "undo.json",
        ],
    );
    let undo = read_json(&env.path("undo.json"));
    assert_eq!(
        undo["accounts"].as_array().map(Vec::len),
        Some(3),
        "the undo plan lists the accounts: {undo:#}"
    );
    assert!(
        undo["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .all(|c| c["account_id"].is_string()),
        "each undo change keeps its account"
    );

    // Applied again, the saved plan is stale in every account: refused,
    // naming the first account checked, before any join.
    let writes = env.writes();
    let (code, _, err) = env.run(&["apply", "plan.json", "--auto-approve"]);
    assert_eq!(code, 1, "a stale plan is refused");
    assert!(
        err.starts_with("Error: account 1000000000000001 (member-0)")
            && err.contains(
                "the saved plan is stale: 10 resource(s) are no longer where the plan found them"
            ),
        "{err}"
    );
    assert_eq!(env.writes(), writes, "nothing was moved");

    moves_all_thirty(&env, &["apply", "undo.json", "--auto-approve"]);
    assert_eq!(membership(&env), before, "every member is back as it was");
}

/// Issue 28: a saved plan records the role of each account, so that
/// applied without its manifest it acts through the manifest's `role:`,
/// not the default, which these members do not have.
#[test]
fn a_saved_plan_is_applied_through_its_role_without_the_manifest() {
    let mut fleet = directory();
    for member in &mut fleet.accounts {
        member.roles = vec!["regroup-mover".to_owned()];
    }
    let manifest = BY_TEAM.replace(
        "accounts: {all: true}",
        "accounts: {all: true, role: regroup-mover}",
    );
    assert_ne!(manifest, BY_TEAM, "the example manifest names its accounts");
    let env = Setup::new().fleet(fleet).examples().start();
    std::fs::write(env.path("mover.yaml"), manifest).expect("the manifest is written");
    let (code, _, err) = env.run(&["plan", "-f", "mover.yaml", "-o", "plan.json"]);
    assert_eq!(code, 0, "{err}");
    let roles: Vec<serde_json::Value> = read_json(&env.path("plan.json"))["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["role"].clone())
        .collect();
    assert_eq!(
        roles,
        vec![serde_json::json!("regroup-mover"); 3],
        "every account records its role"
    );
    // No -f, and the manifest the plan was made from is gone.
    std::fs::remove_file(env.path("mover.yaml")).expect("the manifest is removed");

    moves_all_thirty(&env, &["apply", "plan.json", "--auto-approve"]);
    assert_eq!(in_team_groups(&env), 30, "every member converged");
}

/// Issue 28: `policy` for a manifest over accounts prints two documents,
/// labelled: for the management account's identity (list the members,
/// assume the manifest's role in the members it names), and for that role
/// in each member (what a run in one account needs). Offline.
#[test]
fn policy_over_accounts_prints_the_management_and_the_member_documents() {
    let manifest = "version: 1
regions: [cn-hangzhou]
accounts:
  include: [1000000000000001, 1000000000000002]
  role: regroup-mover
groups:
  team-0:
    select: [{type: instance, tags: {team: team-0}}]
";
    let env = start(directory(), manifest);
    let (code, out, err) = env.run(&["policy"]);
    assert_eq!(code, 0, "{err}");
    assert!(env.requests().is_empty(), "policy is offline");
    assert_eq!(
        out,
        r#"{
  "management_account": {
    "attach_to": "the RAM user or role regroup runs as, in the Resource Directory's management account",
    "policy": {
      "Statement": [
        {
          "Action": [
            "resourcemanager:ListAccounts"
          ],
          "Effect": "Allow",
          "Resource": [
            "acs:resourcemanager::*:account/*"
          ]
        },
        {
          "Action": [
            "sts:AssumeRole"
          ],
          "Effect": "Allow",
          "Resource": [
            "acs:ram::1000000000000001:role/regroup-mover",
            "acs:ram::1000000000000002:role/regroup-mover"
          ]
        }
      ],
      "Version": "1"
    }
  },
  "member_accounts": {
    "attach_to": "the RAM role regroup-mover in each member account (accounts.role)",
    "policy": {
      "Statement": [
        {
          "Action": [
            "ecs:DescribeInstances",
            "resourcemanager:ListResourceGroups"
          ],
          "Effect": "Allow",
          "Resource": "*"
        },
        {
          "Action": [
            "ecs:JoinResourceGroup"
          ],
          "Effect": "Allow",
          "Resource": [
            "acs:ecs:cn-hangzhou:*:instance/*"
          ]
        }
      ],
      "Version": "1"
    }
  }
}
"#,
        "ListAccounts and AssumeRole on the named members' regroup-mover; the role's own reads and joins"
    );
}

/// The member document is exactly what `policy` prints for the same
/// manifest without `accounts:`, and `all: true` lets the role be assumed
/// in any account, under its default name.
#[test]
fn the_member_document_is_the_single_account_policy() {
    let env = start(directory(), BY_TEAM);
    let both = json_of(&env, &["policy", "--for", "apply", "--for", "history"]);
    assert_eq!(
        both["management_account"]["policy"]["Statement"][1]["Resource"],
        serde_json::json!(["acs:ram::*:role/ResourceDirectoryAccountAccessRole"]),
        "every member may be listed: {both:#}"
    );
    let single_manifest = BY_TEAM.replace("accounts: {all: true}\n", "");
    assert_ne!(single_manifest, BY_TEAM, "the accounts block is removed");
    std::fs::write(env.path("single.yaml"), single_manifest).expect("written");
    let single = json_of(
        &env,
        &[
            "policy",
            "-f",
            "single.yaml",
            "--for",
            "apply",
            "--for",
            "history",
        ],
    );
    assert_eq!(
        both["member_accounts"]["policy"], single,
        "the role needs what a run in one account needs"
    );
}

#[test]
fn each_members_quotas_are_discovered_and_its_joins_paced_under_them() {
    // Every account has its own `JoinResourceGroup=4/2s` (the emulator's
    // quotas are per account, as Alibaba Cloud's are): ten joins a member
    // need three windows, and none may be refused.
    let env = Setup::new()
        .fleet(directory())
        .manifest(BY_TEAM)
        .emulator(|settings| {
            settings.quotas = vec!["JoinResourceGroup=4/2s".parse().expect("a quota")];
        })
        .start();
    moves_all_thirty(&env, &["-v", "apply", "--auto-approve"]);
    let discovered: std::collections::BTreeSet<String> = env
        .requests()
        .into_iter()
        .filter(|r| r.action == "ListProductQuotas")
        .map(|r| r.account)
        .collect();
    let members: std::collections::BTreeSet<String> =
        MEMBERS.iter().map(|(id, _, _)| (*id).to_owned()).collect();
    assert!(
        members.is_subset(&discovered),
        "each member's quotas read in that member: {discovered:?}"
    );
    let refused: Vec<String> = env
        .requests()
        .into_iter()
        .filter(|r| r.code.as_deref() == Some("Throttling.User"))
        .map(|r| format!("{} {}", r.account, r.action))
        .collect();
    assert_eq!(refused, Vec::<String>::new(), "paced: not one call refused");
}

/// Issue 28: over accounts, `regroup plan` shows each account as it is
/// planned and saves the plan once every account is (src/planning/
/// stream.rs): over its limit, shown and not saved; saved, it shows again
/// as it was shown, its JSON is what was printed, and it applies.
#[test]
fn a_plan_over_accounts_is_shown_as_it_is_planned_and_saved_at_the_end() {
    let env = start(directory(), BY_TEAM);
    let (code, out, err) = env.run(&["plan", "--max-changes", "29", "-o", "plan.json"]);
    assert_eq!(code, 1, "over the limit: {err}");
    assert!(
        out.starts_with("── Account 1000000000000001 (member-0) ──\n")
            && out.ends_with("3 accounts: 3 planned.\nPlan: 30 to move, 0 unchanged.\n"),
        "shown whole: {out}"
    );
    assert!(
        err.starts_with(
            "Error: the plan moves 30 resource(s), more than the 29 allowed by --max-changes 29"
        ),
        "{err}"
    );
    assert!(
        !env.path("plan.json").exists(),
        "a plan over its limit is not saved"
    );

    let (code, out, err) = env.run(&["plan", "--detailed-exitcode", "-o", "plan.json"]);
    assert_eq!(code, 2, "changes to make: {err}");
    let shown = out
        .strip_suffix("\nSaved the plan to plan.json. Apply it with: regroup apply plan.json\n")
        .unwrap_or_else(|| panic!("saved once shown: {out}"));
    let (code, again, err) = env.run(&["show", "plan.json"]);
    assert_eq!(code, 0, "the saved plan reads back: {err}");
    assert_eq!(
        again, shown,
        "the saved plan shows as it was shown while planned"
    );

    let (code, json, err) = env.run(&["plan", "--format", "json", "-o", "shown.json"]);
    assert_eq!(code, 0, "{err}");
    let saved = std::fs::read_to_string(env.path("shown.json")).expect("saved");
    assert_eq!(saved, json, "the JSON saved is the JSON printed");
    let (code, rewritten, err) = env.run(&["show", "shown.json", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        rewritten, json,
        "read back and written again, the same bytes"
    );

    moves_all_thirty(&env, &["apply", "plan.json", "--auto-approve"]);
    assert_eq!(in_team_groups(&env), 30, "every move made");
}

/// The changes of a plan over accounts wait in a temporary file while the
/// accounts are planned: when it cannot be made, the error says so and
/// where, before any account is planned.
#[test]
fn a_temporary_folder_that_cannot_hold_the_changes_is_named() {
    let env = start(directory(), BY_TEAM);
    let gone = env.path("no-such-folder");
    let (code, out, err) = stdout_of(env.regroup(&["plan"]).env("TMPDIR", &gone));
    assert_eq!(code, 1, "nowhere to spill the changes: {out}");
    assert_eq!(
        err,
        format!(
            "Error: could not make a temporary file in {} for the plan's changes (set TMPDIR to a writable folder)\n  caused by: No such file or directory (os error 2)\n",
            gone.display()
        ),
        "what failed and where"
    );
    assert_eq!(out, "", "nothing shown");
}
