//! `regroup emulator` as a process and a server: state files, body limits, idle and many connections.

use crate::harness::{
    assert_has_line, spawn_emulator, stdout_of, Setup, EXAMPLE, KEY_ID, SECRET, TRICKY_FLEET,
};
use crate::text::indoc;
use assert_cmd::Command;
use regroup::emulator::fleet::Fleet;
use std::path::PathBuf;

#[test]
fn the_emulator_runs_one_command_against_the_example_fleet() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut command = Command::cargo_bin("regroup").unwrap();
    command
        .env_clear()
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["emulator", "--fleet"])
        .arg(examples.join("fleet.yaml"))
        .args(["--", "plan", "-f"])
        .arg(examples.join("regroup.yaml"));
    let (code, out, err) = stdout_of(command);
    assert_eq!(code, 0, "{err}");
    assert_has_line(&out, "Plan: 10 to move, 0 unchanged.");
}

#[test]
fn sigkill_during_a_burst_of_joins_leaves_a_loadable_state() {
    let dir = tempfile::tempdir().unwrap();
    let fleet_path = dir.path().join("fleet.yaml");
    let state = dir.path().join("state.json");
    let mut fleet = Setup::new().instances(400).fleet;
    fleet.resources.iter_mut().for_each(|r| r.group = None);
    std::fs::write(&fleet_path, serde_json::to_string(&fleet).unwrap()).unwrap();
    let (mut child, url) = spawn_emulator(&[
        "--fleet",
        fleet_path.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ]);

    let mut manifest = indoc(
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            select:
              - type: instance
        ",
    );
    manifest.push('\n');
    std::fs::write(dir.path().join("regroup.yaml"), &manifest).unwrap();
    let apply = std::process::Command::new(assert_cmd::cargo::cargo_bin("regroup"))
        .current_dir(dir.path())
        .env_clear()
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("HOME", dir.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args([
            "apply",
            "--auto-approve",
            "--parallelism",
            "16",
            "--endpoint",
            &url,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("apply.err")).unwrap())
        .spawn()
        .unwrap();
    // Kill once some moves are saved, while others are in flight.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let saved = std::fs::read_to_string(&state).unwrap_or_default();
        if saved.matches("rg-prod").count() > 20 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut apply = apply;
    let _ = apply.kill();
    let _ = apply.wait();

    let saved = Fleet::load(&state).unwrap_or_else(|e| {
        let apply_said = std::fs::read_to_string(dir.path().join("apply.err")).unwrap_or_default();
        panic!("the state file does not load after SIGKILL: {e:?}\napply said: {apply_said}")
    });
    assert_eq!(
        saved.resources.len(),
        400,
        "the state file keeps all 400 resources"
    );
    let moved = saved
        .resources
        .iter()
        .filter(|r| r.group.as_deref() == Some("rg-prod"))
        .count();
    assert!(moved >= 20, "{moved} moves were saved");
    assert!(
        saved
            .resources
            .iter()
            .all(|r| r.group.is_none() || r.group.as_deref() == Some("rg-prod")),
        "each saved resource is in the default group or prod"
    );
}

#[test]
fn the_emulator_refuses_bodies_over_a_mebibyte() {
    let env = Setup::new().start();
    let runtime = &env.runtime;
    let url = env.emulator.url();
    let (status, body) = runtime.block_on(async move {
        let response = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(vec![b'a'; 2 * 1024 * 1024])
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    });
    assert_eq!(
        status, 413,
        "a body over the limit is refused with 413: {body}"
    );
    assert!(body.contains("<Code>RequestBodyTooLarge</Code>"), "{body}");
}

#[test]
fn idle_connections_are_closed() {
    use std::io::{Read, Write};
    let env = Setup::new()
        .emulator(|s| s.idle_timeout = std::time::Duration::from_secs(1))
        .start();
    // The read timeout is ten times the idle timeout: a read that times out
    // means the server kept the connection open.
    let closed = |result: std::io::Result<usize>| match result {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    let mut silent = std::net::TcpStream::connect(env.emulator.addr()).unwrap();
    silent
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut buffer = [0u8; 64];
    let result = silent.read(&mut buffer);
    assert!(closed(result), "a silent connection is closed");

    // One request, then silence: answered, then closed.
    let mut kept = std::net::TcpStream::connect(env.emulator.addr()).unwrap();
    kept.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    kept.write_all(b"GET /?Action=X HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let ended = kept.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        ended.is_ok(),
        "the connection stayed open after its answer: {ended:?}"
    );
}

#[test]
fn five_hundred_connections_at_once_are_all_answered() {
    let (mut child, url) = spawn_emulator(&[
        "--fleet",
        &format!("{}/examples/fleet.yaml", env!("CARGO_MANIFEST_DIR")),
    ]);
    let addr = url.trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers: Vec<String> = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // Open them all first, so that all 500 are open together.
        let mut streams = Vec::new();
        for _ in 0..500 {
            let stream = tokio::net::TcpStream::connect(&addr).await;
            streams.push(stream.unwrap_or_else(|e| panic!("connection {} to {addr}: {e}", streams.len())));
        }
        let requests = streams.into_iter().map(|mut stream| async move {
            stream
                .write_all(b"GET /?Format=JSON&Action=DescribeInstances HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await.unwrap();
            String::from_utf8_lossy(&answer).into_owned()
        });
        futures::future::join_all(requests).await
    });
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        answers.len(),
        500,
        "each of the 500 connections is answered"
    );
    for answer in &answers {
        assert!(
            answer.starts_with("HTTP/1.1 400") && answer.contains("\"Code\":\"MissingParameter\""),
            "{answer}"
        );
    }
    let rss_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        rss_kb > 0 && rss_kb < 200 * 1024,
        "the emulator holds {rss_kb} kB"
    );
}

#[test]
fn the_emulator_refuses_key_pair_names_the_manifest_refuses() {
    let env = Setup::new().example_fleet().start();
    for bad in ["n", "k#x", "1key"] {
        let fleet = TRICKY_FLEET.replace("id: \"y1\"", &format!("id: \"{bad}\""));
        env.write("bad.yaml", &fleet);
        let (code, out, err) = env.run(&[
            "emulator", "--fleet", "bad.yaml", "--", "validate", "-f", EXAMPLE,
        ]);
        assert_eq!(code, 1, "{bad}: {out}");
        assert!(
            err.contains(&format!("`{bad}` is not a key pair name")),
            "{bad}: {err}"
        );
    }
}
