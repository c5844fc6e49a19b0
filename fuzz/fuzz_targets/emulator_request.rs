//! The emulator's request handling on arbitrary requests: every one must get
//! a well-formed answer, never a panic or a dropped connection. The input is
//! split on 0xFF into method, query, content type and body.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

fn fleet() -> regroup::emulator::fleet::Fleet {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fleet.yaml");
    regroup::emulator::fleet::Fleet::load(std::path::Path::new(path)).expect("the example fleet reads")
}

fuzz_target!(|data: &[u8]| {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
    let mut parts = data.split(|b| *b == 0xFF);
    let method = match parts.next().and_then(|m| m.first()) {
        Some(b) if b % 2 == 0 => "GET",
        _ => "POST",
    };
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default()).replace([' ', '#'], "");
    let content_type = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default().to_vec();

    let mut request = axum::http::Request::builder().method(method);
    request = match axum::http::Uri::try_from(format!("/?{query}")) {
        Ok(uri) => request.uri(uri),
        Err(_) => request.uri("/"),
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&content_type) {
        request = request.header("content-type", value);
    }
    let Ok(request) = request.body(axum::body::Body::from(body)) else { return };
    let service = regroup::emulator::Emulator::service(fleet(), Default::default()).expect("the emulator builds");
    runtime.block_on(async {
        let response = service.oneshot(request).await.expect("the router answers");
        let status = response.status().as_u16();
        assert!((200..600).contains(&status));
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        assert!(!bytes.is_empty());
    });
});
