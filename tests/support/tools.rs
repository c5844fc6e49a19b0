//! Outside programs the tests drive — the official SDKs, linters, parsers —
//! installed on first use from the package registries into the build area
//! (`target/tmp/tools`), so that `cargo test` on a fresh machine needs no
//! step of its own and a test never skips because a tool is missing: when an
//! install fails, the test that asked for it fails and says why.
//!
//! Each set of packages gets its own folder, named by a hash of the exact
//! requirement list, so pinning a new version installs afresh and two sets
//! never disturb each other. A folder appears only once its install has
//! finished (it is built under another name and renamed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// One install at a time in this process: tests run in parallel threads.
static INSTALLING: Mutex<()> = Mutex::new(());

fn tools_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("tools")
}

/// The folder for `kind` and `packages`, created by `install` (given a
/// scratch folder to fill) unless an earlier run made it already.
fn provisioned(
    kind: &str,
    packages: &[&str],
    install: impl Fn(&Path) -> Result<(), String>,
) -> PathBuf {
    let mut hasher = Sha256::new();
    for package in packages {
        hasher.update(package.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let key: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let folder = tools_root().join(format!("{kind}-{key}"));
    let _turn = INSTALLING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if folder.is_dir() {
        return folder;
    }
    let scratch = tools_root().join(format!("{kind}-{key}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", scratch.display()));
    if let Err(why) = install(&scratch) {
        let _ = std::fs::remove_dir_all(&scratch);
        panic!("installing {kind} packages {packages:?} failed (the test needs them; it does not skip): {why}");
    }
    if let Err(e) = std::fs::rename(&scratch, &folder) {
        // Another process finished the same install first: use its folder.
        let _ = std::fs::remove_dir_all(&scratch);
        assert!(
            folder.is_dir(),
            "cannot move {} into place: {e}",
            scratch.display()
        );
    }
    folder
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} exited {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The interpreter of a virtual environment that has `requirements` (pip
/// requirement strings, pinned: `aliyun-python-sdk-core==2.16.1`). The venv
/// is built under a scratch name and renamed, which its interpreter does not
/// mind (it finds `pyvenv.cfg` beside its `bin/`); only the `bin/` scripts
/// name their folder, so call `python -m pip`, never `bin/pip`.
pub fn python(requirements: &[&str]) -> PathBuf {
    let folder = provisioned("python", requirements, |scratch| {
        run(Command::new("python3").args(["-m", "venv"]).arg(scratch))?;
        run(Command::new(scratch.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet", "--no-input"])
            .args(requirements))
    });
    folder.join("bin/python")
}

/// An outside program (an official SDK's script) that talks only to the
/// emulator: no instance metadata, and no proxy in either spelling, which
/// the SDKs' HTTP clients would otherwise follow off this machine.
pub fn loopback_only(command: &mut Command) -> &mut Command {
    command.env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        command
            .env_remove(proxy)
            .env_remove(proxy.to_ascii_lowercase());
    }
    command
}

/// A folder whose `node_modules` has `packages` (npm specs, pinned:
/// `@alicloud/pop-core@1.8.0`); run scripts with `NODE_PATH` set to
/// `<folder>/node_modules`.
pub fn node_modules(packages: &[&str]) -> PathBuf {
    let folder = provisioned("node", packages, |scratch| {
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(scratch)
            .args(packages))
    });
    folder.join("node_modules")
}
