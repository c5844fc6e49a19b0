//! What each subcommand does: wires manifest, cloud, inventory, plan, render
//! and apply together, prints, and says how the process should exit.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context as _};

use crate::apply::{self, ApplyOptions, ProgressStyle};
use crate::atomic_file;
use crate::cli::{ApplyArgs, Cli, Command, EmulatorArgs, ExportArgs, Global, PlanArgs};
use crate::cloud::client::{Client, ClientConfig, Endpoints, RetryPolicy};
use crate::cloud::credentials::{self, CredentialSource, Credentials, Secret};
use crate::emulator::{self, fleet::Fleet, Emulator};
use crate::inventory;
use crate::manifest::export::{self, ExportedGroup};
use crate::manifest::Manifest;
use crate::plan::{self, Plan, PlanOptions};
use crate::render::{self, Format, Render};
use crate::resource::ResourceType;

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

pub async fn run(cli: Cli, overrides: Overrides) -> anyhow::Result<Exit> {
    let global = cli.global;
    match cli.command {
        Command::Validate => validate(&global),
        Command::Plan(args) => plan_command(&global, &overrides, &args).await,
        Command::Apply(args) => apply_command(&global, &overrides, &args).await,
        Command::Export(args) => export_command(&global, &overrides, &args).await,
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "regroup", &mut std::io::stdout());
            Ok(Exit::Success)
        }
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::manifest::json_schema())?
            );
            Ok(Exit::Success)
        }
        Command::Emulator(args) => emulator_command(args).await,
    }
}

fn load_manifest(global: &Global) -> anyhow::Result<Manifest> {
    let mut manifest = Manifest::load(&global.file)?;
    manifest.limit_to_regions(&global.regions);
    Ok(manifest)
}

fn validate(global: &Global) -> anyhow::Result<Exit> {
    let manifest = load_manifest(global)?;
    let entries: usize = manifest.groups.iter().map(|g| g.resources.len()).sum();
    let rules: usize = manifest.groups.iter().map(|g| g.rules.len()).sum();
    println!(
        "{} is valid: {} groups, {entries} explicit resources, {rules} select rules.",
        manifest.file,
        manifest.groups.len()
    );
    Ok(Exit::Success)
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
            ..defaults.retry
        },
        ..defaults
    };
    Ok(Client::new(config, credentials)?)
}

fn use_color(global: &Global) -> bool {
    !global.no_color && std::io::stdout().is_terminal()
}

async fn make_plan(
    client: &Client,
    manifest: &Manifest,
    ignore_missing: bool,
) -> anyhow::Result<Plan> {
    let scopes = inventory::scopes(manifest);
    let inventory = inventory::read(client, &scopes).await?;
    let plan = plan::plan(
        manifest,
        &inventory,
        PlanOptions { ignore_missing },
        chrono::Utc::now(),
    )?;
    tracing::info!(calls = client.stats().requests, "plan read the account");
    Ok(plan)
}

async fn plan_command(
    global: &Global,
    overrides: &Overrides,
    args: &PlanArgs,
) -> anyhow::Result<Exit> {
    let manifest = load_manifest(global)?;
    let client = client(global, overrides, None)?;
    let plan = make_plan(&client, &manifest, args.ignore_missing).await?;
    print_plan(&*render::renderer(args.format, use_color(global)), &plan)?;
    if let Some(out) = &args.out {
        atomic_file::write(out, |file| render::Json.write(&plan, file))
            .with_context(|| format!("could not save the plan to {}", out.display()))?;
        if args.format == Format::Text {
            println!(
                "\nSaved the plan to {}. Apply it with: regroup apply {}",
                out.display(),
                out.display()
            );
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Prints a plan to stdout, buffered: a plan can be 100,000 lines.
fn print_plan(renderer: &dyn Render, plan: &Plan) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    renderer.write(plan, &mut out)?;
    out.flush()
}

fn load_saved_plan(path: &Path, global: &Global) -> anyhow::Result<Plan> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("could not read the plan {}", path.display()))?;
    let plan =
        Plan::from_json(&bytes).with_context(|| format!("{} cannot be applied", path.display()))?;
    if let Ok(manifest) = std::fs::read(&global.file) {
        let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&manifest));
        if sha != plan.manifest.sha256 {
            bail!(
                "{} was planned from another version of {} (sha256 {} then, {} now); plan again",
                path.display(),
                global.file.display(),
                plan.manifest
                    .sha256
                    .get(..12)
                    .unwrap_or(&plan.manifest.sha256),
                &sha[..12]
            );
        }
    }
    Ok(plan)
}

