//! Snapshots of every format for the plans people will see: none, a few
//! moves, thousands of moves, missing resources and warnings.

use chrono::TimeZone;

use super::*;
use crate::manifest::Location;
use crate::plan::{
    Change, GroupRef, GroupSummary, ManifestInfo, Missing, Plan, RuleRef, FORMAT_VERSION,
};
use crate::resource::{ResourceKey, ResourceType};

fn group(name: &str) -> GroupRef {
    GroupRef::new(format!("rg-acfm{name}0001"), name)
}

fn change(n: usize, rtype: ResourceType, from: &str, to: &str) -> Change {
    Change {
        resource: ResourceKey {
            rtype,
            region: if n % 3 == 0 {
                "cn-shanghai"
            } else {
                "cn-hangzhou"
            }
            .into(),
            id: format!("{}bp1{n:05}", rtype.id_prefix().unwrap_or("key-")).into(),
        },
        name: format!("web-{n}").into(),
        from: group(from),
        to: group(to),
        source: Location {
            file: "regroup.yaml".into(),
            line: 6 + n % 40,
            column: 9,
        },
        evict: false,
        conflict: None,
        account_id: None,
    }
}

fn plan(changes: Vec<Change>, unchanged: usize) -> Plan {
    let mut groups: Vec<GroupSummary> = Vec::new();
    for c in &changes {
        for g in [&c.from, &c.to] {
            if !groups.iter().any(|s| &s.group == g) {
                groups.push(GroupSummary {
                    group: g.clone(),
                    unchanged: if &*g.name == "prod" { unchanged } else { 0 },
                    account_id: None,
                });
            }
        }
    }
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    Plan {
        format_version: FORMAT_VERSION,
        manifest: ManifestInfo {
            file: "regroup.yaml".into(),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        },
        created_at: chrono::Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .unwrap(),
        accounts: Vec::new(),
        changes,
        evictions: 0,
        unchanged,
        missing: Vec::new(),
        warnings: Vec::new(),
        groups,
        undo: false,
        undoes: None,
        merged_from: Vec::new(),
        checksum: String::new(),
    }
    .seal()
}

fn few() -> Plan {
    plan(
        vec![
            change(1, ResourceType::Instance, "default", "prod"),
            change(2, ResourceType::Disk, "legacy", "prod"),
            change(3, ResourceType::KeyPair, "default", "dev"),
        ],
        4,
    )
}

fn many() -> Plan {
    let types = [
        ResourceType::Instance,
        ResourceType::Disk,
        ResourceType::Snapshot,
    ];
    let changes = (0..5_000)
        .map(|n| {
            change(
                n,
                types[n % 3],
                if n % 2 == 0 { "legacy" } else { "default" },
                "prod",
            )
        })
        .collect();
    plan(changes, 120)
}

fn with_missing_and_warnings() -> Plan {
    let mut plan = few();
    plan.missing.push(Missing {
        rtype: ResourceType::Instance,
        id: "i-bp1gone".into(),
        regions: vec!["cn-hangzhou".into()],
        source: Location {
            file: "regroup.yaml".into(),
            line: 9,
            column: 9,
        },
        account_id: None,
    });
    plan.warnings = vec![
        "regroup.yaml:9:9: instance/i-bp1gone does not exist in cn-hangzhou; ignored".into(),
        "regroup.yaml:14:9: this select rule matches no resource".into(),
    ];
    plan.seal()
}

fn all(plan: &Plan) -> [(String, String); 4] {
    [
        ("text".into(), Text { color: false }.render(plan)),
        ("text-color".into(), Text { color: true }.render(plan)),
        ("json".into(), Json.render(plan)),
        ("markdown".into(), Markdown.render(plan)),
    ]
}

#[test]
fn no_changes() {
    for (format, output) in all(&plan(Vec::new(), 7)) {
        insta::assert_snapshot!(format!("no_changes_{format}"), output);
    }
}

#[test]
fn a_few_moves() {
    for (format, output) in all(&few()) {
        insta::assert_snapshot!(format!("few_{format}"), output);
    }
}

/// Two moves the manifest asks for and two evictions from an exclusive
/// `prod` to the default group.
fn with_evictions() -> Plan {
    let mut changes = vec![
        change(1, ResourceType::Instance, "legacy", "prod"),
        change(2, ResourceType::Disk, "default", "prod"),
        change(4, ResourceType::Instance, "prod", "default"),
        change(5, ResourceType::Disk, "prod", "default"),
    ];
    for eviction in &mut changes[2..] {
        eviction.evict = true;
        eviction.source.line = 4;
        eviction.source.column = 3;
    }
    let mut plan = plan(changes, 6);
    plan.evictions = 2;
    plan.seal()
}

#[test]
fn evictions_have_their_own_sign_and_count() {
    for (format, output) in all(&with_evictions()) {
        insta::assert_snapshot!(format!("evictions_{format}"), output);
    }
}

/// A move an auto-grouping rule would undo, beside one it would not.
fn with_conflict() -> Plan {
    let mut changes = vec![
        change(1, ResourceType::Instance, "default", "prod"),
        change(2, ResourceType::Instance, "default", "prod"),
    ];
    changes[0].conflict = Some(Box::new(RuleRef {
        id: "gr-acfo123hy6a".into(),
        name: "team-a owns team=a".into(),
    }));
    plan(changes, 3)
}

