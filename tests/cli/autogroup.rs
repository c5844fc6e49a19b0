//! Automatic-transfer awareness (issue 15): plan marks the moves a Resource
//! Manager auto-grouping rule would undo, apply skips them unless
//! `--override-rules`. That the emulator's answers have the official SDK
//! models' shape is tested beside it (src/emulator/autogroup.rs).

use regroup::emulator::autogroup::{AutoGrouping, Rule, RuleMatch};
use regroup::emulator::fleet::FleetGroup;
use regroup::resource::ResourceType;
use serde_json::Value;

use crate::harness::{assert_has_line, read_json, stdout_of, Running, Setup};

const TAGGED: &str = "i-bp1teama0001";
const OTHER: &str = "i-bp1teamx0002";

/// `team=a` → `team-a`, and a manifest placing every instance in `team-b`.
const INTO_TEAM_B: &str = "\
version: 1
regions: [cn-hangzhou]
groups:
  team-b:
    select:
      - type: instance
";

fn group(id: &str, name: &str) -> FleetGroup {
    FleetGroup {
        id: id.into(),
        name: name.into(),
        default: false,
        display_name: None,
        status: None,
    }
}

/// An account with groups team-a and team-b, an instance tagged `team=a`
/// and one untagged, both in the default group, and a rule moving
/// `team=a` to team-a when `enabled`.
fn setup(enabled: bool) -> Setup {
    let mut setup = Setup::new()
        .resource(ResourceType::Instance, TAGGED, None)
        .resource(ResourceType::Instance, OTHER, None)
        .manifest(INTO_TEAM_B);
    setup
        .fleet
        .resource_groups
        .extend([group("rg-teama", "team-a"), group("rg-teamb", "team-b")]);
    if let Some(tagged) = setup.fleet.resources.iter_mut().find(|r| r.id == TAGGED) {
        tagged.tags.insert("team".into(), "a".into());
    }
    setup.fleet.auto_grouping = Some(AutoGrouping {
        enabled,
        rules: vec![Rule {
            id: "gr-teama".into(),
            name: "team-a owns team=a".into(),
            target_group: "team-a".into(),
            matches: RuleMatch {
                rtype: Some(ResourceType::Instance),
                tags: [("team".to_owned(), "a".to_owned())].into(),
                name: None,
            },
        }],
        delay_ms: 0,
        associated_transfer: false,
    });
    setup
}

const RULE: &str = "auto-grouping rule \"team-a owns team=a\" (gr-teama)";

#[test]
fn plan_marks_the_move_a_rule_would_undo_in_every_format() {
    let env = setup(true).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .skip_while(|l| !l.contains(TAGGED))
        .nth(1)
        .unwrap_or_default();
    assert!(line.contains(&format!("! conflicts with {RULE}")), "{out}");
    assert_has_line(
        &out,
        "Plan: 2 to move (1 against an auto-grouping rule), 0 unchanged.",
    );
    // The untagged instance is not marked.
    assert_eq!(out.matches("conflicts with").count(), 1, "{out}");

    let (code, out, err) = stdout_of(env.regroup(&["plan", "--format", "markdown"]));
    assert_eq!(code, 0, "{err}");
    let row = out.lines().find(|l| l.contains(TAGGED)).unwrap_or_default();
    assert!(
        row.contains(&format!("team-b ⚠ conflicts with {RULE}")),
        "{out}"
    );

    let (code, out, err) = stdout_of(env.regroup(&["plan", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).expect("a JSON plan");
    let conflicts: Vec<(&str, &Value)> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["resource"]["id"].as_str().unwrap_or_default(),
                &c["conflict"],
            )
        })
        .collect();
    assert_eq!(
        conflicts,
        [
            (
                TAGGED,
                &serde_json::json!({"id": "gr-teama", "name": "team-a owns team=a"})
            ),
            (OTHER, &Value::Null),
        ],
        "each move a rule would undo names that rule, the other none: {conflicts:?}"
    );
}

#[test]
fn a_disabled_feature_marks_nothing() {
    let env = setup(false).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("conflicts with"), "{out}");
    assert_has_line(&out, "Plan: 2 to move, 0 unchanged.");
}

