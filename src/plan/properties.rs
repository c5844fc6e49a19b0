//! Properties of the planner over generated accounts and manifests (every
//! type, two regions, five groups, explicit entries, rules of every kind),
//! checked against an oracle written from the manifest's rules in
//! DESIGN.md. `PROPTEST_CASES=10000 cargo test properties` runs more cases.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::resource::Resource;

const REGIONS: [&str; 2] = ["cn-hangzhou", "cn-shanghai"];
const GROUPS: usize = 5;

fn group_id(g: usize) -> String {
    format!("rg-{g}")
}

fn id_of(rtype: ResourceType, n: u8) -> String {
    format!("{}p{n}", rtype.id_prefix().unwrap_or("key"))
}

#[derive(Debug, Clone)]
struct GenResource {
    rtype: usize,
    region: usize,
    n: u8,
    group: usize,
    team_a: bool,
    pay: bool,
}

impl GenResource {
    fn key(&self) -> ResourceKey {
        let rtype = ResourceType::ALL[self.rtype];
        ResourceKey {
            rtype,
            region: REGIONS[self.region].into(),
            id: id_of(rtype, self.n),
        }
    }
}

#[derive(Debug, Clone)]
struct GenRule {
    types: Option<Vec<usize>>,
    team_a: Option<bool>,
    pay: Option<bool>,
    in_group: Option<usize>,
    region: Option<usize>,
}

#[derive(Debug, Clone)]
struct GenGroup {
    by_name: bool,
    explicit: Vec<(usize, usize, u8)>,
    rules: Vec<GenRule>,
}

fn resource() -> impl Strategy<Value = GenResource> {
    (
        0..9usize,
        0..2usize,
        0..12u8,
        0..GROUPS,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(rtype, region, n, group, team_a, pay)| GenResource {
            rtype,
            region,
            n,
            group,
            team_a,
            pay,
        })
}

fn rule() -> impl Strategy<Value = GenRule> {
    (
        proptest::option::of(proptest::collection::vec(0..9usize, 1..4)),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(0..GROUPS),
        proptest::option::of(0..2usize),
    )
        .prop_map(|(types, team_a, pay, in_group, region)| GenRule {
            types,
            team_a,
            pay,
            in_group,
            region,
        })
}

fn group() -> impl Strategy<Value = GenGroup> {
    (
        any::<bool>(),
        proptest::collection::vec((0..9usize, 0..2usize, 0..14u8), 0..5),
        proptest::collection::vec(rule(), 0..3),
    )
        .prop_map(|(by_name, explicit, rules)| GenGroup {
            by_name,
            explicit,
            rules,
        })
}

/// An account and a manifest: resources, and up to five manifest groups
/// (one per account group, `None` for a group the manifest leaves out).
fn world() -> impl Strategy<Value = (Vec<GenResource>, Vec<Option<GenGroup>>)> {
    (
        proptest::collection::vec(resource(), 0..40),
        proptest::collection::vec(proptest::option::of(group()), GROUPS),
    )
}

fn inventory(resources: &[GenResource]) -> Inventory {
    let groups = (0..GROUPS)
        .map(|g| Group {
            id: group_id(g),
            name: format!("g{g}"),
            status: "OK".into(),
        })
        .collect();
    let resources = resources
        .iter()
        .map(|r| {
            let key = r.key();
            let resource = Resource {
                key: key.clone(),
                name: format!("{}-{}", if r.pay { "pay" } else { "web" }, r.n),
                group_id: group_id(r.group),
                tags: vec![("team".into(), if r.team_a { "a" } else { "b" }.into())],
            };
            (key, resource)
        })
        .collect();
    Inventory { groups, resources }
}