#[test]
fn conflicts_with_rules_name_the_rule() {
    for (format, output) in all(&with_conflict()) {
        insta::assert_snapshot!(format!("conflicts_{format}"), output);
    }
}

#[test]
fn missing_resources_and_warnings() {
    for (format, output) in all(&with_missing_and_warnings()) {
        insta::assert_snapshot!(format!("missing_and_warnings_{format}"), output);
    }
}

/// The first `head` lines, the count of those left out, and the last `tail`.
fn ends(text: &str, head: usize, tail: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= head + tail {
        return text.to_owned();
    }
    format!(
        "{}\n[... {} lines ...]\n{}\n",
        lines[..head].join("\n"),
        lines.len() - head - tail,
        lines[lines.len() - tail..].join("\n")
    )
}

#[test]
fn five_thousand_moves_start_with_a_summary() {
    let plan = many();
    let text = Text { color: false }.render(&plan);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  ~ ")).count(),
        5_000
    );
    assert!(
        !text.contains("Groups, before → after:\n"),
        "the per-group view is left out"
    );
    assert!(
        text.contains("(Groups, before → after) is left out above 50 moves"),
        "and the text says so"
    );
    insta::assert_snapshot!("many_text", ends(&text, 12, 3));
    insta::assert_snapshot!(
        "many_text-color",
        ends(&Text { color: true }.render(&plan), 12, 3)
    );

    let json = Json.render(&plan);
    let parsed: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, plan, "the JSON form reads back as the same plan");
    insta::assert_snapshot!("many_json", ends(&json, 30, 20));

    let markdown = Markdown.render(&plan);
    assert!(
        markdown.len() <= markdown::COMMENT_LIMIT,
        "{} characters",
        markdown.len()
    );
    assert!(markdown.contains("more moves are not shown"));
    assert!(
        markdown.contains("| legacy | prod | 2500 ("),
        "the grouped summary comes first"
    );
    insta::assert_snapshot!("many_markdown", ends(&markdown, 8, 6));
}

#[test]
fn thousands_of_warnings_leave_the_moves_shown_and_the_comment_within_the_limit() {
    let mut plan = few();
    plan.warnings = (0..3_000)
        .map(|n| format!("regroup.yaml:{n}:9: instance/i-bp1gone{n:05} does not exist in cn-hangzhou; ignored"))
        .collect();
    let plan = plan.seal();
    let markdown = Markdown.render(&plan);
    assert!(
        markdown.len() <= markdown::COMMENT_LIMIT,
        "{} characters",
        markdown.len()
    );
    for change in &plan.changes {
        assert!(markdown.contains(&format!(
            "`{}/{}`",
            change.resource.rtype, change.resource.id
        )));
    }
    let shown = markdown.matches("> **Warning:**").count();
    assert!(shown > 100 && shown < 3_000, "{shown} warnings shown");
    assert!(
        markdown.contains(&format!("… {} more warnings are not shown", 3_000 - shown)),
        "{}",
        ends(&markdown, 0, 3)
    );
    assert!(
        markdown.find("</details>") < markdown.find("> **Warning:**"),
        "moves first"
    );
}

/// Names from the account or the manifest with a newline, ESC and markdown
/// syntax in them: a hostile resource name, group name, rule name and
/// warning.
fn hostile() -> Plan {
    let mut change = change(1, ResourceType::Instance, "legacy", "prod");
    change.name = "web\n# Owned\n[click](http://evil) | x".into();
    change.to = GroupRef::new(change.to.id.clone(), "prod\u{1b}[2J");
    change.conflict = Some(Box::new(crate::plan::RuleRef {
        id: "rule-1".into(),
        name: "r\n## heading".into(),
    }));
    let mut plan = plan(vec![change], 0);
    plan.warnings = vec!["m.yaml:3:5: group `a\nb` \u{1b}]8;;http://evil\u{7}".into()];
    plan
}

#[test]
fn hostile_names_reach_no_terminal_as_control_characters() {
    let text = Text { color: false }.render(&hostile());
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the terminal: {text:?}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with('#') || l.starts_with("[click]")),
        "a name's newline started a line of its own: {text}"
    );
    assert!(
        text.contains("rule \"r\\u{a}## heading\" (rule-1)"),
        "{text}"
    );
}

#[test]
fn hostile_names_open_no_markdown_structure() {
    let markdown = Markdown.render(&hostile());
    assert!(
        !markdown.chars().any(|c| c.is_control() && c != '\n'),
        "{markdown:?}"
    );
    let headings: Vec<&str> = markdown.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(headings, ["### regroup plan"], "{markdown}");
    let rows: Vec<&str> = markdown.lines().filter(|l| l.starts_with("| ~ ")).collect();
    assert_eq!(rows.len(), 1, "one change, one row: {markdown}");
    assert_eq!(
        rows[0].matches(" | ").count(),
        6,
        "a name's `|` made a new cell: {}",
        rows[0]
    );
    assert!(
        rows[0].contains("web\\\\u{a}\\# Owned\\\\u{a}\\[click\\](http://evil) \\| x"),
        "{}",
        rows[0]
    );
}
