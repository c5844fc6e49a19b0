//! The emulator answers every official client as the service does: the old
//! Python SDK core, the Python Tea SDKs in their default (ACS3-HMAC-SHA256),
//! v2 and ACS3-HMAC-SM3 modes, and the Node SDKs (pop-core GET and POST, Tea default and v2),
//! each driving one emulator from a script under tests/sdk/ that prints one
//! line per check. Expected values come from the SDK models and docs (cited
//! in the scripts), never from the emulator or regroup's client. The SDKs
//! are installed on first use (tests/support/tools.rs); a failed install
//! fails the test, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Running, Setup, KEY_ID, SECRET};
use crate::tools;
use regroup::emulator::autogroup::{AutoGrouping, Rule, RuleMatch};
use regroup::resource::ResourceType;

/// The Python SDKs, pinned; one virtual environment for both families.
pub(crate) const PYTHON_SDKS: &[&str] = &[
    "aliyun-python-sdk-core==2.16.1",
    "aliyun-python-sdk-ecs==4.24.83",
    "alibabacloud_tea_openapi==0.4.6",
    "alibabacloud_ecs20140526==7.11.8",
    "alibabacloud_resourcemanager20200331==2.6.2",
    "alibabacloud_resourcecenter20221201==1.6.1",
    "alibabacloud_quotas20200510==1.2.2",
    "alibabacloud_sts20150401==1.2.0",
];

/// The Node SDKs, pinned.
const NODE_SDKS: &[&str] = &[
    "@alicloud/pop-core@1.8.0",
    "@alicloud/openapi-client@0.4.15",
    "@alicloud/ecs20140526@7.11.6",
    "@alicloud/sts20150401@1.2.0",
];

/// The fleet tests/sdk/checks.py describes: 120 instances, two security
/// groups, three of every other type, the harness's four groups and key;
/// a disk and an ENI attached to the first instance; auto grouping on with
/// two rules and associated transfer; an OIDC token.
fn fleet() -> Running {
    let env = ResourceType::ALL
        .into_iter()
        .filter(|t| !matches!(t, ResourceType::Instance | ResourceType::SecurityGroup))
        .fold(
            Setup::new()
                .instances(120)
                .many(ResourceType::SecurityGroup, 2)
                .oidc_token(OIDC_TOKEN, ROLE_ARN, OIDC_PROVIDER_ARN),
            |setup, rtype| setup.many(rtype, 3),
        )
        .start();
    env.edit(|account| {
        let first = account
            .resources
            .values_mut()
            .find(|r| r.id == "i-bp1test00000")
            .expect("the first instance");
        first.attached = vec!["d-bp1test00000".into(), "eni-bp1test00000".into()];
        let rule = |(id, name): (&str, &str)| Rule {
            id: id.into(),
            name: name.into(),
            target_group: "rg-prod".into(),
            matches: RuleMatch {
                tags: [("team".to_owned(), "conformance".to_owned())].into(),
                ..RuleMatch::default()
            },
        };
        account.auto_grouping = Some(AutoGrouping {
            enabled: true,
            rules: RULES.into_iter().map(rule).collect(),
            delay_ms: 0,
            associated_transfer: true,
        });
    });
    env
}

/// The names tests/sdk/checks.py gives them.
const ROLE_ARN: &str = "acs:ram::1234567890123456:role/conformance";
const OIDC_PROVIDER_ARN: &str = "acs:ram::1234567890123456:oidc-provider/conformance";
const OIDC_TOKEN: &str = "conformance-oidc-token";
const RULES: [(&str, &str); 2] = [
    ("gr-conformance1", "first rule"),
    ("gr-conformance2", "second rule"),
];

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(name)
}

/// Runs a client family's script against `env` and returns its `ok` lines,
/// after asserting that it exited 0 and printed `ALL OK`.
fn run_family(env: &Running, mut command: Command) -> Vec<String> {
    let endpoint = env.emulator.addr().to_string();
    let output = tools::loopback_only(command.args([&endpoint, KEY_ID, SECRET]))
        .output()
        .expect("the SDK script runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.trim_end().ends_with("ALL OK"),
        "{command:?} failed:\n{stdout}{stderr}"
    );
    stdout
        .lines()
        .filter(|l| l.starts_with("ok "))
        .map(str::to_owned)
        .collect()
}

