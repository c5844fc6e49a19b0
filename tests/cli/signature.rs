//! Signatures end to end: regroup signing with V3 (`--signature v3`), and
//! the official Tea SDK, which signs with V3 by default, against the
//! emulator.

use crate::harness::{assert_has_line, Setup, KEY_ID, SECRET};
use crate::tools;
use regroup::resource::ResourceType;

const TWO_INTO_PROD: &str = "\
version: 1
regions: [cn-hangzhou]
groups:
  prod:
    resources:
      - instance/i-bp1test00000
      - disk/d-bp1test00000
";

/// An instance and a disk in the default group, and [`TWO_INTO_PROD`].
fn two() -> Setup {
    Setup::new()
        .resource(ResourceType::Instance, "i-bp1test00000", None)
        .resource(ResourceType::Disk, "d-bp1test00000", None)
        .manifest(TWO_INTO_PROD)
}

#[test]
fn plan_and_apply_sign_with_v3_when_asked() {
    let env = two().start();
    let (code, out, err) = env.run(&["--signature", "v3", "plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_has_line(&out, "Plan: 2 to move, 0 unchanged.");
    let requests = env.requests();
    assert!(!requests.is_empty(), "the plan made calls");
    for request in &requests {
        assert_eq!(request.status, 200, "{request:?}");
        // V3 carries the signature's parts in headers, none in parameters.
        for v1 in [
            "SignatureVersion",
            "SignatureMethod",
            "AccessKeyId",
            "Timestamp",
        ] {
            assert!(!request.params.contains_key(v1), "{v1} in {request:?}");
        }
    }
    let (code, out, err) = env.run(&["--signature", "v3", "apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(env.writes(), 2, "exactly 2 joins expected");
    assert_eq!(
        env.group_of("i-bp1test00000"),
        "rg-prod",
        "i-bp1test00000 should end in rg-prod"
    );
    assert_eq!(
        env.group_of("d-bp1test00000"),
        "rg-prod",
        "d-bp1test00000 should end in rg-prod"
    );

    // Without the flag, v1 as before.
    let before = env.requests().len();
    let (code, out, _) = env.run(&["plan"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        env.requests()[before..]
            .iter()
            .all(|r| r.params.get("SignatureVersion").is_some_and(|v| v == "1.0")),
        "without --signature every call is signed v1 (SignatureVersion 1.0)"
    );
}

#[test]
fn a_wrong_secret_is_refused_under_v3() {
    let mut setup = two();
    setup.fleet.access_keys[0].secret = format!("{SECRET}-other");
    let env = setup.start();
    let (code, _, err) = env.run(&["--signature", "v3", "plan"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(!err.contains(SECRET), "no secret in errors: {err}");
}

/// The official Tea SDK (`alibabacloud_ecs20140526`, default settings:
/// signature V3) calls DescribeInstances and JoinResourceGroup, and a wrong
/// secret gets `SignatureDoesNotMatch`: tests/sdk/official_sdk.py. The SDK
/// is installed on first use (tests/support/tools.rs).
#[test]
fn the_official_sdk_talks_to_the_emulator() {
    let python = tools::python(&["alibabacloud_ecs20140526==7.11.8"]);
    let env = two().start();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/official_sdk.py");
    let endpoint = env.emulator.addr().to_string();
    let output = tools::loopback_only(&mut std::process::Command::new(python))
        .arg(script)
        .args([
            &endpoint,
            KEY_ID,
            SECRET,
            "cn-hangzhou",
            "i-bp1test00000",
            "rg-prod",
        ])
        .output()
        .expect("the python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert_has_line(&stdout, "ok wrong secret: SignatureDoesNotMatch (HTTP 400)");
    assert_eq!(
        env.group_of("i-bp1test00000"),
        "rg-prod",
        "i-bp1test00000 should end in rg-prod"
    );
    // The SDK signed with V3: no request carried v1's parameters.
    assert!(
        env.requests()
            .iter()
            .all(|r| !r.params.contains_key("SignatureVersion")),
        "the SDK signed with V3: no request carries SignatureVersion"
    );
}
