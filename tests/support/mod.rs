//! Generated fleets and manifests for call-count tests and the bulk
//! benchmark, and the fewest calls the API allows for reading them: an
//! oracle written from the API's published limits, independent of how the
//! inventory reads.

use std::collections::BTreeMap;

use regroup::emulator::fleet::{AccessKey, Fleet, FleetGroup, FleetResource};
use regroup::resource::ResourceType;

pub const REGIONS: [&str; 3] = ["cn-hangzhou", "cn-shanghai", "cn-beijing"];
pub const GROUPS: [(&str, &str); 5] = [
    ("rg-acfmdefault00001", "default"),
    ("rg-acfmprod00000001", "prod"),
    ("rg-acfmstaging00001", "staging"),
    ("rg-acfmlegacy000001", "legacy"),
    ("rg-acfmdev000000001", "dev"),
];

/// `total` resources spread evenly over the three regions and nine types,
/// in five groups, tagged `team` payments or data.
pub fn fleet(total: usize) -> Fleet {
    let resources = (0..total)
        .map(|n| {
            let rtype = ResourceType::ALL[n % 9];
            let region = REGIONS[(n / 9) % 3];
            let prefix = rtype.id_prefix().unwrap_or("key-");
            let group = GROUPS[n % 5].0;
            FleetResource {
                rtype,
                id: format!("{prefix}bench{n:07}"),
                region: region.into(),
                name: format!("{}-{n}", if n % 2 == 0 { "pay" } else { "data" }),
                group: (n % 5 != 0).then(|| group.to_owned()),
                tags: BTreeMap::from([(
                    "team".to_owned(),
                    if n % 2 == 0 { "payments" } else { "data" }.to_owned(),
                )]),
                status: None,
                owner: None,
            }
        })
        .collect();
    Fleet {
        account_id: "1234567890123456".into(),
        access_keys: vec![AccessKey {
            id: "testid".into(),
            secret: "testsecret".into(),
            security_token: None,
        }],
        resource_groups: GROUPS
            .iter()
            .map(|(id, name)| FleetGroup {
                id: (*id).into(),
                name: (*name).into(),
                default: *name == "default",
                display_name: None,
            })
            .collect(),
        resources,
        oidc_tokens: Vec::new(),
    }
}

/// Rules over every type in every region: payments to prod, data to staging.
pub fn select_manifest() -> String {
    format!(
        "version: 1\nregions: [{}]\ngroups:\n  prod:\n    select:\n      - tags: {{team: payments}}\n  staging:\n    select:\n      - tags: {{team: data}}\n",
        REGIONS.join(", ")
    )
}

/// Every resource of `fleet` by id, with its region: payments to prod, data
/// to staging.
pub fn explicit_manifest(fleet: &Fleet) -> String {
    let mut text = String::from("version: 1\ngroups:\n");
    for (group, team) in [("prod", "payments"), ("staging", "data")] {
        text.push_str(&format!("  {group}:\n    resources:\n"));
        for r in fleet.resources.iter().filter(|r| r.tags["team"] == team) {
            text.push_str(&format!(
                "      - {{type: {}, id: {}, region: {}}}\n",
                r.rtype, r.id, r.region
            ));
        }
    }
    text
}

/// The API's limits per type, from the API reference: (largest page, most
/// ids in one read's filter).
fn limits(rtype: ResourceType) -> (usize, usize) {
    match rtype {
        ResourceType::Disk | ResourceType::Eni => (500, 100),
        ResourceType::KeyPair => (50, 1),
        ResourceType::LaunchTemplate => (50, 100),
        _ => (100, 100),
    }
}

/// Resources per (region, type) in `fleet`.
fn counts(fleet: &Fleet) -> BTreeMap<(String, ResourceType), usize> {
    let mut counts = BTreeMap::new();
    for r in &fleet.resources {
        *counts.entry((r.region.clone(), r.rtype)).or_default() += 1;
    }
    counts
}

/// The fewest Describe* calls that list every (region, type) of `fleet`
/// whole, plus one `ListResourceGroups`.
pub fn minimum_calls_to_list(fleet: &Fleet) -> usize {
    1 + counts(fleet)
        .iter()
        .map(|((_, rtype), n)| n.div_ceil(limits(*rtype).0))
        .sum::<usize>()
}

/// The fewest calls that read every resource of `fleet` by id, plus one
/// `ListResourceGroups`: per (region, type), ids in reads of at most a
/// filter's and a page's worth, or, for types read one id per call, the
/// whole listing when that is fewer calls.
pub fn minimum_calls_by_id(fleet: &Fleet) -> usize {
    1 + counts(fleet)
        .iter()
        .map(|((_, rtype), n)| {
            let (page, filter) = limits(*rtype);
            let by_id = n.div_ceil(filter.min(page));
            by_id.min(n.div_ceil(page))
        })
        .sum::<usize>()
}

/// `regroup emulator --listen 127.0.0.1:0 ARGS` as its own process: the
/// child and the URL it serves on. Its stderr is read to the end, so it
/// never writes into a closed pipe.
pub fn spawn_emulator(args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_regroup"))
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the emulator starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let first = lines.next().expect("a line").expect("text");
    std::thread::spawn(move || lines.for_each(drop));
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first}"))
        .to_owned();
    (child, url)
}
