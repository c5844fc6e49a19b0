//! Records the git commit the binary is built from, for `regroup --version`.
//!
//! Order: `REGROUP_GIT_COMMIT` from the environment (container and release
//! builds, whose build context has no `.git`), then `git rev-parse --short
//! HEAD` when this package is the top of a git checkout, else `unknown` (a
//! crate tarball, or a source tree without git).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=REGROUP_GIT_COMMIT");
    let commit = match std::env::var("REGROUP_GIT_COMMIT") {
        Ok(commit) if !commit.trim().is_empty() => commit.trim().to_owned(),
        _ => from_git().unwrap_or_else(|| "unknown".to_owned()),
    };
    println!("cargo:rustc-env=REGROUP_GIT_COMMIT={commit}");
}

/// The short commit of HEAD, watching the files that change when HEAD moves.
fn from_git() -> Option<String> {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    // A crate unpacked inside someone else's repository (vendored, or in a
    // registry cache under a dotfiles repo) must not report that repository's
    // commit: only a checkout whose top is this package counts.
    let top = git(&manifest_dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != manifest_dir.canonicalize().ok()? {
        return None;
    }
    // HEAD names the branch; the branch's ref file (or packed-refs once git
    // packs it) changes on every commit. In a worktree these live in
    // different directories, so ask git for each path. Only existing files
    // are watched: cargo treats a missing one as always changed.
    let mut watched = vec![git(&manifest_dir, &["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(&manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(&manifest_dir, &["rev-parse", "--git-path", &branch]));
    }
    watched.extend(git(
        &manifest_dir,
        &["rev-parse", "--git-path", "packed-refs"],
    ));
    for path in watched {
        let path = manifest_dir.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    git(&manifest_dir, &["rev-parse", "--short", "HEAD"])
}

/// One line of git's output, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let line = text.trim();
    (output.status.success() && !line.is_empty()).then(|| line.to_owned())
}
