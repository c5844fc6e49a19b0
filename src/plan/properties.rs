//! Properties of the planner over generated accounts and manifests (every
//! type, two regions, five groups, resources with and without each of two
//! tag keys; explicit entries with and without a region, some of them
//! missing from the account; rules of every kind; one or both regions as the
//! manifest's default; `--ignore-missing` on and off), checked against an
//! oracle written from the manifest rules of docs/manifest.md.
//! `PROPTEST_CASES=10000 cargo test properties` runs more cases.

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

/// The value of an optional tag: `team` is `a` or `b`, `env` is `prod` or
/// `dev`.
fn team(a: bool) -> &'static str {
    if a {
        "a"
    } else {
        "b"
    }
}

fn env(prod: bool) -> &'static str {
    if prod {
        "prod"
    } else {
        "dev"
    }
}

#[derive(Debug, Clone)]
struct GenResource {
    rtype: usize,
    region: usize,
    n: u8,
    group: usize,
    /// The `team` tag, if the resource has one.
    team: Option<bool>,
    /// The `env` tag, if the resource has one.
    env: Option<bool>,
    pay: bool,
}

impl GenResource {
    fn key(&self) -> ResourceKey {
        let rtype = ResourceType::ALL[self.rtype];
        ResourceKey {
            rtype,
            region: REGIONS[self.region].into(),
            id: id_of(rtype, self.n).into(),
        }
    }
}

#[derive(Debug, Clone)]
struct GenRule {
    types: Option<Vec<usize>>,
    team: Option<bool>,
    env: Option<bool>,
    pay: Option<bool>,
    in_group: Option<usize>,
    region: Option<usize>,
}

/// An explicit entry: type, region (`None`: the manifest's default
/// regions), id number. Ids 12 and 13 are never in the account.
type GenEntry = (usize, Option<usize>, u8);

#[derive(Debug, Clone)]
struct GenGroup {
    by_name: bool,
    explicit: Vec<GenEntry>,
    rules: Vec<GenRule>,
}

/// An account and a manifest.
#[derive(Debug, Clone)]
struct World {
    resources: Vec<GenResource>,
    /// One per account group, `None` for a group the manifest leaves out.
    groups: Vec<Option<GenGroup>>,
    /// Indexes into [`REGIONS`]: the manifest's `regions`.
    defaults: Vec<usize>,
    ignore_missing: bool,
}