/// The manifest's text, with each explicit resource kept in the first group
/// that names it (two would be a manifest error, tested elsewhere).
fn manifest_text(groups: &[Option<GenGroup>]) -> Option<String> {
    let mut text = format!("version: 1\nregions: [{}]\ngroups:\n", REGIONS.join(", "));
    let mut named = BTreeSet::new();
    let mut any = false;
    for (g, spec) in groups.iter().enumerate() {
        let Some(spec) = spec else { continue };
        let explicit: Vec<_> = spec.explicit.iter().filter(|e| named.insert(**e)).collect();
        if explicit.is_empty() && spec.rules.is_empty() {
            continue;
        }
        any = true;
        let key = if spec.by_name {
            format!("g{g}")
        } else {
            group_id(g)
        };
        text.push_str(&format!("  {key}:\n"));
        if !explicit.is_empty() {
            text.push_str("    resources:\n");
            for (t, r, n) in explicit {
                let rtype = ResourceType::ALL[*t];
                text.push_str(&format!(
                    "      - {{type: {rtype}, id: {}, region: {}}}\n",
                    id_of(rtype, *n),
                    REGIONS[*r]
                ));
            }
        }
        if !spec.rules.is_empty() {
            text.push_str("    select:\n");
            for rule in &spec.rules {
                let mut keys = Vec::new();
                if let Some(types) = &rule.types {
                    let names: Vec<&str> = types
                        .iter()
                        .map(|t| ResourceType::ALL[*t].as_str())
                        .collect();
                    keys.push(format!("type: [{}]", names.join(", ")));
                }
                if let Some(a) = rule.team_a {
                    keys.push(format!("tags: {{team: {}}}", if a { "a" } else { "b" }));
                }
                if let Some(pay) = rule.pay {
                    keys.push(format!("name: \"{}-*\"", if pay { "pay" } else { "web" }));
                }
                if let Some(g) = rule.in_group {
                    keys.push(format!("in_group: g{g}"));
                }
                if let Some(r) = rule.region {
                    keys.push(format!("region: {}", REGIONS[r]));
                }
                text.push_str(&format!("      - {{{}}}\n", keys.join(", ")));
            }
        }
    }
    any.then_some(text)
}

/// Why the oracle expects no plan.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    /// Rules of two groups match one resource.
    Conflict,
    /// After the moves, the manifest would move something again.
    Unsettled,
}

/// What the manifest asks for each resource, from DESIGN.md's rules: an
/// explicit entry wins; otherwise the groups whose rules all match. And the
/// planner's promise of convergence: moved resources must stay put.
fn oracle(
    resources: &[GenResource],
    groups: &[Option<GenGroup>],
) -> Result<BTreeMap<ResourceKey, String>, Refused> {
    let wanted = assignments(resources, groups)?;
    let moved: Vec<GenResource> = resources
        .iter()
        .map(|r| {
            let key = r.key();
            let mut after = r.clone();
            if let Some(g) = wanted.get(&key) {
                after.group = g.trim_start_matches("rg-").parse().unwrap_or(r.group);
            }
            after
        })
        .collect();
    match assignments(&moved, groups) {
        Ok(next)
            if next
                .iter()
                .all(|(k, g)| wanted.get(k).is_none_or(|w| w == g)) =>
        {
            Ok(wanted)
        }
        _ => Err(Refused::Unsettled),
    }
}

fn assignments(
    resources: &[GenResource],
    groups: &[Option<GenGroup>],
) -> Result<BTreeMap<ResourceKey, String>, Refused> {
    let mut named = BTreeMap::new();
    for (g, spec) in groups.iter().enumerate() {
        for e in spec.iter().flat_map(|s| &s.explicit) {
            named.entry(*e).or_insert(g);
        }
    }
    let mut wanted = BTreeMap::new();
    for r in resources {
        let key = r.key();
        if let Some(g) = named.get(&(r.rtype, r.region, r.n)) {
            wanted.insert(key, group_id(*g));
            continue;
        }
        let matching: BTreeSet<usize> = groups
            .iter()
            .enumerate()
            .filter_map(|(g, spec)| spec.as_ref().map(|s| (g, s)))
            .filter(|(_, spec)| {
                spec.rules.iter().any(|rule| {
                    rule.types.as_ref().is_none_or(|t| t.contains(&r.rtype))
                        && rule.team_a.is_none_or(|a| a == r.team_a)
                        && rule.pay.is_none_or(|p| p == r.pay)
                        && rule.in_group.is_none_or(|g| g == r.group)
                        && rule.region.is_none_or(|reg| reg == r.region)
                })
            })
            .map(|(g, _)| g)
            .collect();
        match matching.len() {
            0 => {}
            1 => {
                wanted.insert(key, group_id(*matching.iter().next().unwrap_or(&0)));
            }
            _ => return Err(Refused::Conflict),
        }
    }
    Ok(wanted)
}

