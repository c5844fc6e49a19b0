//! The emulator's request handling on arbitrary requests: every one must get
//! a well-formed answer, never a panic or a dropped connection. The input is
//! split on 0xFF into a flags byte, query, content type and body.
//!
//! The flags byte picks the method and, about half the time, signs the
//! request with the fleet's key (the query's pairs plus the common
//! parameters), so that the fuzzer gets past authentication into the
//! handlers; a signed request must never be refused by authentication.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use regroup::emulator::gateway::AUTHENTICATION_CODES;
use tower::ServiceExt;

/// Actions a signed request names; the last is unknown.
const ACTIONS: [&str; 8] = [
    "DescribeInstances",
    "DescribeDisks",
    "DescribeKeyPairs",
    "DescribeLaunchTemplates",
    "JoinResourceGroup",
    "ListResourceGroups",
    "GetResourceGroup",
    "DescribeNothing",
];

fn fleet() -> regroup::emulator::fleet::Fleet {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fleet.yaml");
    regroup::emulator::fleet::Fleet::load(std::path::Path::new(path)).expect("the example fleet reads")
}

/// The query's pairs and the common parameters, signed with the fleet's
/// first key: `(query, form body)`, the form for a POST whose flags have
/// 0x40 set.
fn signed(flags: u8, method: &str, query: &[u8], key: &regroup::emulator::fleet::AccessKey) -> (String, Option<String>) {
    let action = ACTIONS[usize::from(flags >> 2) % ACTIONS.len()];
    let version = match regroup::emulator::api::version_of(action) {
        Some(version) if flags & 0x20 == 0 => version,
        _ => "2000-01-01",
    };
    let mut params: BTreeMap<String, String> = form_urlencoded::parse(query).into_owned().collect();
    for (name, value) in [
        ("Action", action),
        ("Version", version),
        ("Format", "JSON"),
        ("AccessKeyId", key.id.as_str()),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "fuzz-nonce"),
        ("Timestamp", &chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    ] {
        params.insert(name.to_owned(), value.to_owned());
    }
    params.remove("SecurityToken");
    let signature = regroup::api::sign::sign(method, params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &key.secret);
    params.insert("Signature".to_owned(), signature);
    let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
    if method == "POST" && flags & 0x40 != 0 {
        (String::new(), Some(encoded))
    } else {
        (encoded, None)
    }
}

fuzz_target!(|data: &[u8]| {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
    let fleet = fleet();
    let mut parts = data.split(|b| *b == 0xFF);
    let flags = parts.next().and_then(|m| m.first()).copied().unwrap_or(0);
    let method = if flags % 2 == 0 { "GET" } else { "POST" };
    let is_signed = flags & 0x02 != 0;
    let raw_query = parts.next().unwrap_or_default();
    let mut content_type = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let mut body = parts.next().unwrap_or_default().to_vec();
    let query = if is_signed {
        // The body carries the signed form or nothing: pairs in a form body
        // are part of what is signed.
        let (query, form) = signed(flags, method, raw_query, &fleet.access_keys[0]);
        if form.is_some() {
            content_type = "application/x-www-form-urlencoded".to_owned();
        }
        body = form.map(String::into_bytes).unwrap_or_default();
        query
    } else {
        String::from_utf8_lossy(raw_query).replace([' ', '#'], "")
    };

    let mut request = axum::http::Request::builder().method(method);
    request = match axum::http::Uri::try_from(format!("/?{query}")) {
        Ok(uri) => request.uri(uri),
        Err(_) => request.uri("/"),
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&content_type) {
        request = request.header("content-type", value);
    }
    let Ok(request) = request.body(axum::body::Body::from(body)) else { return };
    let service = regroup::emulator::Emulator::service(fleet, Default::default()).expect("the emulator builds");
    runtime.block_on(async {
        let response = service.oneshot(request).await.expect("the router answers");
        let status = response.status().as_u16();
        assert!((200..600).contains(&status));
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        assert!(!bytes.is_empty());
        if is_signed {
            let answer: serde_json::Value = serde_json::from_slice(&bytes).expect("a signed request asks for JSON");
            let code = answer.get("Code").and_then(|c| c.as_str()).unwrap_or_default();
            assert!(!AUTHENTICATION_CODES.contains(&code), "a correctly signed request was refused: {answer}");
        }
    });
});
