//! Generated fleets and manifests for call-count tests and the bulk
//! benchmark, and the fewest calls the API allows for reading them: an
//! oracle written from the API's published limits, independent of how the
//! inventory reads.

use std::collections::BTreeMap;

use regroup::emulator::fleet::{AccessKey, Fleet, FleetGroup, FleetResource};
use regroup::resource::{IdShape, ResourceType};

pub const REGIONS: [&str; 3] = ["cn-hangzhou", "cn-shanghai", "cn-beijing"];
pub const GROUPS: [(&str, &str); 5] = [
    ("rg-acfmdefault00001", "default"),
    ("rg-acfmprod00000001", "prod"),
    ("rg-acfmstaging00001", "staging"),
    ("rg-acfmlegacy000001", "legacy"),
    ("rg-acfmdev000000001", "dev"),
];

/// The id of the `n`th generated resource of `rtype`, shaped as the type's
/// ids are.
pub fn id_of(rtype: ResourceType, n: usize) -> String {
    match rtype.id_shape() {
        IdShape::Prefixed(prefix) => format!("{prefix}bench{n:07}"),
        IdShape::KeyPairName => format!("key-bench{n:07}"),
        IdShape::Uuid => format!("BE7C0000-0000-4000-8000-{n:012}"),
    }
}

/// A resource of `rtype` called `id` in `region`: in the default group,
/// named `<id>-name`, untagged, with no status, owner or attachments. The
/// one place tests build a [`FleetResource`]; change what a test needs with
/// struct update syntax (`FleetResource { group, ..resource(…) }`).
pub fn resource(rtype: ResourceType, id: &str, region: &str) -> FleetResource {
    FleetResource {
        rtype,
        id: id.into(),
        region: region.into(),
        name: format!("{id}-name"),
        group: None,
        tags: BTreeMap::new(),
        status: None,
        owner: None,
        attached: Vec::new(),
    }
}

/// `total` resources spread evenly over the three regions and every type,
/// in five groups, tagged `team` payments or data.
pub fn fleet(total: usize) -> Fleet {
    let types = ResourceType::ALL.len();
    let resources = (0..total)
        .map(|n| {
            let rtype = ResourceType::ALL[n % types];
            let region = REGIONS[(n / types) % 3];
            let group = GROUPS[n % 5].0;
            FleetResource {
                name: format!("{}-{n}", if n % 2 == 0 { "pay" } else { "data" }),
                group: (n % 5 != 0).then(|| group.to_owned()),
                tags: BTreeMap::from([(
                    "team".to_owned(),
                    if n % 2 == 0 { "payments" } else { "data" }.to_owned(),
                )]),
                ..resource(rtype, &id_of(rtype, n), region)
            }
        })
        .collect();
    Fleet {
        account_id: "1234567890123456".into(),
        access_keys: vec![AccessKey {
            id: "testid".into(),
            secret: "testsecret".into(),
            security_token: None,
            denied_actions: Vec::new(),
        }],
        resource_groups: GROUPS
            .iter()
            .map(|(id, name)| FleetGroup {
                id: (*id).into(),
                name: (*name).into(),
                default: *name == "default",
                display_name: None,
                status: None,
            })
            .collect(),
        resources,
        oidc_tokens: Vec::new(),
        auto_grouping: None,
        accounts: Vec::new(),
        folders: Vec::new(),
    }
}

/// Rules over every type in every region: payments to prod, data to staging.
pub fn select_manifest() -> String {
    // Written flush left (the `\` skips the first line break) rather than
    // through `indoc`, which this file cannot reach from the benchmarks.
    format!(
        "\
version: 1
regions: [{}]
groups:
  prod:
    select:
      - tags: {{team: payments}}
  staging:
    select:
      - tags: {{team: data}}
",
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

/// The API's limits per type, from the official SDK models
/// (`alibabacloud_ecs20140526==7.11.8` request models, collected in
/// docs/sources/ecs-models.md §2–3), not from the client's table:
/// (largest page, most ids in one read's filter, how many values of a
/// one-value-per-call state filter it takes to see every item).
fn limits(rtype: ResourceType) -> (usize, usize, usize) {
    match rtype {
        // MaxResults up to 500, DiskIds / NetworkInterfaceId.N up to 100.
        ResourceType::Disk | ResourceType::Eni => (500, 100, 1),
        // KeyPairName, CommandId, ActivationId: one value; pages of 50.
        ResourceType::KeyPair | ResourceType::Command | ResourceType::Activation => (50, 1, 1),
        // LaunchTemplateId.N up to 100; pages of 50.
        ResourceType::LaunchTemplate => (50, 100, 1),
        // InstanceId.N, N 1 to 50; MaxResults up to 50.
        ResourceType::ManagedInstance => (50, 50, 1),
        // ImageId: one id; PageSize up to 100.
        ResourceType::Image => (100, 1, 1),
        // Status: one of five states, Available by default.
        ResourceType::Ddh => (100, 100, 5),
        _ => (100, 100, 1),
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

/// The fewest calls that list `n` resources of `rtype` whole, all in the
/// API's default state: a page of the largest size per `page` resources,
/// and one (empty) listing for every other state.
fn listing_calls(rtype: ResourceType, n: usize) -> usize {
    let (page, _, states) = limits(rtype);
    n.div_ceil(page).max(1) + (states - 1)
}

/// The fewest Describe* calls that list every (region, type) of `fleet`
/// whole, plus one `ListResourceGroups`.
pub fn minimum_calls_to_list(fleet: &Fleet) -> usize {
    1 + counts(fleet)
        .iter()
        .map(|((_, rtype), n)| listing_calls(*rtype, *n))
        .sum::<usize>()
}

/// The fewest calls that read every resource of `fleet` by id, plus one
/// `ListResourceGroups`: per (region, type), ids in reads of at most a
/// filter's and a page's worth (in the default state, where every generated
/// resource is), or the whole listing when that is fewer calls.
pub fn minimum_calls_by_id(fleet: &Fleet) -> usize {
    1 + counts(fleet)
        .iter()
        .map(|((_, rtype), n)| {
            let (page, filter, _) = limits(*rtype);
            let by_id = n.div_ceil(filter.min(page));
            by_id.min(listing_calls(*rtype, *n))
        })
        .sum::<usize>()
}

/// `regroup emulator --listen 127.0.0.1:0 ARGS` as its own process: the
/// child and the URL it serves on. Its stderr is read to the end, so it
/// never writes into a closed pipe.
pub fn spawn_emulator(args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    spawn_emulator_in(std::path::Path::new("."), args)
}

/// The same, run in `dir`: relative paths in ARGS are `dir`'s.
pub fn spawn_emulator_in(
    dir: &std::path::Path,
    args: &[&std::ffi::OsStr],
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_regroup"))
        .current_dir(dir)
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