fn resource() -> impl Strategy<Value = GenResource> {
    (
        0..9usize,
        0..2usize,
        0..12u8,
        0..GROUPS,
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(|(rtype, region, n, group, team, env, pay)| GenResource {
            rtype,
            region,
            n,
            group,
            team,
            env,
            pay,
        })
}

fn rule() -> impl Strategy<Value = GenRule> {
    (
        proptest::option::of(proptest::collection::vec(0..9usize, 1..4)),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(0..GROUPS),
        proptest::option::of(0..2usize),
    )
        .prop_map(|(types, team, env, pay, in_group, region)| GenRule {
            types,
            team,
            env,
            pay,
            in_group,
            region,
        })
}

fn group() -> impl Strategy<Value = GenGroup> {
    (
        any::<bool>(),
        proptest::collection::vec((0..9usize, proptest::option::of(0..2usize), 0..14u8), 0..5),
        proptest::collection::vec(rule(), 0..3),
    )
        .prop_map(|(by_name, explicit, rules)| GenGroup {
            by_name,
            explicit,
            rules,
        })
}

fn world() -> impl Strategy<Value = World> {
    (
        proptest::collection::vec(resource(), 0..40),
        proptest::collection::vec(proptest::option::of(group()), GROUPS),
        prop_oneof![Just(vec![0]), Just(vec![1]), Just(vec![0, 1])],
        any::<bool>(),
    )
        .prop_map(|(generated, groups, defaults, ignore_missing)| {
            // One resource per (type, region, id), as in an account.
            let mut seen = BTreeSet::new();
            let resources = generated
                .into_iter()
                .filter(|r| seen.insert((r.rtype, r.region, r.n)))
                .collect();
            World {
                resources,
                groups,
                defaults,
                ignore_missing,
            }
        })
}

fn inventory(resources: &[GenResource]) -> Inventory {
    let groups = (0..GROUPS)
        .map(|g| Group {
            id: group_id(g).into(),
            name: format!("g{g}").into(),
            status: "OK".into(),
        })
        .collect();
    let resources = resources
        .iter()
        .map(|r| {
            let key = r.key();
            let mut tags = Vec::new();
            if let Some(a) = r.team {
                tags.push(("team".into(), team(a).into()));
            }
            if let Some(prod) = r.env {
                tags.push(("env".into(), env(prod).into()));
            }
            let resource = Resource {
                key: key.clone(),
                name: format!("{}-{}", if r.pay { "pay" } else { "web" }, r.n).into(),
                group_id: group_id(r.group).into(),
                tags: tags.into(),
            };
            (key, resource)
        })
        .collect();
    Inventory { groups, resources }
}

impl World {
    /// The regions an entry is looked for in.
    fn regions_of(&self, entry: &GenEntry) -> Vec<usize> {
        entry.1.map_or_else(|| self.defaults.clone(), |r| vec![r])
    }

    /// Each group's explicit entries as the manifest lists them: an entry
    /// is left out when a group before it (or an entry before it) already
    /// names the resource in one of its regions, which would be a manifest
    /// error, tested elsewhere.
    fn entries(&self) -> Vec<Vec<GenEntry>> {
        let mut named = BTreeSet::new();
        self.groups
            .iter()
            .map(|spec| {
                let Some(spec) = spec else { return Vec::new() };
                spec.explicit
                    .iter()
                    .filter(|e| {
                        let identities: Vec<_> = self
                            .regions_of(e)
                            .into_iter()
                            .map(|r| (e.0, r, e.2))
                            .collect();
                        let free = identities.iter().all(|i| !named.contains(i));
                        if free {
                            named.extend(identities);
                        }
                        free
                    })
                    .copied()
                    .collect()
            })
            .collect()
    }

    /// The manifest's text, or `None` when it would have no group.
    fn manifest_text(&self) -> Option<String> {
        let defaults: Vec<&str> = self.defaults.iter().map(|r| REGIONS[*r]).collect();
        let mut text = format!("version: 1\nregions: [{}]\ngroups:\n", defaults.join(", "));
        let mut any = false;
        for (g, (spec, explicit)) in self.groups.iter().zip(self.entries()).enumerate() {
            let Some(spec) = spec else { continue };
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
                for (t, region, n) in explicit {
                    let rtype = ResourceType::ALL[t];
                    let id = id_of(rtype, n);
                    text.push_str(&match region {
                        Some(r) => format!(
                            "      - {{type: {rtype}, id: {id}, region: {}}}\n",
                            REGIONS[r]
                        ),
                        None => format!("      - {rtype}/{id}\n"),
                    });
                }
            }
            if !spec.rules.is_empty() {
                text.push_str("    select:\n");
                for rule in &spec.rules {
                    text.push_str(&format!("      - {{{}}}\n", rule_text(rule)));
                }
            }
        }
        any.then_some(text)
    }

    /// The explicit entries the account does not have: (type, id, regions
    /// looked in).
    fn missing(&self) -> Vec<(ResourceType, String, Vec<String>)> {
        let present: BTreeSet<ResourceKey> = self.resources.iter().map(GenResource::key).collect();
        self.entries()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let rtype = ResourceType::ALL[e.0];
                let id = id_of(rtype, e.2);
                let regions: Vec<String> = self
                    .regions_of(&e)
                    .into_iter()
                    .map(|r| REGIONS[r].to_owned())
                    .collect();
                let found = regions.iter().any(|region| {
                    present.contains(&ResourceKey {
                        rtype,
                        region: region.as_str().into(),
                        id: id.as_str().into(),
                    })
                });
                (!found).then_some((rtype, id, regions))
            })
            .collect()
    }
}

/// A rule's keys, in flow style.
fn rule_text(rule: &GenRule) -> String {
    let mut keys = Vec::new();
    if let Some(types) = &rule.types {
        let names: Vec<&str> = types
            .iter()
            .map(|t| ResourceType::ALL[*t].as_str())
            .collect();
        keys.push(format!("type: [{}]", names.join(", ")));
    }
    let mut tags = Vec::new();
    if let Some(a) = rule.team {
        tags.push(format!("team: {}", team(a)));
    }
    if let Some(prod) = rule.env {
        tags.push(format!("env: {}", env(prod)));
    }
    if !tags.is_empty() {
        keys.push(format!("tags: {{{}}}", tags.join(", ")));
    }
    if let Some(pay) = rule.pay {
        keys.push(format!("name: \"{}-*\"", if pay { "pay" } else { "web" }));
    }
    if let Some(g) = rule.in_group {
        keys.push(format!("in_group: g{g}"));
    }
    if keys.is_empty() {
        // A rule without a condition must say that it takes everything.
        keys.push("all: true".into());
    }
    if let Some(r) = rule.region {
        keys.push(format!("region: {}", REGIONS[r]));
    }
    keys.join(", ")
}

/// Why the oracle expects no plan.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    /// Rules of two groups match one resource.
    Conflict,
    /// After the moves, the manifest would move something again.
    Unsettled,
}