/// Whether check `name` passed: a line `ok NAME: detail`.
fn passed(lines: &[String], name: &str) -> bool {
    let prefix = format!("ok {name}: ");
    lines.iter().any(|l| l.starts_with(&prefix))
}

fn python(name: &str) -> Command {
    let mut command = Command::new(tools::python(PYTHON_SDKS));
    command.arg(script(name));
    command
}

#[test]
fn the_old_python_sdk_core_is_served_as_the_service_serves_it() {
    let env = fleet();
    let lines = run_family(&env, python("conformance_core.py"));
    for expected in [
        "typed DescribeInstances by InstanceIds (POST, query)",
        "common GET MaxResults=5 is served as 10",
        "common POST form body MaxResults=101 is served as 100",
        "PageNumber=2 of PageSize=10 is the second page",
        "Format=XML answers <DescribeInstancesResponse>",
        "DescribeSecurityGroups SecurityGroupId filters",
        "JoinResourceGroup without ResourceId names it (403)",
        "a wrong secret, typed request",
        "a wrong secret, CommonRequest",
        "ListResourceGroups Name matches fuzzily",
        "common DescribeDisks InstanceId lists what is attached",
        "common DescribeLaunchTemplates LaunchTemplateName.N filters",
        "ListAutoGroupingRules RuleId filters",
        "an STS key calls GetCallerIdentity and DescribeInstances",
    ] {
        assert!(passed(&lines, expected), "no `ok {expected}` in {lines:#?}");
    }
    assert_eq!(
        lines.len(),
        27,
        "every check of the core family ran: {lines:#?}"
    );
    // The core signs with v1 and names its action in x-acs-action too:
    // every call was decoded as v1.
    assert!(
        env.requests()
            .iter()
            .filter(|r| r.status == 200)
            .all(|r| r.params.get("SignatureVersion").is_some_and(|v| v == "1.0")),
        "every accepted call of the SDK core was v1"
    );
}

#[test]
fn the_python_tea_sdks_are_served_in_acs3_v2_and_sm3_modes() {
    let env = fleet();
    let lines = run_family(&env, python("conformance_tea.py"));
    for mode in ["acs3", "v2", "sm3"] {
        for expected in [
            "MaxResults=5 is served as 10",
            "MaxResults=101 is served as 100",
            "PageNumber=2 of PageSize=10 is the second page",
            "InstanceName filters",
            "DescribeSecurityGroups SecurityGroupId filters",
            "ListResourceGroups ResourceGroupId filters",
            "ListResourceGroups Name is fuzzy",
            "ListResourceGroups IncludeTags returns Tags",
            "ListProductQuotas",
            "GetCallerIdentity",
            "AssumeRole with a 39-character session name for 7200 s",
            "AssumeRole refuses a 1-character session name, HostId of STS",
            "an STS key calls GetCallerIdentity and DescribeInstances",
            "DescribeSecurityGroups SecurityGroupName filters",
            "DescribeDisks disk_name filters",
            "DescribeImages image_name filters",
            "DescribeLaunchTemplates launch_template_name filters",
            "DescribeCommands name filters",
            "DescribeDisks InstanceId lists what is attached",
            "DescribeNetworkInterfaces InstanceId lists what is attached",
            "GetResourceGroup IncludeTags returns Tags",
            "GetAutoGroupingStatus",
            "ListAutoGroupingRules RuleId filters",
            "ListAutoGroupingRules RuleName filters",
            "ListAutoGroupingRules RuleType filters",
            "ListAutoGroupingRules MaxResults=1 pages by NextToken",
            "ListAssociatedTransferSetting",
            "AssumeRoleWithOIDC trades the token for a working STS key",
            "AssumeRoleWithOIDC refuses a 1-character session name",
            "AssumeRoleWithOIDC refuses an unknown token",
        ] {
            let expected = format!("{mode}: {expected}");
            assert!(
                passed(&lines, &expected),
                "no `ok {expected}` in {lines:#?}"
            );
        }
    }
    assert_eq!(lines.len(), 183, "every check ran in each mode: {lines:#?}");
}

