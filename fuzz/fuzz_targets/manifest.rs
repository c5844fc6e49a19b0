//! The manifest loader on arbitrary bytes: it must return a manifest or an
//! error that names its place, and never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(error) = regroup::manifest::Manifest::parse("fuzz.yaml", text) {
            let message = error.to_string();
            assert!(message.starts_with("fuzz.yaml"), "{message}");
        }
    }
});