/// What the manifest asks for each resource, from the rules of docs/manifest.md: an
/// explicit entry wins; otherwise the groups whose rules all match. And the
/// planner's promise of convergence: moved resources must stay put.
fn oracle(world: &World) -> Result<BTreeMap<ResourceKey, String>, Refused> {
    let wanted = assignments(world, &world.resources)?;
    let moved: Vec<GenResource> = world
        .resources
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
    match assignments(world, &moved) {
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
    world: &World,
    resources: &[GenResource],
) -> Result<BTreeMap<ResourceKey, String>, Refused> {
    // An entry without a region names the resource in every default region.
    let mut named = BTreeMap::new();
    for (g, entries) in world.entries().iter().enumerate() {
        for e in entries {
            for r in world.regions_of(e) {
                named.insert((e.0, r, e.2), g);
            }
        }
    }
    let mut wanted = BTreeMap::new();
    for r in resources {
        let key = r.key();
        if let Some(g) = named.get(&(r.rtype, r.region, r.n)) {
            wanted.insert(key, group_id(*g));
            continue;
        }
        let matching: BTreeSet<usize> = world
            .groups
            .iter()
            .enumerate()
            .filter_map(|(g, spec)| spec.as_ref().map(|s| (g, s)))
            .filter(|(_, spec)| {
                spec.rules.iter().any(|rule| {
                    rule.types.as_ref().is_none_or(|t| t.contains(&r.rtype))
                        && rule.team.is_none_or(|a| r.team == Some(a))
                        && rule.env.is_none_or(|prod| r.env == Some(prod))
                        && rule.pay.is_none_or(|p| p == r.pay)
                        && rule.in_group.is_none_or(|g| g == r.group)
                        && rule
                            .region
                            .map_or(world.defaults.contains(&r.region), |reg| reg == r.region)
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

fn run(
    manifest: &Manifest,
    inventory: &Inventory,
    ignore_missing: bool,
) -> Result<Plan, PlanError> {
    let now = chrono::DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
    plan(manifest, inventory, PlanOptions { ignore_missing }, now)
}

proptest! {
    #[test]
    fn the_plan_does_what_the_manifest_says(world in world()) {
        let Some(text) = world.manifest_text() else { return Ok(()) };
        let manifest = Manifest::parse("m.yaml", &text).expect("generated manifests are valid");
        let mut account = inventory(&world.resources);
        let result = run(&manifest, &account, world.ignore_missing);
        let missing = world.missing();
        // In any order: the planner goes by group key, not by place.
        let listed = |found: &[Missing]| -> BTreeSet<(ResourceType, String, Vec<String>)> {
            found.iter().map(|m| (m.rtype, m.id.clone(), m.regions.clone())).collect()
        };

        // Without --ignore-missing, an entry the account lacks is an error
        // that names every such entry and where it is looked for.
        if !world.ignore_missing && !missing.is_empty() {
            match &result {
                Err(error @ PlanError::Missing(found)) => {
                    prop_assert_eq!(listed(found), missing.iter().cloned().collect(), "{}", text);
                    let message = error.to_string();
                    for (rtype, id, regions) in &missing {
                        let named = format!("{rtype}/{id} in {}", regions.join(", "));
                        prop_assert!(message.contains(&named), "{} not in {}", named, message);
                    }
                }
                other => prop_assert!(false, "missing {:?}, planner {:?}\n{}", missing, other.as_ref().map(|p| p.changes.len()), text),
            }
            return Ok(());
        }
        let expected = oracle(&world);

        // A conflict is reported if and only if one exists.
        match (&result, &expected) {
            (Err(PlanError::Conflict(_)), Err(Refused::Conflict)) => return Ok(()),
            (Err(PlanError::Unsettled(_)), Err(Refused::Unsettled)) => return Ok(()),
            (Ok(_), Ok(_)) => {}
            (other, _) => prop_assert!(false, "planner {:?}, oracle {:?}\n{}", other.as_ref().map(|p| p.changes.len()), expected, text),
        }
        let plan = result.expect("checked above");
        let expected = expected.expect("checked above");

        // With --ignore-missing, the missing entries are listed and warned
        // about, and the rest is planned.
        prop_assert_eq!(listed(&plan.missing), missing.iter().cloned().collect());
        for (rtype, id, _) in &missing {
            let warned = format!("{rtype}/{id} does not exist");
            prop_assert!(plan.warnings.iter().any(|w| w.contains(&warned)), "{} not in {:?}", warned, plan.warnings);
        }

        // Only resources the manifest mentions move, each to its group and
        // from where the account had it.
        for change in &plan.changes {
            let wanted = expected.get(&change.resource);
            prop_assert_eq!(wanted.map(String::as_str), Some(&*change.to.id), "{} moved but the manifest says {:?}", change.resource, wanted);
            prop_assert_eq!(&change.from.id, &account.resources[&change.resource].group_id);
        }
        // Every resource not where the manifest wants it moves; the rest
        // counts as unchanged.
        let misplaced = expected.iter().filter(|(k, g)| &*account.resources[*k].group_id != g.as_str()).count();
        prop_assert_eq!(plan.changes.len(), misplaced);
        prop_assert_eq!(plan.unchanged, expected.len() - misplaced);

        // Deterministic, to the byte.
        let again = run(&manifest, &account, world.ignore_missing).expect("the same inputs plan the same");
        prop_assert_eq!(serde_json::to_string(&plan).ok(), serde_json::to_string(&again).ok());

        // After applying it there is nothing left to do.
        for change in &plan.changes {
            if let Some(resource) = account.resources.get_mut(&change.resource) {
                resource.group_id = change.to.id.clone();
            }
        }
        let after = run(&manifest, &account, world.ignore_missing).expect("the applied account plans");
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
