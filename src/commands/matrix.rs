//! `regroup matrix --shards N`: prints the shards as the JSON a CI engine
//! fans out over (`crate::matrix`); offline.

use std::io::Write;

use super::Exit;
use crate::cli::MatrixArgs;
use crate::output::Stdout;

pub(super) fn run(args: &MatrixArgs, out: &mut Stdout) -> anyhow::Result<Exit> {
    let matrix = crate::matrix::matrix_json(args.shards, args.engine)?;
    writeln!(out, "{matrix}")?;
    Ok(Exit::Success)
}
