//! `regroup validate`: parse and check the manifest offline.

use std::io::Write;

use super::{load_manifest, Exit};
use crate::cli::Global;
use crate::output::Stdout;
use crate::render::count;

pub(super) fn run(global: &Global, out: &mut Stdout) -> anyhow::Result<Exit> {
    let manifest = load_manifest(global)?;
    let entries: usize = manifest.groups.iter().map(|g| g.resources.len()).sum();
    let rules: usize = manifest.groups.iter().map(|g| g.rules.len()).sum();
    writeln!(
        out,
        "{} is valid: {}, {}, {}.",
        manifest.file,
        count(manifest.groups.len(), "group", "groups"),
        count(entries, "explicit resource", "explicit resources"),
        count(rules, "select rule", "select rules"),
    )?;
    Ok(Exit::Success)
}