fn apply_with_report(env: &Running, extra: &[&str]) -> (i32, String, Value) {
    let report = env.path("report.json");
    let mut args = vec![
        "apply",
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = stdout_of(env.regroup(&args));
    (code, format!("{out}{err}"), read_json(&report))
}

#[test]
fn apply_skips_a_move_against_a_rule_and_exits_1_naming_it() {
    let env = setup(true).start();
    let (code, out, report) = apply_with_report(&env, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("skipped: {RULE} would move it back")),
        "{out}"
    );
    let outcome = report["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .find(|o| o["change"]["resource"]["id"] == TAGGED)
        .expect("the skipped move is reported");
    assert_eq!(outcome["status"], "not_started", "{outcome}");
    assert!(
        outcome["message"]
            .as_str()
            .unwrap_or_default()
            .contains(RULE),
        "{outcome}"
    );
    // Only the other instance was moved.
    let joined: Vec<String> = env
        .requests()
        .iter()
        .filter(|r| r.action == "JoinResourceGroup")
        .filter_map(|r| r.params.get("ResourceId").cloned())
        .collect();
    assert_eq!(joined, [OTHER], "only the move no rule undoes is made");
    assert_eq!(
        env.group_of(TAGGED),
        "rg-default",
        "{TAGGED} should end in rg-default"
    );
    assert_eq!(
        env.group_of(OTHER),
        "rg-teamb",
        "{OTHER} should end in rg-teamb"
    );
}

#[test]
fn override_rules_moves_it_and_warns() {
    let mut setup = setup(true);
    // Long enough for the apply to read its moves back before the rule
    // moves the instance again.
    if let Some(config) = &mut setup.fleet.auto_grouping {
        config.delay_ms = 600_000;
    }
    let env = setup.start();
    let (code, out, report) = apply_with_report(&env, &["--override-rules"]);
    assert_eq!(code, 0, "{out}");
    assert_has_line(&out, "Warning: --override-rules: moving 1 resource(s) against an auto-grouping rule, which may move them back");
    assert_eq!(report["moved"], 2, "{report}");
    assert_eq!(
        env.group_of(TAGGED),
        "rg-teamb",
        "{TAGGED} should end in rg-teamb"
    );
    assert_eq!(
        env.group_of(OTHER),
        "rg-teamb",
        "{OTHER} should end in rg-teamb"
    );
}

#[test]
fn a_rule_without_delay_undoes_the_move_before_the_next_read() {
    let env = setup(true).start();
    let (_, out, _) = apply_with_report(&env, &["--override-rules"]);
    // Exactly what the conflict warned about: the read-back finds it gone.
    assert_eq!(env.group_of(TAGGED), "rg-teama", "{out}");
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert_has_line(
        &out,
        "Plan: 1 to move (1 against an auto-grouping rule), 1 unchanged.",
    );
}

#[test]
fn without_permission_to_read_the_rules_plan_says_so_once_and_goes_on() {
    let env = setup(true)
        .deny(&["resourcemanager:GetAutoGroupingStatus"])
        .start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.matches(
            "no permission to read the automatic-transfer (auto grouping) rules and settings"
        )
        .count(),
        1,
        "{out}"
    );
    assert_has_line(&out, "Plan: 2 to move, 0 unchanged.");
}

const DISK: &str = "d-bp1attached001";
const ENI: &str = "eni-bp1attached01";

/// With associated transfer on, moving an instance moves its attached disk
/// and ENI: plan says so per instance, in every format (a warning), apply
/// moves them with it, and the re-plan has nothing left to do.
#[test]
fn associated_transfer_lists_what_follows_an_instance_and_the_replan_is_clean() {
    let mut setup = setup(true)
        .resource(ResourceType::Disk, DISK, None)
        .resource(ResourceType::Eni, ENI, None);
    if let Some(config) = &mut setup.fleet.auto_grouping {
        config.associated_transfer = true;
        config.delay_ms = 600_000;
    }
    if let Some(other) = setup.fleet.resources.iter_mut().find(|r| r.id == OTHER) {
        other.attached = vec![DISK.into(), ENI.into()];
    }
    let env = setup.start();
    let said = format!(
        "instance/{OTHER} (cn-hangzhou): associated transfer is on, so its attached resources (disk) move with it to team-b"
    );
    for format in ["text", "markdown", "json"] {
        let (code, out, err) = stdout_of(env.regroup(&["plan", "--format", format]));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&said), "{format}: {out}");
    }
    let (code, out, _) = apply_with_report(&env, &["--override-rules"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        env.group_of(DISK),
        "rg-teamb",
        "{DISK} should end in rg-teamb"
    );
    assert_eq!(
        env.group_of(ENI),
        "rg-teamb",
        "{ENI} should end in rg-teamb"
    );
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert_has_line(
        &out,
        "No changes. All 2 resources the manifest manages are in their groups.",
    );
}

#[test]
fn without_associated_transfer_nothing_follows() {
    let env = setup(true).resource(ResourceType::Disk, DISK, None).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("associated transfer is on"), "{out}");
}