#[test]
fn the_node_sdks_are_served_by_pop_core_and_tea_in_both_modes() {
    let env = fleet();
    let modules = tools::node_modules(NODE_SDKS);
    let mut command = Command::new("node");
    command
        .arg(script("conformance_node.js"))
        .env("NODE_PATH", &modules);
    let lines = run_family(&env, command);
    for expected in [
        "pop-core GET: MaxResults=5 is served as 10",
        "pop-core POST: PageNumber=2 of PageSize=10",
        "pop-core: a wrong secret",
        "tea acs3: MaxResults=101 is served as 100",
        "tea acs3: GetCallerIdentity",
        "tea v2: GetCallerIdentity",
        "tea v2: an STS key from AssumeRole",
    ] {
        assert!(passed(&lines, expected), "no `ok {expected}` in {lines:#?}");
    }
    assert_eq!(lines.len(), 28, "every Node check ran: {lines:#?}");
}

/// The fleet tests/sdk/conformance_resources.py describes: 12 instances
/// and 4 each of `eip:eip`, `slb:loadbalancer`, `rds:dbinstance` and
/// `oss:bucket` in the default group, tagged `team=odd` or `team=even`; the
/// fourth EIP's moves fail with `NoPermission`; Resource Center on.
fn services_fleet() -> Running {
    let mut setup = Setup::new().instances(12);
    for (service, rm_type, prefix) in [
        ("eip", "eip", "eip-bp1test"),
        ("slb", "loadbalancer", "lb-bp1test"),
        ("rds", "dbinstance", "rm-bp1test"),
        ("oss", "bucket", "bucket-test-"),
    ] {
        let rtype = ResourceType::from_rm(service, rm_type).expect("a Resource Manager type");
        for n in 0..4 {
            setup = setup.resource(rtype, &format!("{prefix}{n:05}"), None);
        }
    }
    setup.fleet.resource_center = true;
    for (n, resource) in setup.fleet.resources.iter_mut().enumerate() {
        let parity = if n % 2 == 1 { "odd" } else { "even" };
        resource.tags = [("team".to_owned(), parity.to_owned())].into();
        if resource.id == "eip-bp1test00003" {
            resource.move_error = Some("NoPermission".into());
        }
    }
    setup.start()
}

/// The official Python SDKs of Resource Manager and Resource Center read
/// and move resources of every service in the emulator, and get the
/// shapes, limits and per-resource results their models and docs give.
#[test]
fn the_python_sdks_list_move_and_search_resources_of_every_service() {
    let env = services_fleet();
    let lines = run_family(&env, python("conformance_resources.py"));
    for mode in ["acs3", "v2"] {
        for expected in [
            "ListResources lists ECS and the other services",
            "ListResources PageSize=5 pages",
            "ListResources ResourceTypes pairs and Count=False",
            "ListResources Service, ResourceType and Region filter",
            "ListResources ResourceId filters",
            "ListResources refuses PageSize=101",
            "MoveResources moves four services and an instance",
            "MoveResources answers SUCCESS and FAIL in one call",
            "MoveResources refuses 11 resources",
            "MoveResources takes 10",
            "GetResourceCenterServiceStatus",
            "SearchResources ResourceType filter pages by NextToken",
            "SearchResources filters AND, values OR",
        ] {
            let expected = format!("{mode}: {expected}");
            assert!(
                passed(&lines, &expected),
                "no `ok {expected}` in {lines:#?}"
            );
        }
    }
    assert_eq!(lines.len(), 26, "every check ran in both modes: {lines:#?}");
    assert_eq!(
        env.group_of("eip-bp1test00003"),
        "rg-default",
        "the resource whose moves fail never moved"
    );
}

/// `regroup whoami --signature v3`: GetCallerIdentity under ACS3 answers for
/// the key in `Authorization: … Credential=`.
#[test]
fn whoami_works_under_both_signature_versions() {
    let env = Setup::new().start();
    for version in ["v1", "v3"] {
        let (code, out, err) = env.run(&["--signature", version, "whoami"]);
        assert_eq!(code, 0, "whoami --signature {version}: {out}{err}");
        assert!(
            out.contains("1234567890123456"),
            "whoami --signature {version} names the account: {out}"
        );
    }
}
