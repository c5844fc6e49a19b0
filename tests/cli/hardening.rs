//! Hostile paths, proxies, forged plans and leaky errors: what the
//! adversarial run of issue 17 found, each pinned by a test.

use std::path::Path;

use crate::harness::{stdout_of, Setup, TWO_INTO_PROD};

fn mkfifo(path: &Path) {
    let name = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false)
}

#[test]
fn a_planted_tmp_symlink_is_replaced_not_followed() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let victim = env.path("victim");
    std::fs::write(&victim, "precious").unwrap();
    let plan = env.path("plan.json");
    std::os::unix::fs::symlink(&victim, env.path("plan.json.tmp")).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::read_to_string(&plan)
        .unwrap()
        .contains("\"changes\""));
}

#[test]
fn output_paths_that_are_not_regular_files_are_refused() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let fifo = env.path("fifo");
    mkfifo(&fifo);
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", fifo.to_str().unwrap()]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is a FIFO, not a regular file"), "{err}");
    assert!(is_fifo(&fifo), "the FIFO was replaced");
    assert!(env.requests().is_empty(), "the account was read first");

    let (code, _, err) = stdout_of(env.regroup(&[
        "apply",
        "--auto-approve",
        "--report",
        env.path("").to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is a folder, not a regular file"), "{err}");
    assert_eq!(env.writes(), 0);
}

#[test]
fn a_plan_is_never_saved_over_its_manifest() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let manifest = env.manifest.to_str().unwrap();
    // The same file by another spelling still counts.
    let dotted = env.path(".").join("regroup.yaml");
    for out in [manifest, dotted.to_str().unwrap()] {
        let (code, _, err) = stdout_of(env.regroup(&["plan", "-f", manifest, "-o", out]));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("which this command reads"), "{err}");
        assert_eq!(std::fs::read_to_string(manifest).unwrap(), TWO_INTO_PROD);
    }
}

#[test]
fn a_report_is_never_written_over_the_plan_being_applied() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    let plan = plan.to_str().unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan]));
    assert_eq!(code, 0, "{err}");
    let saved = std::fs::read_to_string(plan).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", plan, "--report", plan]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the plan being applied"), "{err}");
    assert_eq!(std::fs::read_to_string(plan).unwrap(), saved);
    assert_eq!(env.writes(), 0);
}