fn run(manifest: &Manifest, inventory: &Inventory) -> Result<Plan, PlanError> {
    let now = chrono::DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
    plan(
        manifest,
        inventory,
        PlanOptions {
            ignore_missing: true,
        },
        now,
    )
}

proptest! {
    #[test]
    fn the_plan_does_what_the_manifest_says((generated, groups) in world()) {
        // One resource per (type, region, id), as in an account.
        let mut seen = BTreeSet::new();
        let resources: Vec<GenResource> =
            generated.into_iter().filter(|r| seen.insert((r.rtype, r.region, r.n))).collect();
        let Some(text) = manifest_text(&groups) else { return Ok(()) };
        let manifest = Manifest::parse("m.yaml", &text).expect("generated manifests are valid");
        let mut account = inventory(&resources);
        let result = run(&manifest, &account);
        let expected = oracle(&resources, &groups);

        // A conflict is reported if and only if one exists.
        match (&result, &expected) {
            (Err(PlanError::Conflict(_)), Err(Refused::Conflict)) => return Ok(()),
            (Err(PlanError::Unsettled(_)), Err(Refused::Unsettled)) => return Ok(()),
            (Ok(_), Ok(_)) => {}
            (other, _) => prop_assert!(false, "planner {:?}, oracle {:?}\n{}", other.as_ref().map(|p| p.changes.len()), expected, text),
        }
        let plan = result.expect("checked above");
        let expected = expected.expect("checked above");

        // Only resources the manifest mentions move, each to its group and
        // from where the account had it.
        for change in &plan.changes {
            let wanted = expected.get(&change.resource);
            prop_assert_eq!(wanted, Some(&change.to.id), "{} moved but the manifest says {:?}", change.resource, wanted);
            prop_assert_eq!(&change.from.id, &account.resources[&change.resource].group_id);
        }
        // Every resource not where the manifest wants it moves; the rest
        // counts as unchanged.
        let misplaced = expected.iter().filter(|(k, g)| account.resources[*k].group_id != **g).count();
        prop_assert_eq!(plan.changes.len(), misplaced);
        prop_assert_eq!(plan.unchanged, expected.len() - misplaced);

        // Deterministic, to the byte.
        let again = run(&manifest, &account).expect("the same inputs plan the same");
        prop_assert_eq!(serde_json::to_string(&plan).ok(), serde_json::to_string(&again).ok());

        // After applying it there is nothing left to do.
        for change in &plan.changes {
            if let Some(resource) = account.resources.get_mut(&change.resource) {
                resource.group_id = change.to.id.clone();
            }
        }
        let after = run(&manifest, &account).expect("the applied account plans");
        prop_assert!(after.changes.is_empty(), "{} changes after applying", after.changes.len());
    }
}

proptest! {
    #[test]
    fn the_plan_file_loader_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Plan::from_json(&bytes);
    }

    #[test]
    fn the_plan_file_loader_never_panics_on_json(
        version in prop_oneof![Just(serde_json::json!(1)), any::<i64>().prop_map(serde_json::Value::from), Just(serde_json::Value::Null)],
        changes in proptest::collection::vec(("[a-z]{0,8}", "[a-z-]{0,12}"), 0..4),
        drop_field in 0usize..10,
    ) {
        let mut plan = serde_json::json!({
            "format_version": version,
            "manifest": {"file": "m.yaml", "sha256": "00"},
            "created_at": "2026-01-01T00:00:00Z",
            "changes": changes.iter().map(|(t, id)| serde_json::json!({
                "resource": {"type": t, "region": "cn-hangzhou", "id": id},
                "name": "", "from": {"id": "rg-a", "name": "a"}, "to": {"id": "rg-b", "name": "b"},
                "source": {"file": "m.yaml", "line": 1, "column": 1}
            })).collect::<Vec<_>>(),
            "unchanged": 0, "missing": [], "warnings": [], "groups": [], "checksum": ""
        });
        let fields = ["format_version", "manifest", "created_at", "changes", "unchanged", "missing", "warnings", "groups", "checksum"];
        if let Some(field) = fields.get(drop_field) {
            plan.as_object_mut().map(|o| o.remove(*field));
        }
        let _ = Plan::from_json(plan.to_string().as_bytes());
    }
}
