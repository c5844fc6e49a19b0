//! Every input is read up to a limit: endless files, FIFOs, `/dev/zero` as
//! a credential file, huge name globs and an external process printing for
//! ever end in a clear error, never a hang or a panic.

use crate::harness::{assert_has_line, assert_no_calls, mkfifo, stdout_of, Setup, TWO_INTO_PROD};
use crate::text::indoc;

#[test]
fn endless_inputs_are_read_only_up_to_their_limit() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let (code, _, err) = stdout_of(env.regroup(&["validate", "-f", "/dev/zero"]));
    assert_eq!(code, 1, "{err}");
    assert_has_line(
        &err,
        "  caused by: larger than the limit of 134217728 bytes",
    );
    let (code, _, err) = stdout_of(env.regroup(&["apply", "/dev/zero"]));
    assert_eq!(code, 1, "{err}");
    assert_has_line(
        &err,
        "  caused by: /dev/zero is larger than the limit of 134217728 bytes",
    );
    assert_no_calls(&env.requests());
}

#[test]
fn a_fifo_manifest_is_held_to_the_same_limit() {
    use std::io::Write;
    let env = Setup::new().manifest(TWO_INTO_PROD).start();
    let fifo = env.path("manifest.fifo");
    mkfifo(&fifo);
    let writer_path = fifo.clone();
    // 144 MB, or until the reader goes away; a FIFO's size says nothing.
    const OFFERED: usize = 144 << 20;
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_path)
            .unwrap();
        let chunk = vec![b'#'; 1 << 16];
        let mut written = 0usize;
        while written < OFFERED && pipe.write_all(&chunk).is_ok() {
            written += chunk.len();
        }
        written
    });
    let (code, _, err) = stdout_of(env.regroup(&["validate", "-f", fifo.to_str().unwrap()]));
    assert_eq!(code, 1, "{err}");
    assert_has_line(
        &err,
        "  caused by: larger than the limit of 134217728 bytes",
    );
    let written = writer.join().unwrap();
    assert!(
        written < OFFERED,
        "all {written} bytes were read from the FIFO"
    );
}

#[test]
fn dev_zero_as_a_credential_file_is_a_size_error() {
    let env = Setup::new().without_env_keys().start();
    let token = {
        let mut c = env.regroup(&["whoami", "--max-tries", "1"]);
        c.env(
            "ALIBABA_CLOUD_ROLE_ARN",
            "acs:ram::1234567890123456:role/ci",
        )
        .env(
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1234567890123456:oidc-provider/gh",
        )
        .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/dev/zero");
        c
    };
    let ini = {
        let mut c = env.regroup(&["whoami", "--max-tries", "1"]);
        c.env("ALIBABA_CLOUD_CREDENTIALS_FILE", "/dev/zero");
        c
    };
    for (what, command) in [("OIDC token file", token), ("INI file", ini)] {
        let started = std::time::Instant::now();
        let (code, out, err) = stdout_of(command);
        assert_eq!(code, 1, "{what}: {out}{err}");
        assert!(
            err.contains("could not read /dev/zero")
                && err.contains("larger than the limit of 4194304 bytes"),
            "{what}: {err}"
        );
        // A bound on the test, not a timing assertion: reading until
        // memory runs out takes far longer.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{what}"
        );
    }
    assert_no_calls(&env.requests());
}

#[test]
fn a_fifo_with_no_writer_ends_in_an_error_not_a_hang() {
    let env = Setup::new().instances(1).manifest(TWO_INTO_PROD).start();
    let fifo = env.path("nobody-writes");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    for args in [vec!["validate", "-f", fifo], vec!["apply", fifo]] {
        let (code, out, err) = stdout_of(env.regroup(&args));
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(
            err.contains(fifo) && err.contains("no end of data within 10 s"),
            "{args:?}: {err}"
        );
    }
    assert_no_calls(&env.requests());
}

#[test]
fn a_huge_name_glob_is_a_one_line_error_not_a_panic() {
    let glob = "*a".repeat(200_000);
    let manifest = indoc(&format!(
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - name: \"{glob}\"
        "
    ));
    let env = Setup::new().manifest(&manifest).start();
    let (code, out, err) = stdout_of(env.regroup(&["validate"]));
    assert_eq!(code, 1, "{out}");
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.ends_with(":6:15: groups.prod.select[0].name: `*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a…` is not a valid glob: it is 400000 characters long, more than the 1024 a name glob may have"),
        "{}",
        &err[..err.len().min(400)]
    );
    assert!(
        err.len() < 1000,
        "the glob is not echoed whole: {} bytes",
        err.len()
    );
}

#[test]
fn an_external_process_printing_for_ever_ends_in_a_size_error() {
    let env = Setup::new().without_env_keys().start();
    env.write(
        ".aliyun/config.json",
        r#"{"current": "main", "profiles": [{"name": "main", "mode": "External", "process_command": "yes"}]}"#,
    );
    let (code, out, err) = stdout_of(env.regroup(&["whoami", "--max-tries", "1"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("`yes` printed more than the limit of 4194304 bytes"),
        "external process: {err}"
    );
}

/// A loopback credentials URI whose answer never ends (no length, bytes
/// for ever) or declares a length far over any credentials answer. It
/// answers at most `connections` requests, and sends each at most
/// `SENT_AT_MOST` bytes, so that a client without a bound fails the test
/// instead of the machine.
fn endless_credentials_uri(declared: Option<u64>, connections: usize) -> String {
    use std::io::{Read, Write};
    const SENT_AT_MOST: usize = 64 << 20;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/credentials", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            // The request's head, read up to its blank line (or 64 kB).
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let length = declared.map_or(String::new(), |n| format!("Content-Length: {n}\r\n"));
            let status = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}\r\n{{\"Code\":\"Success\",\"AccessKeyId\":\"");
            if stream.write_all(status.as_bytes()).is_err() {
                continue;
            }
            let chunk = vec![b'A'; 64 * 1024];
            let mut sent = 0;
            while sent < SENT_AT_MOST && stream.write_all(&chunk).is_ok() {
                sent += chunk.len();
            }
        }
    });
    url
}

/// A credentials URI that streams for ever, or declares a huge
/// answer, ends in a size-limit error instead of filling memory.
#[test]
fn a_credentials_uri_answering_without_end_is_a_size_error() {
    let env = Setup::new().without_env_keys().start();
    for (what, declared) in [("no length", None), ("a huge length", Some(1u64 << 40))] {
        let uri = endless_credentials_uri(declared, 1);
        let (code, out, err) = stdout_of(
            env.regroup(&["whoami", "--max-tries", "1"])
                .env("ALIBABA_CLOUD_CREDENTIALS_URI", &uri),
        );
        assert_eq!(code, 1, "{what}: {out}{err}");
        assert!(
            err.contains("credentials URI: the response is not the JSON expected: the answer is larger than the limit of 4194304 bytes"),
            "{what}: {err}"
        );
    }
    assert!(env.requests().is_empty(), "an API call was made");
}