#[test]
fn a_report_into_a_missing_folder_is_refused_before_any_move() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let report = env.path("no-such-folder").join("report.json");
    let (code, _, err) = stdout_of(env.regroup(&[
        "apply",
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(
        env.writes(),
        0,
        "moves were made before the path was checked"
    );
    assert_eq!(env.group_of("i-bp1test00000"), "rg-default");
}

#[test]
fn endless_inputs_are_read_only_up_to_their_limit() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let (code, _, err) = stdout_of(env.regroup(&["validate", "-f", "/dev/zero"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("larger than the limit of 134217728 bytes"),
        "{err}"
    );
    let (code, _, err) = stdout_of(env.regroup(&["apply", "/dev/zero"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("/dev/zero is larger than the limit of 134217728 bytes"),
        "{err}"
    );
    assert!(env.requests().is_empty());
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
    assert!(
        err.contains("larger than the limit of 134217728 bytes"),
        "{err}"
    );
    let written = writer.join().unwrap();
    assert!(
        written < OFFERED,
        "all {written} bytes were read from the FIFO"
    );
}

/// A stand-in for a remote proxy, on another loopback address (nothing in
/// these tests leaves the machine): it closes every connection at once, so
/// that a client that does use it fails fast instead of waiting.
struct FakeProxy {
    url: String,
    accepted: std::sync::mpsc::Receiver<std::net::SocketAddr>,
}

impl FakeProxy {
    fn start() -> FakeProxy {
        let listener = std::net::TcpListener::bind("127.0.0.2:0").expect("127.0.0.2 is loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (send, accepted) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Ok((_, peer)) = listener.accept() {
                if send.send(peer).is_err() {
                    break;
                }
            }
        });
        FakeProxy { url, accepted }
    }

    /// How many connections it has had. A connection of our own goes last:
    /// connections are accepted in order, so every one made before it has
    /// been counted once it comes through.
    fn connections(&self) -> usize {
        let address = self.url.trim_start_matches("http://");
        let sentinel = std::net::TcpStream::connect(address).unwrap();
        let mine = sentinel.local_addr().unwrap();
        self.accepted
            .iter()
            .take_while(|peer| *peer != mine)
            .count()
    }
}

#[test]
fn proxy_variables_never_see_calls_to_a_loopback_endpoint() {
    let proxy = FakeProxy::start();
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    for variable in [
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
    ] {
        let (code, out, err) = stdout_of(
            env.regroup(&["plan", "--max-tries", "1"])
                .env(variable, &proxy.url),
        );
        assert_eq!(
            proxy.connections(),
            0,
            "{variable}: the proxy was contacted"
        );
        assert_eq!(code, 0, "{variable}: {err}");
        assert!(out.contains("2 to move"), "{variable}: {out}");
    }
}

/// Re-seals an edited plan the way regroup does: the sha256 of its compact
/// JSON, fields in the plan's order, with the checksum empty. Anyone who can
/// edit the file can do this.
fn reseal(pretty: &str) -> String {
    use sha2::Digest;
    let value: serde_json::Value = serde_json::from_str(pretty).unwrap();
    let old = value["checksum"].as_str().unwrap();
    // The compact form, fields in the same order: the pretty form without
    // its whitespace (the ids, names and paths here hold none).
    let compact: String = pretty.replace(old, "").split_whitespace().collect();
    let sum = format!("{:x}", sha2::Sha256::digest(compact.as_bytes()));
    pretty.replace(old, &sum)
}

#[test]
fn a_forged_saved_plan_is_refused_when_the_manifest_is_at_hand() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let saved = std::fs::read_to_string(&plan).unwrap();
    // The re-sealed original is accepted, so the forgeries below fail only
    // for what they change.
    assert_eq!(
        reseal(&saved),
        saved,
        "the checksum is recomputed as regroup does"
    );

    let forgeries = [
        // A resource the manifest does not mention.
        (
            saved.replacen("i-bp1test00001", "i-bp1test00002", 1),
            "instance/i-bp1test00002 (cn-hangzhou): the plan moves it to `prod` (rg-prod); the manifest asks for no move of it",
        ),
        // Into a group the manifest does not name.
        (
            saved.replacen("\"id\": \"rg-prod\"", "\"id\": \"rg-legacy\"", 1),
            "instance/i-bp1test00000 (cn-hangzhou): the plan moves it to `prod` (rg-legacy); the manifest puts it in `prod` (rg-prod)",
        ),
    ];
    for (forged, expected) in forgeries {
        assert_ne!(forged, saved);
        let path = env.path("forged.json");
        std::fs::write(&path, reseal(&forged)).unwrap();
        let (code, out, err) = stdout_of(env.regroup(&["apply", path.to_str().unwrap()]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("the saved plan has 1 change(s) that the manifest does not ask for"),
            "{err}"
        );
        assert!(err.contains(expected), "{err}");
        assert_eq!(env.writes(), 0);
    }

    // Without a manifest, the plan is applied as saved, and apply says so.
    std::fs::remove_file(&env.manifest).unwrap();
    let (code, out, err) =
        stdout_of(env.regroup(&["apply", plan.to_str().unwrap(), "-f", "regroup.yaml"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Applying ")
            && out.contains("as saved: there is no regroup.yaml to check its changes against"),
        "{out}"
    );
    assert!(out.contains("Apply complete! 2 moved, 0 failed."), "{out}");
}

/// The credentials URI answers with a secret and a token, so a plain-http or
/// loopback URI is fetched directly even when regroup talks to Alibaba
/// Cloud's own endpoints (which may be proxied). The URI names a closed
/// loopback port: the fetch fails, so the run stops in the credential chain
/// before any API call, and nothing can leave the machine.
#[test]
fn a_credentials_uri_is_never_fetched_through_a_proxy() {
    let proxy = FakeProxy::start();
    let env = Setup::new().start();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/credentials", listener.local_addr().unwrap())
    };
    let (code, out, err) = stdout_of(
        env.regroup(&["whoami", "--max-tries", "1"])
            .env_remove("REGROUP_ENDPOINT")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .env("ALIBABA_CLOUD_CREDENTIALS_URI", &closed)
            .env("HTTP_PROXY", &proxy.url)
            .env("ALL_PROXY", &proxy.url),
    );
    assert_eq!(
        proxy.connections(),
        0,
        "the credentials URI went through the proxy: {out}{err}"
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("credentials URI"), "{err}");
}
