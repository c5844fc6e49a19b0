//! `regroup history` and `plan --who` for resources of other services than
//! ECS: their moves are Resource Manager `MoveResources` calls, whose
//! ActionTrail events no source describes well enough to read
//! (docs/sources/actiontrail.md §5), so both say the moves are not read,
//! without a call, instead of reporting that none were made.

use regroup::resource::ResourceType;

use crate::harness::{assert_has_line, Setup};
use crate::history::{last_movers, lookups};

/// What both commands say, after the resource.
const UNREAD: &str = "not read: other services' resources move by Resource Manager's MoveResources, whose ActionTrail events regroup does not read (docs/sources/actiontrail.md §5)";

fn eip() -> ResourceType {
    "eip:eip".parse().expect("a known type")
}

#[test]
fn history_of_another_services_resource_says_its_moves_are_not_read() {
    let env = Setup::new()
        .resource(eip(), "eip-bp1moved", Some("rg-prod"))
        .start();
    let (code, out, err) = env.run(&["history", "eip:eip/eip-bp1moved", "--region", "cn-hangzhou"]);
    assert_eq!(code, 1, "not an empty history: {out}{err}");
    assert_has_line(&err, &format!("Error: `eip:eip/eip-bp1moved`: {UNREAD}"));
    assert!(
        env.requests().is_empty(),
        "no call is made: {:?}",
        env.requests()
    );
}

#[test]
fn plan_who_looks_up_the_ecs_resources_and_says_the_others_are_not_read() {
    let env = Setup::new()
        .instances(1)
        .resource(eip(), "eip-bp1drift", None)
        .manifest(
            "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-bp1test00000\n      - eip:eip/eip-bp1drift\n",
        )
        .start();
    let who = last_movers(&env);
    assert_eq!(
        who,
        format!(
            "  instance/i-bp1test00000 (cn-hangzhou): no move recorded in the last 30 days\n  eip:eip/eip-bp1drift (cn-hangzhou): {UNREAD}\n"
        ),
        "the instance looked up, the EIP said to be unread"
    );
    assert_eq!(lookups(&env), 1, "one LookupEvents, for the instance alone");
}

/// Past `plan --who`'s budget of 20 LookupEvents calls, the ECS resources
/// left are counted as not looked up; another service's resource, which
/// needs no call (and sorts after every ECS type), is still said to be
/// unread rather than counted among them.
#[test]
fn plan_who_past_its_budget_still_says_the_others_are_not_read() {
    let env = Setup::new()
        .instances(22)
        .resource(eip(), "eip-bp1drift", None)
        .manifest(
            "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: instance\n    resources:\n      - eip:eip/eip-bp1drift\n",
        )
        .start();
    let who = last_movers(&env);
    let lines: Vec<&str> = who.lines().collect();
    assert_eq!(
        lines[20..],
        [
            format!("  eip:eip/eip-bp1drift (cn-hangzhou): {UNREAD}").as_str(),
            "Stopped early: 20 LookupEvents calls made; 2 resource(s) not looked up.",
        ],
        "20 instances looked up, the EIP said to be unread, the 2 instances left counted: {who}"
    );
    assert_eq!(lookups(&env), 20, "the budget, all spent on instances");
}
