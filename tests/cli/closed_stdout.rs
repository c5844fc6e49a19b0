//! What regroup does when its stdout closes or fills: a closed pipe ends
//! `export` and `plan` quietly with exit 0, a full disk is an error not a
//! panic, and a pipe closed after the moves keeps the report and the exit
//! code.

use crate::harness::Setup;

/// A pipe whose reading end is already closed, as after `| head -1` has
/// read its line: any write to the other end fails with EPIPE.
fn closed_pipe() -> std::process::Stdio {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe() fills both descriptors; each is owned exactly once below.
    let (read, write) = unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0, "pipe() works");
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    drop(read);
    std::process::Stdio::from(write)
}

#[test]
fn a_closed_stdout_ends_export_and_plan_quietly_with_exit_0() {
    let env = Setup::new()
        .instances(3)
        .manifest(crate::harness::TWO_INTO_PROD)
        .start();
    for args in [
        &["export", "--region", "cn-hangzhou"][..],
        &["plan"][..],
        &["plan", "--format", "json"][..],
        &["schema"][..],
        &["completions", "bash"][..],
        &["validate"][..],
    ] {
        let output = env
            .process(args)
            .stdout(closed_pipe())
            .output()
            .expect("regroup runs");
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&output.stderr), "", "{args:?}");
    }
}

#[test]
fn a_full_disk_on_stdout_is_an_error_not_a_panic() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: this system has no /dev/full");
        return;
    }
    let env = Setup::new()
        .instances(3)
        .manifest(crate::harness::TWO_INTO_PROD)
        .start();
    for args in [&["plan"][..], &["export", "--region", "cn-hangzhou"][..]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full opens");
        let output = env
            .process(args)
            .stdout(full)
            .output()
            .expect("regroup runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("Error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains("No space left on device"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Once moves were made, a closed stdout must cost neither the report nor
/// the exit code: a failed apply is still exit 1.
#[test]
fn a_closed_stdout_after_the_moves_keeps_the_report_and_the_exit_code() {
    let env = Setup::new()
        .instances(2)
        .manifest(crate::harness::TWO_INTO_PROD)
        .emulator(|settings| settings.phantom_rate = 1.0)
        .start();
    let report = env.path("report.json");
    let output = env
        .process(&[
            "apply",
            "--auto-approve",
            "--report",
            report.to_str().unwrap(),
        ])
        .stdout(closed_pipe())
        .output()
        .expect("regroup runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("the report is written")).unwrap();
    assert_eq!(
        report["outcomes"][0]["status"], "not_moved_despite_success",
        "the join acknowledged but not made is reported as such: {report:#}"
    );
}
