//! What each subcommand does, one file per subcommand: each resolves its
//! options (`options`), makes the library call, prints through one
//! [`Stdout`], and says how the process should exit. Here: the dispatch
//! and the exit codes.

mod apply;
mod emulator;
mod export;
mod history;
mod matrix;
mod merge;
mod options;
mod plan;
mod policy;
mod reconcile;
mod show;
mod validate;
mod whoami;

use std::io::Write;

use anyhow::Context as _;

use crate::cli::{Cli, Command};
use crate::cloud::credentials::CredentialSource;
use crate::output::{self, report_error, Stdout};
use options::{check_region_options, client, load_manifest, use_color};

/// How the process ends; the numbers are the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    /// Only with `--detailed-exitcode`: the plan has changes.
    Changes = 2,
    Interrupted = 130,
}

/// Settings that the emulator's `-- COMMAND` mode imposes on the command it
/// runs.
#[derive(Default, Clone)]
pub struct Overrides {
    pub endpoint: Option<String>,
    pub credentials: Option<CredentialSource>,
}

/// Runs one parsed command line.
pub async fn run(cli: Cli, overrides: Overrides) -> anyhow::Result<Exit> {
    let global = cli.global;
    let mut out = Stdout::lock();
    let exit = match cli.command {
        Command::Validate => validate::run(&global, &mut out),
        Command::Policy(args) => policy::run(&global, &args, &mut out),
        Command::Plan(args) => plan::run(&global, &overrides, &args, &mut out).await,
        Command::Apply(args) => apply::run(&global, &overrides, &args, &mut out).await,
        Command::Export(args) => export::run(&global, &overrides, &args, &mut out).await,
        Command::Completions { shell } => completions(shell, &mut out),
        Command::Schema => schema(&mut out),
        Command::History(args) => history::run(&global, &overrides, &args, &mut out).await,
        Command::Reconcile(args) => reconcile::run(&global, &overrides, &args, &mut out).await,
        Command::Emulator(args) => emulator::run(args).await,
        Command::Whoami => whoami::run(&global, &overrides, &mut out).await,
        Command::Show(args) => show::run(&global, &args, &mut out),
        Command::Matrix(args) => matrix::run(&args, &mut out),
        Command::Merge(args) => merge::run(&global, &args, &mut out),
    }?;
    // A command that already failed keeps its exit code: a closed stdout
    // must not turn it into a success.
    let flushed = out.flush().context("could not write to stdout");
    match flushed {
        Err(error) if exit == Exit::Success => Err(error),
        _ => Ok(exit),
    }
}

/// The exit code for a command that failed with `error`, after saying why
/// on stderr. A closed stdout is not a failure: the reader had enough.
pub fn exit_for_error(error: &anyhow::Error) -> Exit {
    if output::is_broken_pipe(error) {
        return Exit::Success;
    }
    report_error(error);
    Exit::Failure
}

fn completions(shell: clap_complete::Shell, out: &mut Stdout) -> anyhow::Result<Exit> {
    // clap_complete panics on a failed write, so it writes to memory first.
    let mut script = Vec::new();
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "regroup", &mut script);
    out.write_all(&script)?;
    Ok(Exit::Success)
}

fn schema(out: &mut Stdout) -> anyhow::Result<Exit> {
    // Made in memory first: serde_json wraps a write error in its own,
    // which hides a closed stdout (a broken pipe) from `exit_for_error`
    // once the schema outgrows the output buffer.
    let schema = serde_json::to_vec_pretty(&crate::manifest::json_schema())?;
    out.write_all(&schema)?;
    writeln!(out)?;
    Ok(Exit::Success)
}
