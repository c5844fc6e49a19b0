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
    let sum = format!(
        "{:x}",
        sha2::Sha256::digest(compact(&pretty.replace(old, "")).as_bytes())
    );
    pretty.replace(old, &sum)
}

/// JSON text without the whitespace between its tokens, fields in the
/// order they are written (strings kept as they are).
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
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

    // A manifest named with -f that is missing is an error, not a reason
    // to skip the check.
    std::fs::remove_file(&env.manifest).unwrap();
    let (code, out, err) =
        stdout_of(env.regroup(&["apply", plan.to_str().unwrap(), "-f", "regroup.yaml"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("regroup.yaml"),
        "the error names the manifest: {err}"
    );
    assert_eq!(env.writes(), 0, "a plan was applied without its manifest");
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

/// Issue 23: a saved plan is data, not authority.
mod saved_plans {
    use super::*;
    use crate::harness::{apply_recorded, read_json, ALL_INTO_PROD};
    use regroup::resource::ResourceType;

    #[test]
    fn a_plan_resealed_as_undo_is_refused_with_nothing_written() {
        let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
        let plan = env.path("plan.json");
        let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
        assert_eq!(code, 0, "{err}");
        let saved = std::fs::read_to_string(&plan).unwrap();
        // An undo plan skips the manifest check: mark the plan undo, and
        // add a move the manifest never asked for.
        let forged = saved
            .replacen("\"checksum\"", "\"undo\": true,\n  \"checksum\"", 1)
            .replacen("i-bp1test00001", "i-bp1test00002", 1);
        std::fs::write(&plan, reseal(&forged)).unwrap();
        let (code, out, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("the undo plan names no report of the apply it undoes"),
            "{err}"
        );
        assert_eq!(env.writes(), 0, "a forged undo plan moved resources");
    }

    #[test]
    fn an_undo_plan_moves_back_only_what_its_report_records() {
        let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
        let (undo, report, _) = apply_recorded(&env);
        let writes = env.writes();
        let saved = std::fs::read_to_string(&undo).unwrap();
        assert!(
            saved.contains("\"undoes\""),
            "the undo plan names its report: {saved}"
        );

        // A move the report does not record, resealed.
        let forged = saved.replacen("i-bp1test00001", "i-bp1test00002", 1);
        let path = env.path("forged-undo.json");
        std::fs::write(&path, reseal(&forged)).unwrap();
        let (code, out, err) = stdout_of(env.regroup(&["apply", path.to_str().unwrap()]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("the undo plan has 1 change(s) that its report does not record")
                && err.contains("instance/i-bp1test00002 (cn-hangzhou): the undo plan moves it from `rg-prod` to `rg-default`"),
            "{err}"
        );
        // Back to a group other than the one the report records.
        let forged = saved.replacen("\"id\": \"rg-default\"", "\"id\": \"rg-legacy\"", 1);
        std::fs::write(&path, reseal(&forged)).unwrap();
        let (code, out, err) = stdout_of(env.regroup(&["apply", path.to_str().unwrap()]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(err.contains("that its report does not record"), "{err}");

        // The report edited to record what the forger wants.
        let mut edited = std::fs::read_to_string(&report).unwrap();
        edited.push('\n');
        std::fs::write(&report, edited).unwrap();
        let (code, out, err) = stdout_of(env.regroup(&["apply", undo.to_str().unwrap()]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(err.contains("has changed since"), "{err}");
        assert_eq!(env.writes(), writes, "an unbound undo plan moved resources");
        assert_eq!(env.group_of("i-bp1test00002"), "rg-default");
    }

    #[test]
    fn an_undo_plan_applied_twice_writes_its_report_and_says_what_happened() {
        let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
        let (undo, _, _) = apply_recorded(&env);
        let (code, out, err) = stdout_of(env.regroup(&["apply", undo.to_str().unwrap()]));
        assert_eq!(code, 0, "{out}{err}");
        let again = env.path("again.json");
        let (code, out, err) = stdout_of(env.regroup(&[
            "apply",
            undo.to_str().unwrap(),
            "--report",
            again.to_str().unwrap(),
        ]));
        assert_eq!(code, 0, "an undo already done is no failure: {out}{err}");
        assert!(
            out.contains("instance/i-bp1test00000 (cn-hangzhou): already back in rg-default, nothing to undo"),
            "{out}"
        );
        let report = read_json(&again);
        let statuses: Vec<&str> = report["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["not_started", "not_started"], "{report}");
    }

    #[test]
    fn a_forged_eviction_of_a_type_the_manifest_does_not_cover_is_refused() {
        let manifest = "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    exclusive: true\n    resources:\n      - instance/i-bp1test00000\n";
        let env = Setup::new()
            .instances(1)
            .resource(ResourceType::Disk, "d-bp1forged0000", Some("rg-prod"))
            .manifest(manifest)
            .start();
        let plan = env.path("plan.json");
        let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
        assert_eq!(code, 0, "{err}");
        let saved = std::fs::read_to_string(&plan).unwrap();
        let eviction = r#"{"resource": {"type": "disk", "region": "cn-hangzhou", "id": "d-bp1forged0000"}, "name": "d", "from": {"id": "rg-prod", "name": "prod"}, "to": {"id": "rg-default", "name": "default"}, "source": {"file": "regroup.yaml", "line": 4, "column": 5}, "evict": true},"#;
        let forged = saved.replacen("\"changes\": [", &format!("\"changes\": [{eviction}"), 1);
        std::fs::write(&plan, reseal(&forged)).unwrap();
        let (code, out, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("disk/d-bp1forged0000 (cn-hangzhou): the plan moves it to `default` (rg-default); the manifest asks for no move of it"),
            "{err}"
        );
        assert_eq!(env.writes(), 0);
        assert_eq!(env.group_of("d-bp1forged0000"), "rg-prod");
    }

    #[test]
    fn an_inflated_unchanged_count_does_not_pass_max_changes() {
        let mut setup = Setup::new().instances(5);
        for n in 0..5 {
            setup = setup.resource(
                ResourceType::Instance,
                &format!("i-bp1prod{n:05}"),
                Some("rg-prod"),
            );
        }
        let env = setup.manifest(ALL_INTO_PROD).start();
        let plan = env.path("plan.json");
        let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
        assert_eq!(code, 0, "{err}");
        let saved = std::fs::read_to_string(&plan).unwrap();
        let forged = saved.replacen("\"unchanged\": 5,", "\"unchanged\": 1000,", 1);
        assert_ne!(forged, saved, "the plan counts 5 unchanged");
        std::fs::write(&plan, reseal(&forged)).unwrap();
        let (code, out, err) =
            stdout_of(env.regroup(&["apply", plan.to_str().unwrap(), "--max-changes", "40%"]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("the plan moves 5 resource(s), more than the 4 allowed by --max-changes 40% (of 10 managed resources)"),
            "{err}"
        );
        assert_eq!(env.writes(), 0);
    }

    #[test]
    fn region_limits_a_saved_plan_applied_without_its_manifest() {
        let manifest = "version: 1\nregions: [cn-hangzhou, cn-shanghai]\ngroups:\n  prod:\n    select:\n      - type: instance\n";
        let env = Setup::new()
            .instances(1)
            .resource_in(
                "cn-shanghai",
                ResourceType::Instance,
                "i-uf6test00000",
                None,
            )
            .examples()
            .start();
        env.write("m.yaml", manifest);
        let (code, _, err) = stdout_of(env.regroup(&["plan", "-f", "m.yaml", "-o", "plan.json"]));
        assert_eq!(code, 0, "{err}");
        std::fs::remove_file(env.path("m.yaml")).unwrap();
        let (code, out, err) =
            stdout_of(env.regroup(&["apply", "plan.json", "--region", "cn-hangzhou"]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("the saved plan moves 1 resource(s) outside --region cn-hangzhou (the first: instance/i-uf6test00000 (cn-shanghai))"),
            "{err}"
        );
        assert_eq!(env.writes(), 0);
    }

    #[test]
    fn a_saved_plan_without_f_is_checked_against_the_manifest_it_names() {
        // `examples()`: no manifest of the test's own, so no -f is added.
        let env = Setup::new().instances(3).examples().start();
        std::fs::create_dir(env.path("config")).unwrap();
        env.write("config/groups.yaml", TWO_INTO_PROD);
        let (code, _, err) =
            stdout_of(env.regroup(&["plan", "-f", "config/groups.yaml", "-o", "plan.json"]));
        assert_eq!(code, 0, "{err}");
        let saved = std::fs::read_to_string(env.path("plan.json")).unwrap();
        let forged = saved.replacen("i-bp1test00001", "i-bp1test00002", 1);
        std::fs::write(env.path("plan.json"), reseal(&forged)).unwrap();
        // No -f, and no ./regroup.yaml: the plan names its manifest.
        let (code, out, err) = stdout_of(env.regroup(&["apply", "plan.json"]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("the saved plan has 1 change(s) that the manifest does not ask for"),
            "{err}"
        );
        assert_eq!(env.writes(), 0);
    }

    #[test]
    fn the_report_and_the_undo_plan_are_compared_as_files_not_strings() {
        let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
        let (code, out, err) = stdout_of(env.regroup(&[
            "apply",
            "--auto-approve",
            "--report",
            "r.json",
            "--undo-plan",
            "./r.json",
        ]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("--report and --undo-plan name the same file, r.json and ./r.json"),
            "{err}"
        );
        assert!(
            env.requests().is_empty(),
            "a call was made before the check"
        );
    }
}

/// Issue 23: every input has a size and a time bound.
mod bounded_inputs {
    use super::*;

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
        assert!(env.requests().is_empty());
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
        assert!(env.requests().is_empty());
    }
}

/// Issue 23: the report is the truth on every exit path.
mod stopped_runs {
    use super::*;
    use crate::harness::{read_json, Running, ALL_INTO_PROD};
    use std::time::{Duration, Instant};

    /// Starts `apply --auto-approve --report report.json --undo-plan
    /// undo.json` against a slow emulator whose joins are 30 % phantom,
    /// sends `signal` once 20 joins have arrived, and returns the exit code
    /// and stderr.
    fn apply_then(env: &Running, signal: &str) -> (i32, String) {
        let mut child = env
            .process(&[
                "apply",
                "--auto-approve",
                "--parallelism",
                "4",
                "--report",
                "report.json",
                "--undo-plan",
                "undo.json",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while env.writes() < 20 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
        let mut err = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let code = child.wait().unwrap().code().unwrap_or(-1);
        (code, err)
    }

    fn phantom_fleet() -> Running {
        Setup::new()
            .instances(120)
            .manifest(ALL_INTO_PROD)
            .emulator(|s| {
                s.latency = Duration::from_millis(20);
                s.phantom_rate = 0.3;
                s.seed = Some(11);
            })
            .start()
    }

    #[test]
    fn after_sigterm_with_phantom_joins_every_outcome_agrees_with_the_account() {
        let env = phantom_fleet();
        let (code, err) = apply_then(&env, "TERM");
        assert_eq!(code, 130, "{err}");
        let report = read_json(&env.path("report.json"));
        let outcomes = report["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len(), 120);
        let mut moved = 0;
        for outcome in outcomes {
            let id = outcome["change"]["resource"]["id"].as_str().unwrap();
            let now = env.group_of(id);
            let status = outcome["status"].as_str().unwrap();
            let agrees = match status {
                "moved" => now == "rg-prod",
                "not_started" | "failed" | "not_moved_despite_success" => now == "rg-default",
                "unverified" => true,
                other => panic!("{id}: unexpected status {other}"),
            };
            moved += usize::from(status == "moved");
            assert!(
                agrees,
                "{id} is reported {status} but is in {now}: {outcome}"
            );
        }
        assert!(moved > 0, "nothing was read back as moved: {report}");
        // The undo plan takes back every change that may have happened.
        let undo = read_json(&env.path("undo.json"));
        let undone: Vec<&str> = undo["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["resource"]["id"].as_str().unwrap())
            .collect();
        for outcome in outcomes {
            let id = outcome["change"]["resource"]["id"].as_str().unwrap();
            if env.group_of(id) == "rg-prod" {
                assert!(
                    undone.contains(&id),
                    "{id} moved but is not in the undo plan"
                );
            }
        }
    }

    #[test]
    fn sighup_leaves_a_report_and_an_undo_plan() {
        let env = phantom_fleet();
        let (code, err) = apply_then(&env, "HUP");
        assert_eq!(code, 130, "a hang-up stops the run as SIGTERM does: {err}");
        let report = read_json(&env.path("report.json"));
        assert_eq!(report["interrupted"], true, "{report}");
        assert_eq!(report["outcomes"].as_array().unwrap().len(), 120);
        let undo = read_json(&env.path("undo.json"));
        assert_eq!(undo["undo"], true);
        assert_eq!(
            undo["changes"].as_array().unwrap().len() as u64,
            report["moved"].as_u64().unwrap() + report["unverified"].as_u64().unwrap(),
            "the undo plan holds every change that may have happened"
        );
    }
}

#[test]
fn a_huge_name_glob_is_a_one_line_error_not_a_panic() {
    let glob = "*a".repeat(200_000);
    let manifest = format!(
        "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - name: \"{glob}\"\n"
    );
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
fn metadata_disabled_holds_for_an_ecs_ram_role_cli_profile() {
    let env = Setup::new().without_env_keys().start();
    env.write(
        ".aliyun/config.json",
        r#"{"current": "main", "profiles": [{"name": "main", "mode": "EcsRamRole", "ram_role_name": "instance-role"}]}"#,
    );
    // The metadata server the profile would ask is the emulator's, so a
    // call to it would be logged; the harness sets
    // ALIBABA_CLOUD_ECS_METADATA_DISABLED=true.
    let (code, out, err) = stdout_of(
        env.regroup(&["whoami", "--max-tries", "1"])
            .env("REGROUP_METADATA_ENDPOINT", env.emulator.url()),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("ALIBABA_CLOUD_ECS_METADATA_DISABLED=true forbids"),
        "{err}"
    );
    assert!(
        env.requests().is_empty(),
        "the metadata address was contacted: {:?}",
        env.requests().iter().map(|r| &r.action).collect::<Vec<_>>()
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

/// Issue 24: a saved plan names its manifest by what it means, so an edit
/// of comments or layout keeps the plan valid (the plan JSON's field is
/// still `manifest.sha256`), and any change of meaning refuses it with
/// nothing written.
#[test]
fn a_saved_plan_outlives_comment_edits_but_not_changes_of_meaning() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", "plan.json"]));
    assert_eq!(code, 0, "{err}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("plan.json")).unwrap()).unwrap();
    let planned_from = saved["manifest"]["sha256"].as_str().unwrap_or_default();
    assert_eq!(
        planned_from.len(),
        64,
        "the plan's manifest.sha256: {saved}"
    );

    let meaning_changed = TWO_INTO_PROD.replace("  prod:\n", "  staging:\n");
    std::fs::write(&env.manifest, meaning_changed).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["apply", "plan.json"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("was planned from another version of"), "{err}");
    assert_eq!(env.writes(), 0, "a plan of another manifest was applied");

    let commented = format!(
        "# Who owns what, reviewed by the platform team.\n\n{}",
        TWO_INTO_PROD.replace("  prod:\n", "  prod:   # payments\n")
    );
    std::fs::write(&env.manifest, commented).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["apply", "plan.json"]));
    assert_eq!(code, 0, "a comment edit invalidated the plan: {out}{err}");
    assert_eq!(env.group_of("i-bp1test00001"), "rg-prod", "{out}");
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

/// Issue 23: a credentials URI that streams for ever, or declares a huge
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

/// Issue 23 item 11, as docs/manifest.md "The default group" says: the
/// default group is the one whose `Name` is `default`, whatever the display
/// names say, and an empty `ResourceGroupId` is read as its id. (This pins
/// documented behaviour; the item changed the documentation only.)
#[test]
fn the_default_group_is_found_by_name_not_display_name() {
    let env = Setup::new()
        .instances(1)
        .manifest("version: 1\nregions: [cn-hangzhou]\ngroups:\n  default:\n    resources: [instance/i-bp1test00000]\n")
        .emulator(|s| s.empty_default_group_id = true)
        .start();
    env.edit(|account| {
        for group in &mut account.groups {
            group.display_name = match group.name.as_str() {
                "default" => Some("Default Resource Group".into()),
                "dev" => Some("default".into()),
                _ => None,
            };
        }
    });
    let (code, out, err) = stdout_of(env.regroup(&["plan", "--detailed-exitcode"]));
    assert_eq!(
        code, 0,
        "the instance in the default group was planned to move: {out}{err}"
    );
    assert!(out.contains("No changes."), "{out}");
    assert_eq!(env.group_of("i-bp1test00000"), "rg-default");
}
