//! What each subcommand does, one file per subcommand: each wires manifest,
//! cloud, inventory, plan, render and apply together, prints through one
//! [`Stdout`], and says how the process should exit. The pieces several
//! subcommands share (loading the manifest, building the client, making a
//! plan) are here.

mod apply;
mod emulator;
mod export;
mod history;
mod plan;
mod policy;
mod reconcile;
mod show;
mod strict;
mod validate;
mod whoami;

use std::io::Write;

use anyhow::Context as _;

use crate::api::regions;
use crate::apply::{ApplyOptions, ProgressStyle};
use crate::cli::{ApplyRails, Cli, Command, Global};
use crate::cloud::client::{Client, ClientConfig, Endpoints, RetryPolicy, Transport};
use crate::cloud::credentials::{self, CredentialSource};
use crate::inventory;
use crate::manifest::{Manifest, MaxChanges};
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
    // Errors are redacted where they are made; this is the last line of
    // defence for any that an underlying library formats.
    let text = crate::cloud::client::redact(&text);
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
    // Made in memory first: serde_json wraps a write error in its own,
    // which hides a closed stdout (a broken pipe) from `exit_for_error`
    // once the schema outgrows the output buffer.
    let schema = serde_json::to_vec_pretty(&crate::manifest::json_schema())?;
    out.write_all(&schema)?;
    writeln!(out)?;
    Ok(Exit::Success)
}

fn load_manifest(global: &Global) -> anyhow::Result<Manifest> {
    Ok(load_manifest_noting(global)?.0)
}

/// The manifest limited to `--region`, and a warning for each `--region`
/// it does not read.
fn load_manifest_noting(global: &Global) -> anyhow::Result<(Manifest, Vec<String>)> {
    check_region_options(global)?;
    let mut manifest = Manifest::load(&global.file)?;
    check_manifest_regions(&manifest)?;
    let unused = strict::unused_region_options(&global.regions, &manifest);
    manifest.limit_to_regions(&global.regions);
    Ok((manifest, unused))
}

/// Every `--region` must be a real region: a typo would read nothing and
/// report `No changes`.
fn check_region_options(global: &Global) -> anyhow::Result<()> {
    for region in &global.regions {
        regions::check(region).map_err(|problem| anyhow::anyhow!("--region: {problem}"))?;
    }
    Ok(())
}

/// Every region the manifest names, for the same reason, with the first
/// place that uses it.
fn check_manifest_regions(manifest: &Manifest) -> anyhow::Result<()> {
    let uses = manifest.groups.iter().flat_map(|group| {
        let entries = group.resources.iter().map(|e| (&e.regions, &e.location));
        let rules = group.rules.iter().map(|r| (&r.regions, &r.location));
        entries.chain(rules)
    });
    let mut checked = std::collections::HashSet::new();
    for (list, location) in uses {
        for region in list.iter().filter(|r| checked.insert(r.as_str())) {
            regions::check(region)
                .map_err(|problem| anyhow::anyhow!("{location}: this entry's region {problem}"))?;
        }
    }
    Ok(())
}

/// A client with the credentials the chain chose, and the sources it
/// passed over.
struct Connection {
    client: Client,
    skipped: Vec<credentials::Skipped>,
}

/// Builds the transport, walks the credential chain through it (so STS and
/// metadata calls are retried and logged like any other), then the client.
async fn connect(
    global: &Global,
    overrides: &Overrides,
    max_rate: Option<f64>,
) -> anyhow::Result<Connection> {
    let endpoints = match overrides.endpoint.as_ref().or(global.endpoint.as_ref()) {
        Some(url) => Endpoints::override_with(url).context("invalid --endpoint")?,
        None => Endpoints::AlibabaCloud,
    };
    let defaults = ClientConfig::default();
    let config = ClientConfig {
        endpoints,
        max_rate,
        signature: global.signature,
        retry: RetryPolicy {
            max_tries: global.max_tries,
            retry_for: global.retry_for,
            ..defaults.retry
        },
        request_timeout: global.request_timeout,
        ..defaults
    };
    let transport = Transport::new(&config)?;
    let (credentials, skipped) = match &overrides.credentials {
        Some(source) => (source.clone(), Vec::new()),
        None => {
            let resolved = credentials::resolve(
                &credentials::Environment::from_process(),
                global.profile.as_deref(),
                &transport,
            )
            .await?;
            (resolved.source, resolved.skipped)
        }
    };
    for passed in &skipped {
        tracing::info!("credentials: skipped {passed}");
    }
    tracing::info!(source = %credentials.origin(), "credentials");
    Ok(Connection {
        client: Client::with_transport(transport, credentials, max_rate),
        skipped,
    })
}

async fn client(
    global: &Global,
    overrides: &Overrides,
    max_rate: Option<f64>,
) -> anyhow::Result<Client> {
    Ok(connect(global, overrides, max_rate).await?.client)
}

fn use_color(global: &Global) -> bool {
    output::color_allowed(global.no_color, &std::io::stdout())
}

/// Refuses a plan over its blast-radius limit: `--max-changes` when given,
/// else the manifest's `max_changes`.
fn check_max_changes(
    plan: &Plan,
    flag: Option<MaxChanges>,
    manifest: Option<&Manifest>,
) -> anyhow::Result<()> {
    if let Some(max) = flag {
        plan.check_max_changes(max, None)?;
    } else if let Some((max, manifest)) = manifest.and_then(|m| m.max_changes.map(|max| (max, m))) {
        plan.check_max_changes(max, Some(&manifest.file))?;
    }
    Ok(())
}

/// How an apply runs under the rails the command line gave.
fn apply_options(rails: &ApplyRails, progress: ProgressStyle) -> ApplyOptions {
    ApplyOptions {
        parallelism: usize::from(rails.parallelism),
        progress,
        max_errors: rails.max_errors.map(|n| n as usize),
        canary: rails.canary.map(|n| n as usize),
    }
}

async fn make_plan(
    client: &Client,
    manifest: &Manifest,
    ignore_missing: bool,
) -> anyhow::Result<Plan> {
    let scopes = inventory::scopes(manifest);
    // The auto-grouping rules are read alongside, not after: one call that
    // a plan without moves does not use, for a round trip less before the
    // first join.
    let (read, rules) = futures::join!(
        inventory::read(client, &scopes),
        crate::cloud::rules::read(client)
    );
    let inventory = if manifest.has_exclusive() {
        read.context("no plan was made, evictions included: an exclusive group's evictions are planned only from complete listings of every type and region the manifest covers, and a listing failed")?
    } else {
        read?
    };
    // The ids to read are a copy of the manifest's: not kept while planning.
    drop(scopes);
    let plan = crate::plan::plan(
        manifest,
        &inventory,
        PlanOptions { ignore_missing },
        chrono::Utc::now(),
    )?;
    // Only moves can conflict with a rule.
    let plan = if plan.has_changes() {
        crate::cloud::rules::mark_conflicts(plan, &inventory, &rules)
    } else {
        plan
    };
    tracing::info!(calls = client.stats().requests, "plan read the account");
    Ok(plan)
}