/// Asks as Terraform does; only `yes` approves.
fn approve() -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("apply needs approval, but stdin is not a terminal; pass --auto-approve to apply without asking");
    }
    print!(
        "\nDo you want to perform these actions?\n  regroup will move the resources shown above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

async fn apply_command(
    global: &Global,
    overrides: &Overrides,
    args: &ApplyArgs,
) -> anyhow::Result<Exit> {
    // Local input first, so that a bad manifest or plan file is reported as
    // such, whatever the state of the credentials.
    enum Source {
        Saved(Plan),
        Manifest(Manifest),
    }
    let source = match &args.planfile {
        Some(path) => Source::Saved(load_saved_plan(path, global)?),
        None => Source::Manifest(load_manifest(global)?),
    };
    let client = client(global, overrides, args.rate)?;
    let plan = match source {
        Source::Saved(plan) => {
            apply::check_stale(&client, &plan).await?;
            plan
        }
        Source::Manifest(manifest) => {
            let plan = make_plan(&client, &manifest, args.ignore_missing).await?;
            print_plan(
                &render::Text {
                    color: use_color(global),
                },
                &plan,
            )?;
            if plan.has_changes() && !args.auto_approve && !approve()? {
                println!("\nApply cancelled.");
                return Ok(Exit::Failure);
            }
            plan
        }
    };
    if !plan.has_changes() {
        if args.planfile.is_some() {
            println!("{}", render::summary_line(&plan));
        }
        return Ok(Exit::Success);
    }
    let interrupted = apply::watch_interrupts();
    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        progress: ProgressStyle::detect(),
    };
    let mut report = apply::execute(&client, &plan, &options, interrupted).await;
    apply::verify(&client, &mut report)
        .await
        .context("could not read the groups back to verify the moves")?;
    report.calls = client.stats();
    println!();
    print!("{}", report.summary());
    if let Some(path) = &args.report {
        atomic_file::write(path, |file| {
            Ok(serde_json::to_writer_pretty(file, &report)?)
        })
        .with_context(|| format!("could not write the report {}", path.display()))?;
    }
    tracing::info!(stats = ?report.calls, "apply finished");
    Ok(if report.interrupted {
        Exit::Interrupted
    } else if report.failed > 0 {
        Exit::Failure
    } else {
        Exit::Success
    })
}

