//! `regroup history TYPE/ID` (issue 29): who moved a resource, from the
//! emulator's ActionTrail `LookupEvents`.

use regroup::resource::ResourceType;

use crate::harness::{assert_has_line, Running, Setup, ALL_INTO_PROD};
use crate::reconcile::sdk_move;
use crate::text::indoc;

const SDK_KEY: &str = "LTAIsdkuser";
const SDK_SECRET: &str = "sdk-secret";

#[test]
fn history_names_the_access_key_that_moved_it_and_when() {
    let env = Setup::new()
        .key(SDK_KEY, SDK_SECRET, None)
        .resource(ResourceType::Instance, "i-bp1moved", None)
        .manifest(ALL_INTO_PROD)
        .start();
    let (code, out, err) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}{err}");
    // Then someone else moves it, with the official SDK.
    sdk_move(&env, SDK_KEY, SDK_SECRET, "i-bp1moved", "rg-dev");
    let before = chrono::Utc::now();

    let (code, out, err) = env.run(&["history", "instance/i-bp1moved", "--region", "cn-hangzhou"]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "instance/i-bp1moved in cn-hangzhou: 2 membership change(s) in the last 90 days, newest first",
        "{out}"
    );
    // Newest first: the SDK's move, from prod to dev, under its key.
    let (time, rest) = lines[1]
        .trim_start()
        .split_once("  ")
        .expect("a time first");
    let at = chrono::DateTime::parse_from_rfc3339(time).expect("an RFC 3339 time");
    assert!(
        (before - at.with_timezone(&chrono::Utc))
            .num_seconds()
            .abs()
            < 600,
        "the move's time: {time}"
    );
    assert_eq!(
        rest,
        format!("prod (rg-prod) -> dev (rg-dev)  by ram-user {SDK_KEY}, access key {SDK_KEY}"),
        "{out}"
    );
    assert!(
        lines[2].ends_with(&format!(
            "? -> prod (rg-prod)  by ram-user {}, access key {}",
            crate::harness::KEY_ID,
            crate::harness::KEY_ID
        )),
        "regroup's own move, under its key: {out}"
    );
    let lookups: Vec<_> = env
        .requests()
        .into_iter()
        .filter(|r| r.action == "LookupEvents")
        .collect();
    assert!(
        lookups.iter().all(
            |r| r.params.get("MaxResults").map(String::as_str) == Some("50")
                && r.params.get("LookupAttribute.1.Value").map(String::as_str)
                    == Some("i-bp1moved")
        ),
        "every lookup is one resource's, at most 50 events: {lookups:?}"
    );
    assert_eq!(lookups.len(), 3, "three 30-day windows cover the 90 days");

    // The group's side: the moves into dev.
    let (code, out, err) = env.run(&["history", "group/dev", "--region", "cn-hangzhou"]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "group/dev in cn-hangzhou: 1 move(s) into the group in the last 90 days, newest first",
        "{out}"
    );
    assert!(
        lines[1].ends_with(&format!(
            "  i-bp1moved -> dev (rg-dev)  by ram-user {SDK_KEY}, access key {SDK_KEY}"
        )),
        "{out}"
    );
    assert_eq!(lines.len(), 2, "{out}");
}

#[test]
fn history_stops_at_its_call_budget_and_says_so() {
    let env = Setup::new()
        .resource(ResourceType::Instance, "i-bp1moved", None)
        .manifest(ALL_INTO_PROD)
        .start();
    let (code, out, err) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = env.run(&[
        "history",
        "instance/i-bp1moved",
        "--region",
        "cn-hangzhou",
        "--max-calls",
        "1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.ends_with(
            "Stopped early: stopped after 1 LookupEvents call(s); older moves were not read\n"
        ),
        "{out}"
    );
    assert_has_line(&out, "instance/i-bp1moved in cn-hangzhou: 1 membership change(s) in the last 90 days, newest first");
}

#[test]
fn history_wants_type_slash_id_and_a_region() {
    let env = Setup::new().start();
    let (code, _, err) = env.run(&["history", "i-bp1moved", "--region", "cn-hangzhou"]);
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert_has_line(
        &err,
        "Error: `i-bp1moved` is not TYPE/ID (instance/i-bp1…) or group/NAME",
    );
    let (code, _, err) = env.run(&["history", "instance/i-bp1moved"]);
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert_has_line(
        &err,
        "Error: history needs the region to read: pass one --region",
    );
    assert!(env.requests().is_empty(), "no call for bad input");
}

#[test]
fn plan_who_names_the_last_mover_of_each_drifted_resource_within_its_budget() {
    let env = Setup::new()
        .instances(22)
        .manifest(&indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              dev:
                select:
                  - type: instance
            ",
        ))
        .start();
    // Everything into prod first: then all 22 drift from dev.
    let prod = env.write("prod.yaml", ALL_INTO_PROD);
    let (code, out, err) = env.run(&["apply", "--auto-approve", "-f", prod.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let who = last_movers(&env);
    let lines: Vec<&str> = who.lines().collect();
    assert_eq!(lines.len(), 21, "20 looked up, then the stop: {who}");
    assert!(
        lines[0].starts_with("  instance/i-bp1test00000 (cn-hangzhou): to rg-prod at ")
            && lines[0].ends_with(&format!(
                " by ram-user {}, access key {}",
                crate::harness::KEY_ID,
                crate::harness::KEY_ID
            )),
        "{who}"
    );
    assert_eq!(
        lines[20], "Stopped early: 20 LookupEvents calls made; 2 resource(s) not looked up.",
        "{who}"
    );
    assert_eq!(lookups(&env), 20, "one call per resource, 20 in all");
}

/// `plan --who`'s section of last movers, once the plan succeeds.
pub(crate) fn last_movers(env: &Running) -> String {
    let (code, out, err) = env.run(&["plan", "--who"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, who) = out
        .split_once("\nLast moved (ActionTrail, last 30 days):\n")
        .expect("a section of last movers");
    who.to_owned()
}

/// The LookupEvents calls answered (a throttled one is retried).
pub(crate) fn lookups(env: &Running) -> usize {
    env.requests()
        .iter()
        .filter(|r| r.action == "LookupEvents" && r.status == 200)
        .count()
}
