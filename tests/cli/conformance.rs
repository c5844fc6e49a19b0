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
use regroup::resource::ResourceType;

/// The Python SDKs, pinned; one virtual environment for both families.
pub(crate) const PYTHON_SDKS: &[&str] = &[
    "aliyun-python-sdk-core==2.16.1",
    "aliyun-python-sdk-ecs==4.24.83",
    "alibabacloud_tea_openapi==0.4.6",
    "alibabacloud_ecs20140526==7.11.8",
    "alibabacloud_resourcemanager20200331==2.6.2",
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
/// groups, three of every other type, the harness's four groups and key.
fn fleet() -> Running {
    ResourceType::ALL
        .into_iter()
        .filter(|t| !matches!(t, ResourceType::Instance | ResourceType::SecurityGroup))
        .fold(
            Setup::new()
                .instances(120)
                .many(ResourceType::SecurityGroup, 2),
            |setup, rtype| setup.many(rtype, 3),
        )
        .start()
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(name)
}

/// Runs a client family's script against `env` and returns its `ok` lines,
/// after asserting that it exited 0 and printed `ALL OK`.
fn run_family(env: &Running, mut command: Command) -> Vec<String> {
    let endpoint = env.emulator.addr().to_string();
    let output = command
        .args([&endpoint, KEY_ID, SECRET])
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
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
        "an STS key calls GetCallerIdentity and DescribeInstances",
    ] {
        assert!(passed(&lines, expected), "no `ok {expected}` in {lines:#?}");
    }
    assert_eq!(
        lines.len(),
        24,
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
        ] {
            let expected = format!("{mode}: {expected}");
            assert!(
                passed(&lines, &expected),
                "no `ok {expected}` in {lines:#?}"
            );
        }
    }
    assert_eq!(lines.len(), 114, "every check ran in each mode: {lines:#?}");
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