async fn export_command(
    global: &Global,
    overrides: &Overrides,
    args: &ExportArgs,
) -> anyhow::Result<Exit> {
    if global.regions.is_empty() {
        bail!("export needs the regions to read: pass --region ID (repeatable)");
    }
    let client = client(global, overrides, None)?;
    let types = if args.types.is_empty() {
        ResourceType::ALL.to_vec()
    } else {
        args.types.clone()
    };
    let scopes = global
        .regions
        .iter()
        .flat_map(|region| {
            types
                .iter()
                .map(move |t| ((region.clone(), *t), inventory::ReadScope::All))
        })
        .collect();
    let account = inventory::read(&client, &scopes).await?;
    let wanted_groups: Vec<String> = args
        .groups
        .iter()
        .map(|key| plan::find_group(key, &account.groups).map(|g| g.id.clone()))
        .collect::<Result<_, String>>()
        .map_err(|message| anyhow::anyhow!("--group: {message}"))?;
    let groups: Vec<ExportedGroup> = account
        .groups
        .iter()
        .filter(|g| wanted_groups.is_empty() || wanted_groups.contains(&g.id))
        .map(|group| {
            let unique_name = account
                .groups
                .iter()
                .filter(|g| g.name == group.name)
                .count()
                == 1;
            ExportedGroup {
                key: if unique_name && !group.name.is_empty() {
                    group.name.clone()
                } else {
                    group.id.clone()
                },
                members: account
                    .resources
                    .values()
                    .filter(|r| r.group_id == group.id)
                    .map(|r| r.key.clone())
                    .collect(),
            }
        })
        .collect();
    let mut sorted = groups;
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let source = match overrides.endpoint.as_ref().or(global.endpoint.as_ref()) {
        Some(url) => url.clone(),
        None => "Alibaba Cloud".to_owned(),
    };
    let header = vec![
        format!(
            "Exported by regroup {} at {} from {source}.",
            env!("CARGO_PKG_VERSION"),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
        ),
        "Planning this manifest against the same account gives `No changes.`".to_owned(),
    ];
    print!("{}", export::to_yaml(&header, &global.regions, &sorted));
    Ok(Exit::Success)
}

/// Lets the emulator hold as many connections as the system allows: the
/// soft limit on open files is often 1,024, far below the hard one.
fn raise_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write this local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

async fn emulator_command(args: EmulatorArgs) -> anyhow::Result<Exit> {
    let fleet = Fleet::load(&args.fleet)?;
    if !(0.0..=1.0).contains(&args.fault_rate) {
        bail!(
            "--fault-rate must be between 0 and 1, not {}",
            args.fault_rate
        );
    }
    let settings = emulator::Settings {
        state_file: args.state.clone(),
        latency: std::time::Duration::from_millis(args.latency),
        qps: args.qps,
        fault_rate: args.fault_rate,
        phantom_rate: args.phantom_rate,
        seed: args.seed,
        log_file: args.log.clone(),
        record_requests: false,
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
    };
    raise_file_limit();
    let key = fleet
        .access_keys
        .iter()
        .find(|k| k.security_token.is_none())
        .cloned();
    if args.run.is_empty() {
        let server = Emulator::start(fleet, settings, args.listen).await?;
        // A closed stderr must not stop the server, so no eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "regroup emulator serving {} on {}\n  export REGROUP_ENDPOINT={}{}\nCtrl-C stops it.",
            args.fleet.display(),
            server.url(),
            server.url(),
            key.map(|k| format!("\n  export ALIBABA_CLOUD_ACCESS_KEY_ID={} ALIBABA_CLOUD_ACCESS_KEY_SECRET=<its secret in the fleet>", k.id))
                .unwrap_or_default()
        );
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = server.wait() => {}
        }
        return Ok(Exit::Success);
    }
    let Some(key) = key else {
        bail!(
            "{}: the fleet has no access key without a security token to run a command with",
            args.fleet.display()
        );
    };
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = Emulator::start(fleet, settings, listen).await?;
    let inner = <Cli as clap::Parser>::try_parse_from(
        std::iter::once("regroup".to_owned()).chain(args.run.iter().cloned()),
    )?;
    if matches!(inner.command, Command::Emulator(_)) {
        bail!("the command to run cannot be another emulator");
    }
    let overrides = Overrides {
        endpoint: Some(server.url()),
        credentials: Some(CredentialSource::Static {
            origin: format!("emulator fleet {}", args.fleet.display()),
            credentials: Credentials {
                access_key_id: key.id,
                access_key_secret: Secret::new(key.secret),
                security_token: None,
            },
        }),
    };
    let exit = Box::pin(run(inner, overrides)).await;
    server.stop().await;
    exit
}

/// Prints an error with its causes, one per line.
pub fn report_error(error: &anyhow::Error) {
    let mut text = format!("Error: {error}");
    for cause in error.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{text}");
}
