//! What each subcommand does, one file per subcommand: each wires manifest,
//! cloud, inventory, plan, render and apply together, prints through one
//! [`Stdout`], and says how the process should exit. The pieces several
//! subcommands share (loading the manifest, building the client, making a
//! plan) are here.

mod apply;
mod emulator;
mod export;
mod plan;
mod validate;

use std::io::Write;

use anyhow::Context as _;

use crate::cli::{Cli, Command, Global};
use crate::cloud::client::{Client, ClientConfig, Endpoints, RetryPolicy};
use crate::cloud::credentials::{self, CredentialSource};
use crate::inventory;
use crate::manifest::Manifest;
use crate::output::{self, Stdout};
use crate::plan::{Plan, PlanOptions};

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
        Command::Plan(args) => plan::run(&global, &overrides, &args, &mut out).await,
        Command::Apply(args) => apply::run(&global, &overrides, &args, &mut out).await,
        Command::Export(args) => export::run(&global, &overrides, &args, &mut out).await,
        Command::Completions { shell } => completions(shell, &mut out),
        Command::Schema => schema(&mut out),
        Command::Emulator(args) => emulator::run(args).await,
    }?;
    out.flush().context("could not write to stdout")?;
    Ok(exit)
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

/// Prints an error with its causes, one per line, leaving out a cause whose
/// text the line above already ends with (a wrapped error often repeats its
/// source).
pub fn report_error(error: &anyhow::Error) {
    let mut text = format!("Error: {error}");
    let mut above = error.to_string();
    for cause in error.chain().skip(1) {
        let line = cause.to_string();
        if !above.ends_with(&line) {
            text.push_str(&format!("\n  caused by: {line}"));
        }
        above = line;
    }
    // A closed stderr leaves nobody to tell.
    let _ = writeln!(std::io::stderr(), "{text}");
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
    serde_json::to_writer_pretty(&mut *out, &crate::manifest::json_schema())?;
    writeln!(out)?;
    Ok(Exit::Success)
}

fn load_manifest(global: &Global) -> anyhow::Result<Manifest> {
    let mut manifest = Manifest::load(&global.file)?;
    manifest.limit_to_regions(&global.regions);
    Ok(manifest)
}

fn client(global: &Global, overrides: &Overrides, max_rate: Option<f64>) -> anyhow::Result<Client> {
    let endpoints = match overrides.endpoint.as_ref().or(global.endpoint.as_ref()) {
        Some(url) => Endpoints::override_with(url).context("invalid --endpoint")?,
        None => Endpoints::AlibabaCloud,
    };
    let credentials = match &overrides.credentials {
        Some(source) => source.clone(),
        None => credentials::resolve(
            &credentials::Environment::from_process(),
            global.profile.as_deref(),
        )?,
    };
    tracing::info!(source = %credentials.origin(), "credentials");
    let defaults = ClientConfig::default();
    let config = ClientConfig {
        endpoints,
        max_rate,
        retry: RetryPolicy {
            max_tries: global.max_tries,
            retry_for: global.retry_for,
            ..defaults.retry
        },
        request_timeout: global.request_timeout,
        ..defaults
    };
    Ok(Client::new(config, credentials)?)
}

fn use_color(global: &Global) -> bool {
    output::color_allowed(global.no_color, &std::io::stdout())
}

async fn make_plan(
    client: &Client,
    manifest: &Manifest,
    ignore_missing: bool,
) -> anyhow::Result<Plan> {
    let scopes = inventory::scopes(manifest);
    let inventory = inventory::read(client, &scopes).await?;
    let plan = crate::plan::plan(
        manifest,
        &inventory,
        PlanOptions { ignore_missing },
        chrono::Utc::now(),
    )?;
    tracing::info!(calls = client.stats().requests, "plan read the account");
    Ok(plan)
}
