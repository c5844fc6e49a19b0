//! regroup's client sends what the official SDKs send, on the wire: a
//! capturing loopback server records the request heads of `regroup whoami`
//! (RPC v1 and V3) and of the official Python SDKs making the same call
//! (`GetCallerIdentity`, which has no parameters), and the headers that
//! matter are compared: the path, `Content-Length`, `Content-Type`, and
//! under V3 the signed headers.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::{Setup, KEY_ID, SECRET};
use crate::tools;

/// One request as it arrived: method, request target, headers (names in
/// lower case).
#[derive(Debug, Clone)]
struct Captured {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The `SignedHeaders=` list of an ACS3 `Authorization`.
    fn signed_headers(&self) -> Vec<String> {
        self.header("authorization")
            .and_then(|a| a.split("SignedHeaders=").nth(1))
            .and_then(|rest| rest.split(',').next())
            .map(|list| list.split(';').map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// `GetCallerIdentity`'s answer as tests/fixtures/api/sts_GetCallerIdentity.json
/// shapes it, for every request.
const ANSWER: &str = r#"{"RequestId":"6894B13B-6D71-4EF5-88FA-F32781734A7F","AccountId":"1234567890123456","Arn":"acs:ram::1234567890123456:user/wire","IdentityType":"RAMUser","PrincipalId":"2","UserId":"2"}"#;

/// Serves at most 20 connections on 127.0.0.1:0, one request each, and
/// records every request head; each connection is given 10 s.
fn capture() -> (String, Arc<Mutex<Vec<Captured>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address").to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let text = String::from_utf8_lossy(&head).into_owned();
            let mut lines = text.split("\r\n");
            let mut first = lines.next().unwrap_or_default().split(' ');
            let method = first.next().unwrap_or_default().to_owned();
            let target = first.next().unwrap_or_default().to_owned();
            let headers: BTreeMap<String, String> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let length: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0u8; length.min(1 << 20)];
            let _ = stream.read_exact(&mut body);
            log.lock().expect("the log").push(Captured {
                method,
                target,
                headers,
            });
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{ANSWER}",
                ANSWER.len()
            );
        }
    });
    (addr, seen)
}

/// The requests `run` made, taken off the log.
fn taken(seen: &Arc<Mutex<Vec<Captured>>>) -> Vec<Captured> {
    std::mem::take(&mut *seen.lock().expect("the log"))
}

const SDK_CALLS: &str = r#"
import sys
from alibabacloud_sts20150401.client import Client
from alibabacloud_tea_openapi import models
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
endpoint, key, secret, which = sys.argv[1:]
if which == "core":
    request = CommonRequest(domain=endpoint, version="2015-04-01", action_name="GetCallerIdentity")
    request.set_method("POST")
    request.set_protocol_type("http")
    AcsClient(key, secret, "cn-hangzhou", auto_retry=False).do_action_with_exception(request)
else:
    config = models.Config(access_key_id=key, access_key_secret=secret, endpoint=endpoint, protocol="http",
                           region_id="cn-hangzhou", signature_algorithm="v2" if which == "v2" else None)
    Client(config).get_caller_identity()
"#;

/// The official SDK's request for `which`: `acs3` (the Tea SDK's
/// default), `v2` or `core`.
fn sdk_request(addr: &str, seen: &Arc<Mutex<Vec<Captured>>>, which: &str) -> Captured {
    let python = tools::python(crate::conformance::PYTHON_SDKS);
    let output = tools::loopback_only(&mut Command::new(python))
        .args(["-c", SDK_CALLS, addr, KEY_ID, SECRET, which])
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{which}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut requests = taken(seen);
    assert_eq!(requests.len(), 1, "{which}: one request: {requests:#?}");
    requests.remove(0)
}

/// regroup's request for `whoami --signature <version>`.
fn regroup_request(addr: &str, seen: &Arc<Mutex<Vec<Captured>>>, version: &str) -> Captured {
    let env = Setup::new().start();
    let endpoint = format!("http://{addr}");
    let (code, out, err) = env.run(&["--endpoint", &endpoint, "--signature", version, "whoami"]);
    assert_eq!(code, 0, "whoami --signature {version}: {out}{err}");
    let mut requests = taken(seen);
    assert_eq!(requests.len(), 1, "{version}: one request: {requests:#?}");
    requests.remove(0)
}

#[test]
fn regroup_sends_what_the_official_sdks_send() {
    let (addr, seen) = capture();
    let tea_v3 = sdk_request(&addr, &seen, "acs3");
    let ours_v3 = regroup_request(&addr, &seen, "v3");
    // The request target: `/` with no `?` when there are no parameters.
    assert_eq!(
        (ours_v3.method.as_str(), ours_v3.target.as_str()),
        (tea_v3.method.as_str(), tea_v3.target.as_str()),
        "V3 method and path: ours {ours_v3:#?}, the SDK's {tea_v3:#?}"
    );
    for name in ["content-length", "content-type"] {
        assert_eq!(
            ours_v3.header(name),
            tea_v3.header(name),
            "V3 {name}: ours {ours_v3:#?}, the SDK's {tea_v3:#?}"
        );
    }
    // Every header the SDK signs that carries meaning for the gateway
    // (host, x-acs-*; not the SDK's user-agent or credentials provider) is
    // signed by regroup too.
    let ours_signed = ours_v3.signed_headers();
    for name in tea_v3.signed_headers() {
        if name == "host" || (name.starts_with("x-acs-") && name != "x-acs-credentials-provider") {
            assert!(
                ours_signed.contains(&name),
                "{name} is signed by the SDK, not by regroup: {ours_signed:?}"
            );
        }
    }

    // RPC v1: body-less POSTs with their parameters in the query, as the
    // SDK core and the Tea SDK in v2 mode send them.
    let ours_v1 = regroup_request(&addr, &seen, "v1");
    for which in ["core", "v2"] {
        let sdk = sdk_request(&addr, &seen, which);
        assert_eq!(
            (sdk.method.as_str(), sdk.header("content-length")),
            ("POST", Some("0")),
            "{which} sends a body-less POST: {sdk:#?}"
        );
        assert_eq!(
            (ours_v1.method.as_str(), ours_v1.header("content-length")),
            ("POST", Some("0")),
            "regroup's v1 POST carries Content-Length: 0 as {which} does: {ours_v1:#?}"
        );
        assert!(
            ours_v1.target.starts_with("/?") && sdk.target.starts_with("/?"),
            "parameters in the query: ours {}, {which}'s {}",
            ours_v1.target,
            sdk.target
        );
    }
}
