//! Export's promise, over generated accounts: what it writes is a manifest
//! that loads, and planning it against the same account moves nothing.
//! Group names and key pair names are drawn from words YAML readers take
//! for booleans, nulls and numbers, from other groups' ids and from names
//! that repeat; resource names, written as comments, from names with line
//! breaks and `#`. `PROPTEST_CASES=10000 cargo test export` runs more cases.

use proptest::prelude::*;

use super::*;
use crate::manifest::Manifest;
use crate::plan::{self, PlanOptions};
use crate::resource::{Resource, ResourceType};

const REGIONS: [&str; 2] = ["cn-hangzhou", "cn-shanghai"];

/// Group names worth trying: YAML 1.1 booleans and nulls, numbers, the ids
/// of other groups, repeats, an empty name and names needing escapes.
const NAMES: [&str; 14] = [
    "prod",
    "yes",
    "No",
    "on",
    "null",
    "~",
    "1e3",
    "012",
    "rg-1",
    "rg-2",
    "",
    "a: b",
    "say \"hi\"",
    "中文",
];

/// Key pair names the API allows that YAML readers could misread.
const KEY_PAIRS: [&str; 8] = ["on", "No", "yes", "y1", "e3", "a:b", "k.x_y-z", "键对"];

/// Resource names, written as comments: none, plain, and names with line
/// breaks (YAML 1.2 and 1.1's), a `#`, quotes and other control characters
/// that must not end the comment's line early or leak into the next.
const RESOURCE_NAMES: [&str; 7] = [
    "",
    "web-1",
    "two\nlines\r\n- instance/i-bp1x",
    "ls\u{2028}ps\u{2029}nel\u{85}",
    "# not: [a, key]",
    "tab\there \"q\" 'q'",
    "中文名",
];

fn id_of(rtype: ResourceType, n: usize) -> String {
    match rtype.id_prefix() {
        Some(prefix) => format!("{prefix}bp1{n}"),
        None => format!("{}{n}", KEY_PAIRS[n % KEY_PAIRS.len()]),
    }
}

fn account(names: &[usize], resources: &[(usize, usize, usize, usize)]) -> Inventory {
    let groups: Vec<Group> = names
        .iter()
        .enumerate()
        .map(|(g, name)| Group {
            id: format!("rg-{g}").into(),
            name: NAMES[*name].into(),
            status: "OK".into(),
        })
        .collect();
    let resources = resources
        .iter()
        .map(|&(rtype, region, n, group)| {
            let rtype = ResourceType::ALL[rtype];
            let resource = Resource {
                key: ResourceKey {
                    rtype,
                    region: REGIONS[region].into(),
                    id: id_of(rtype, n).into(),
                },
                name: RESOURCE_NAMES[n % RESOURCE_NAMES.len()].into(),
                group_id: groups[group % groups.len()].id.clone(),
                tags: crate::resource::Tags::default(),
            };
            (resource.key.clone(), resource)
        })
        .collect();
    Inventory { groups, resources }
}

proptest! {
    #[test]
    fn an_export_loads_and_plans_no_changes(
        names in prop::collection::vec(0..NAMES.len(), 1..6),
        resources in prop::collection::vec((0..9usize, 0..2usize, 0..40usize, 0..6usize), 1..40),
        both_regions in any::<bool>(),
    ) {
        let account = account(&names, &resources);
        let regions: Vec<String> = if both_regions {
            REGIONS.iter().map(|r| (*r).to_owned()).collect()
        } else {
            vec![REGIONS[0].to_owned()]
        };
        let account = Inventory {
            resources: account
                .resources
                .into_iter()
                .filter(|(key, _)| regions.iter().any(|r| *r == *key.region))
                .collect(),
            ..account
        };
        prop_assume!(!account.resources.is_empty());
        let text = to_yaml(&["a header".to_owned()], &regions, &groups_of(&account, &[]));
        let manifest = Manifest::parse("export.yaml", &text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let plan = plan::plan(&manifest, &account, PlanOptions { ignore_missing: false }, chrono::Utc::now())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert!(!plan.has_changes(), "{:?}\n{text}", plan.changes);
        prop_assert_eq!(plan.unchanged, account.resources.len());
    }
}
