//! Files regroup writes (plans, reports, undo plans): a planted symlink is
//! replaced not followed, non-regular paths are refused, and no output is
//! written over the manifest or the plan being applied.

use crate::harness::{mkfifo, stdout_of, Setup, TWO_INTO_PROD};
use std::path::Path;

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
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious",
        "the symlink's target is untouched"
    );
    assert!(
        std::fs::read_to_string(&plan)
            .unwrap()
            .contains("\"changes\""),
        "the plan is written in place of the symlink"
    );
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
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
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
        assert_eq!(
            std::fs::read_to_string(manifest).unwrap(),
            TWO_INTO_PROD,
            "the manifest is not overwritten"
        );
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
    assert_eq!(
        std::fs::read_to_string(plan).unwrap(),
        saved,
        "the plan is not overwritten"
    );
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
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
    assert_eq!(
        env.group_of("i-bp1test00000"),
        "rg-default",
        "i-bp1test00000 should end in rg-default"
    );
}
