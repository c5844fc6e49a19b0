//! Test access to `tests/fixtures/api/`: response bodies, endpoint tables
//! and signature vectors taken from the official SDKs and documentation
//! (docs/sources/README.md says which came from where), never from this
//! crate. One loader, so every test reads them the same way.

use serde::de::DeserializeOwned;

/// The text of fixture `name` (its file name, extension included).
pub fn text(name: &str) -> String {
    let path = format!("{}/tests/fixtures/api/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Fixture `name` read as JSON into `T`.
pub fn json<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}
