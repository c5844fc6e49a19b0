//! The command line: clap definitions only. What each command does is in
//! [`crate::commands`].

use std::path::PathBuf;

use clap::builder::{EnumValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cloud::client::SignatureVersion;
use crate::manifest::MaxChanges;
use crate::matrix::Engine;
use crate::render::Format;
use crate::resource::ResourceType;

mod values;
use values::{
    parse_duration, parse_max_changes, parse_quota, parse_rate, parse_share, parse_ttl, parse_type,
    FormatArg, SignatureArg,
};

/// The version and the git commit it was built from (set by `build.rs`;
/// `unknown` for a build outside a git checkout, e.g. from a crate tarball).
/// A macro, not a const, so that `concat!` can extend it.
macro_rules! version {
    () => {
        concat!(
            env!("CARGO_PKG_VERSION"),
            " (commit ",
            env!("REGROUP_GIT_COMMIT"),
            ")"
        )
    };
}

const LONG_VERSION: &str = concat!(
    version!(),
    "\nAPIs: ECS 2014-05-26, Resource Manager 2020-03-31, STS 2015-04-01, Quota Center 2020-05-10, ActionTrail 2020-07-06, Resource Directory 2022-04-19, Resource Center 2022-12-01"
);

/// Keep Alibaba Cloud ECS resources in the resource groups a manifest declares.
#[derive(Debug, Parser)]
#[command(name = "regroup", version = version!(), long_version = LONG_VERSION, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The manifest read when `-f` is not given.
pub const DEFAULT_MANIFEST: &str = "regroup.yaml";

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The manifest [default: regroup.yaml].
    // No clap default: whether the manifest was named or defaulted changes
    // what `apply PLANFILE` checks, so the parsed value keeps the
    // difference; `manifest_path` resolves it.
    #[arg(short = 'f', long = "file", env = "REGROUP_FILE", global = true)]
    pub file: Option<PathBuf>,
    /// Send every API call to this URL instead of Alibaba Cloud's endpoints;
    /// plain http:// only to loopback addresses.
    #[arg(long, env = "REGROUP_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// Credentials profile (aliyun CLI config or credentials file).
    #[arg(long, env = "ALIBABA_CLOUD_PROFILE", global = true)]
    pub profile: Option<String>,
    /// Limit the run to this region (repeatable).
    #[arg(long = "region", value_name = "ID", global = true)]
    pub regions: Vec<String>,
    /// Plain output, without colour; so does a non-empty NO_COLOR.
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Tries per API call, the first included, before a transient failure
    /// (throttling, 5xx, dropped connection, timeout) is given up on.
    #[arg(long, env = "REGROUP_MAX_TRIES", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=50), global = true)]
    pub max_tries: u32,
    /// How requests are signed: v1 (RPC, HMAC-SHA1) or v3
    /// (ACS3-HMAC-SHA256, as the current official SDKs sign).
    #[arg(long, value_parser = EnumValueParser::<SignatureArg>::new().map(SignatureVersion::from), env = "REGROUP_SIGNATURE", default_value = "v1", global = true)]
    pub signature: SignatureVersion,
    /// How long a call keeps being retried (throttling, 5xx, dropped
    /// connections) before it is given up on, waits for a closed quota
    /// window included: e.g. 90s, 5m.
    #[arg(long, value_name = "DURATION", env = "REGROUP_RETRY_FOR", default_value = "5m", value_parser = parse_duration, global = true)]
    pub retry_for: std::time::Duration,
    /// How long one request may take before it counts as timed out.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, global = true)]
    pub request_timeout: std::time::Duration,
    /// More logging to stderr (-v, -vv for every call, -vvv); secrets are
    /// never printed.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

impl Global {
    /// The manifest to read: the one named, else [`DEFAULT_MANIFEST`].
    pub fn manifest_path(&self) -> PathBuf {
        self.file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_MANIFEST))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the manifest offline; needs no credentials.
    #[command(after_help = "Example:\n  regroup validate -f regroup.yaml")]
    Validate,
    /// Read the account and show what apply would move.
    #[command(
        after_help = "Example:\n  regroup plan -f regroup.yaml --format markdown -o plan.json --detailed-exitcode"
    )]
    Plan(PlanArgs),
    /// Move resources into their groups: plans first, or applies a saved plan.
    #[command(
        after_help = "Examples:\n  regroup apply                       # plan, ask, then move\n  regroup apply plan.json             # apply exactly a saved plan\n  regroup apply --auto-approve --parallelism 32 --report report.json"
    )]
    Apply(ApplyArgs),
    /// Print a saved plan (text, markdown or JSON, as `plan` prints it);
    /// offline.
    #[command(
        after_help = "Examples:\n  regroup show plan.json\n  regroup show plan.json --format markdown > plan.md"
    )]
    Show(ShowArgs),
    /// Print the JSON a CI engine fans out over: one entry per `--shard
    /// I/N` of N shards, for a GitHub Actions matrix, a GitLab
    /// parallel:matrix or an Argo Workflows withParam; offline.
    #[command(
        after_help = "Examples:\n  regroup matrix --shards 3                # {\"shard\":[\"1/3\",\"2/3\",\"3/3\"]}\n  echo \"shards=$(regroup matrix --shards 8)\" >> \"$GITHUB_OUTPUT\"\n  regroup matrix --shards 8 --for argo     # [{\"shard\":\"1/8\"},…] for withParam"
    )]
    Matrix(MatrixArgs),
    /// Combine the plans saved by per-shard `plan -o` runs into one, for
    /// review (a merged plan is not applied: apply each shard's plan), or
    /// the shards' `apply --report`s into one record; offline.
    #[command(
        after_help = "Examples:\n  regroup merge plans/*.json --format markdown > plan.md\n  regroup merge shard-1.json shard-2.json -o merged.json"
    )]
    Merge(MergeArgs),
    /// Print a manifest that matches the account as it is now, in the
    /// manifest's regions unless --region names others; each resource's
    /// name follows its entry as a comment.
    #[command(
        after_help = "Examples:\n  regroup export > regroup.yaml   # the regions regroup.yaml reads\n  regroup export --region cn-hangzhou > regroup.yaml\n  regroup export --region cn-hangzhou --region cn-shanghai --type instance --type disk --group legacy"
    )]
    Export(ExportArgs),
    /// Print the least-privilege RAM policy (JSON) for what the manifest
    /// needs; offline.
    #[command(
        after_help = "Examples:\n  regroup policy -f regroup.yaml > regroup-policy.json\n  regroup policy --for apply --for history   # also what history and plan --who read"
    )]
    Policy(PolicyArgs),
    /// Print the manifest's JSON Schema, for editors and CI checks.
    #[command(after_help = "Example:\n  regroup schema > regroup.schema.json")]
    Schema,
    /// Print shell completions.
    #[command(
        after_help = "Example:\n  regroup completions bash > /etc/bash_completion.d/regroup"
    )]
    Completions { shell: clap_complete::Shell },
    /// Show which credentials regroup would use and whose they are; exits 1
    /// when they do not work.
    #[command(
        after_help = "Examples:\n  regroup whoami\n  regroup whoami -v --profile deploy   # also the sources passed over, and why"
    )]
    Whoami,
    /// Keep the account true to the manifest: plan every interval, and in
    /// `correct` mode apply with every rail; serves Prometheus metrics.
    #[command(
        after_help = "Examples:\n  regroup reconcile -f regroup.yaml --interval 5m                 # detect drift only\n  regroup reconcile --mode correct --max-changes 20 --report-dir reports --metrics-listen 127.0.0.1:9464"
    )]
    Reconcile(ReconcileArgs),
    /// Who moved a resource between groups, and when: ActionTrail's
    /// records of the last 90 days.
    #[command(after_help = "Example:\n  regroup history instance/i-bp1abc --region cn-hangzhou")]
    History(HistoryArgs),
    /// Run the local Alibaba Cloud API emulator.
    #[command(
        after_help = "Examples:\n  regroup emulator --fleet examples/fleet.yaml --listen 127.0.0.1:8642\n  regroup emulator --fleet examples/fleet.yaml -- plan -f examples/regroup.yaml"
    )]
    Emulator(EmulatorArgs),
}

#[derive(Debug, Clone, Args)]
pub struct MatrixArgs {
    /// How many shards to fan out over.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::matrix::MAX_SHARDS)))]
    pub shards: u32,
    /// The engine whose matrix to print: github (`strategy.matrix` through
    /// fromJSON), gitlab (`parallel:matrix`, at most 200) or argo
    /// (`withParam`).
    #[arg(long = "for", value_name = "ENGINE", value_parser = EnumValueParser::<EngineArg>::new().map(Engine::from), default_value = "github")]
    pub engine: Engine,
}

/// `matrix --for`'s values: clap's side of [`Engine`].
#[derive(Debug, Clone, Copy, ValueEnum)]
enum EngineArg {
    Github,
    Gitlab,
    Argo,
}

impl From<EngineArg> for Engine {
    fn from(arg: EngineArg) -> Engine {
        match arg {
            EngineArg::Github => Engine::Github,
            EngineArg::Gitlab => Engine::Gitlab,
            EngineArg::Argo => Engine::Argo,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// Plans saved by `regroup plan -o`, one per shard; or reports written
    /// by `apply --report`.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// How to print the merged plan (or report): text, markdown or json.
    #[arg(long, value_parser = EnumValueParser::<FormatArg>::new().map(Format::from), default_value = "text")]
    pub format: Format,
    /// Also save the merged plan or report (JSON); `regroup show` reads a
    /// merged plan.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `--strict`, shared by plan and apply.
const STRICT_HELP: &str = "Fail (exit 1) on any warning, naming each: a rule or entry that selects nothing, a --region the manifest does not read, a missing resource, a plan that manages nothing";

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// How to print the plan: text for a terminal, markdown for a pull
    /// request comment, json for scripts (the saved plan's format).
    #[arg(long, value_parser = EnumValueParser::<FormatArg>::new().map(Format::from), default_value = "text")]
    pub format: Format,
    #[arg(long, env = "REGROUP_STRICT", value_parser = clap::builder::BoolishValueParser::new(), help = STRICT_HELP)]
    pub strict: bool,
    /// Save the plan (JSON) for `regroup apply PLANFILE`.
    #[arg(short = 'o', long = "out", value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan without explicit resources that do not exist, with a warning.
    #[arg(long)]
    pub ignore_missing: bool,
    /// Exit 1 when the plan moves more than N resources, or more than P% of
    /// those the manifest manages (wins over the manifest's `max_changes`).
    #[arg(long, value_name = "N|P%", value_parser = parse_max_changes)]
    pub max_changes: Option<MaxChanges>,
    /// After the plan, name who last moved each drifted resource (from
    /// ActionTrail, newest 30 days, one LookupEvents call per resource and
    /// at most 20 in all; it says when it stopped early).
    #[arg(long)]
    pub who: bool,
    #[command(flatten)]
    pub accounts: AccountArgs,
}

/// Which member accounts a run over a manifest's `accounts:` acts in.
#[derive(Debug, Clone, Args)]
pub struct AccountArgs {
    /// Only this member account of the manifest's `accounts:` (repeatable).
    #[arg(long = "account", value_name = "ID", value_parser = parse_account_id)]
    pub accounts: Vec<String>,
    /// Only shard I of N of the manifest's `accounts:` (1/3, 2/3, 3/3 split
    /// them by a hash of the account id: an account keeps its shard as
    /// others are added), for one job of a CI matrix.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<crate::accounts::Shard>,
}

/// An account id: digits only, as `ListAccounts` gives them.
fn parse_account_id(text: &str) -> Result<String, String> {
    if !text.is_empty() && text.len() <= 32 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not an account id (digits, like 1234567890123456)"
        ))
    }
}

fn parse_shard(text: &str) -> Result<crate::accounts::Shard, String> {
    text.parse()
        .map_err(|e: crate::accounts::ShardError| e.to_string())
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// A plan saved by `regroup plan -o`; applied exactly, after checking
    /// that nothing moved since.
    pub planfile: Option<PathBuf>,
    /// Skip the approval prompt.
    #[arg(long)]
    pub auto_approve: bool,
    #[arg(long, env = "REGROUP_STRICT", value_parser = clap::builder::BoolishValueParser::new(), help = STRICT_HELP)]
    pub strict: bool,
    /// Write a JSON record of every change and its outcome.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write a saved plan that moves every resource this run moves back
    /// to where it was; `regroup apply FILE` applies it.
    #[arg(long, value_name = "FILE")]
    pub undo_plan: Option<PathBuf>,
    #[command(flatten)]
    pub rails: ApplyRails,
    #[command(flatten)]
    pub accounts: AccountArgs,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The resource, as TYPE/ID (instance/i-bp1…), or a group as
    /// group/NAME (or group/ID).
    pub resource: String,
    /// Most LookupEvents calls to make (each reads up to 50 events; the
    /// service allows two a second).
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub max_calls: u16,
}

#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// The commands to grant (repeatable; default apply).
    #[arg(long = "for", value_name = "COMMAND", default_value = "apply")]
    pub commands: Vec<PolicyFor>,
}

/// The commands a policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum PolicyFor {
    /// plan and apply: the reads and ecs:JoinResourceGroup.
    Apply,
    /// history and plan --who: actiontrail:LookupEvents in the manifest's
    /// regions (plan --who needs apply's too).
    History,
}

/// What `regroup reconcile` does about drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReconcileMode {
    /// Plan and report drift; move nothing.
    Detect,
    /// Plan, then apply the plan with every rail.
    Correct,
}

#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// Time between the starts of two runs (a tenth of it, at most, is
    /// added at random so that many loops do not call in step).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub interval: std::time::Duration,
    /// `detect` only reports drift; `correct` also moves resources back.
    #[arg(long, value_enum, default_value_t = ReconcileMode::Detect)]
    pub mode: ReconcileMode,
    /// Serve Prometheus metrics on /metrics (and /healthz) at this address;
    /// loopback unless --metrics-public.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Allow --metrics-listen on an address other than loopback (inside a
    /// container, 0.0.0.0:9464).
    #[arg(long)]
    pub metrics_public: bool,
    /// Write each run's JSON report into this folder, as
    /// reconcile-<UTC time>.json, keeping the newest 100.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<std::path::PathBuf>,
    /// Stop after this many runs, and exit 1 if the last one failed
    /// (default: run until SIGTERM or Ctrl-C, then exit 0).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: Option<u64>,
    #[command(flatten)]
    pub rails: ApplyRails,
    #[command(flatten)]
    pub accounts: AccountArgs,
}

/// The options that bound an apply, shared by `apply` and `reconcile`.
#[derive(Debug, Clone, Args)]
pub struct ApplyRails {
    /// The most calls in flight at once; within it, as many as the quota
    /// times the observed latency needs.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub parallelism: u16,
    /// Most calls per second, per API and region (0.1 to 10000).
    #[arg(long, value_name = "QPS", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Plan without explicit resources that do not exist, with a warning.
    #[arg(long)]
    pub ignore_missing: bool,
    /// Move nothing when the plan moves more than N resources, or more than
    /// P% of those the manifest manages (wins over the manifest's
    /// `max_changes`).
    #[arg(long, value_name = "N|P%", value_parser = parse_max_changes)]
    pub max_changes: Option<MaxChanges>,
    /// Start no new join after N have failed; the rest are `not_started`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_errors: Option<u32>,
    /// Move N resources first and read them back; go on only if all N are
    /// in their target groups.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub canary: Option<u32>,
    /// Also make the moves an automatic-transfer (auto grouping) rule would
    /// undo; without it they are left alone and the run exits 1.
    #[arg(long)]
    pub override_rules: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// A plan saved by `regroup plan -o` or `apply --undo-plan`.
    pub planfile: PathBuf,
    /// How to print the plan: text, markdown or json.
    #[arg(long, value_parser = EnumValueParser::<FormatArg>::new().map(Format::from), default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Only resources of this type (repeatable; default every ECS type).
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_type)]
    pub types: Vec<ResourceType>,
    /// Every type Resource Manager can group, other services' too
    /// (`eip:eip`, `oss:bucket`, ...), not only ECS's.
    #[arg(long, conflicts_with = "types")]
    pub all_services: bool,
    /// Only resources now in this group, by id or name (repeatable).
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Mark every group but the default one `exclusive: true`, so that
    /// planning the manifest later evicts newcomers to the default group.
    #[arg(long)]
    pub exclusive: bool,
}

/// The global options that only matter to commands that call the cloud.
const NETWORK_OPTIONS: [&str; 6] = [
    "endpoint",
    "profile",
    "max_tries",
    "signature",
    "retry_for",
    "request_timeout",
];

/// Commands that work offline: their `--help` leaves the network options
/// out (they are still accepted, as globals, and ignored).
const OFFLINE_COMMANDS: [&str; 5] = ["validate", "schema", "completions", "policy", "show"];

/// The command line as `main` parses it: [`Cli`]'s, with the network
/// options hidden from the offline commands' help. Globals reach a
/// subcommand only when the command is built, so it is built first.
pub fn command() -> clap::Command {
    let mut command = <Cli as clap::CommandFactory>::command();
    command.build();
    for offline in OFFLINE_COMMANDS {
        command = command.mut_subcommand(offline, |sub| {
            sub.mut_args(|arg| {
                let network = NETWORK_OPTIONS.contains(&arg.get_id().as_str());
                arg.hide(network)
            })
        });
    }
    command
}

/// A Terraform habit: a long option with one dash (`-out=plan.json`,
/// `-auto-approve`). clap would read `-out=plan.json` as `-o` with the value
/// `ut=plan.json` and write a file of that name, so such words are settled
/// before parsing.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{word}` is not an option: long options take two dashes{hint}")]
pub struct SingleDashLong {
    word: String,
    hint: String,
}

/// The command line with each one-dash long option that regroup has
/// (`-out=FILE`, `-auto-approve`, `-detailed-exitcode`, `-parallelism=N`,
/// any other) given its second dash, as Terraform users type them; an error
/// for a one-dash word of three or more letters that is no option, rather
/// than reading it as short options with a value. `-vvv` stays as it is.
pub fn with_terraform_spellings(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Vec<std::ffi::OsString>, SingleDashLong> {
    let command = <Cli as clap::CommandFactory>::command();
    let mut longs = std::collections::BTreeSet::new();
    let mut commands = vec![&command];
    while let Some(next) = commands.pop() {
        longs.extend(next.get_arguments().filter_map(|a| a.get_long()));
        commands.extend(next.get_subcommands());
    }
    args.into_iter()
        .enumerate()
        .map(|(index, arg)| {
            let Some(word) = arg.to_str().filter(|_| index > 0) else {
                return Ok(arg);
            };
            let Some(rest) = word.strip_prefix('-').filter(|r| !r.starts_with('-')) else {
                return Ok(arg);
            };
            let name = rest.split_once('=').map_or(rest, |(name, _)| name);
            let looks_long = name.len() >= 3
                && name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && !name.chars().all(|c| c == 'v');
            if !looks_long {
                return Ok(arg);
            }
            if longs.contains(name) {
                return Ok(format!("-{word}").into());
            }
            let hint = longs
                .iter()
                .find(|long| long.starts_with(name) || name.starts_with(*long))
                .map(|long| format!(": did you mean `--{long}`?"))
                .unwrap_or_default();
            Err(SingleDashLong {
                word: word.to_owned(),
                hint,
            })
        })
        .collect()
}

/// `--default-group-id`: whether the real service reports the default
/// group's id or nothing is not established, so the emulator does either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DefaultGroupId {
    Empty,
    Id,
}

#[derive(Debug, Clone, Args)]
pub struct EmulatorArgs {
    /// The account to serve (see docs/emulator.md).
    #[arg(long)]
    pub fleet: PathBuf,
    /// Address to listen on; loopback only.
    #[arg(long, default_value = "127.0.0.1:8642")]
    pub listen: std::net::SocketAddr,
    /// Save every change here, and start from it when it exists.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Milliseconds added to every answer (at most a minute).
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub latency: u64,
    /// Calls per second allowed per API and region; the same as
    /// `--quota '*=N/1s'`.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub qps: Option<u32>,
    /// Calls allowed per API and region in each calendar window, as
    /// ACTION=N/Ws (repeatable; `*` for every action without its own);
    /// beyond it, Throttling.User (HTTP 400). E.g. JoinResourceGroup=300/60s.
    #[arg(long = "quota", value_name = "ACTION=N/Ws", value_parser = parse_quota)]
    pub quotas: Vec<crate::api::quota::QuotaSpec>,
    /// Tell throttled callers when the window reopens, in an
    /// x-acs-retry-after header (milliseconds); real ECS may not send one.
    #[arg(long)]
    pub retry_after_header: bool,
    /// Share of calls (0 to 1) that fail with 503 or a dropped connection.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    pub fault_rate: f64,
    /// Share of joins (0 to 1) answered with success without moving, as the
    /// real API has been seen to do.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    pub phantom_rate: f64,
    /// Seed for repeatable faults: the same seed and the same requests get
    /// the same faults, whatever order they arrive in.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Append a JSON line per request to this file.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Temporary keys (STS, metadata) expire after this long at most, e.g.
    /// `5s`, `2m`, `1h`; to try credential refresh.
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub sts_ttl: Option<std::time::Duration>,
    /// Close a connection that sends nothing for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout: u64,
    /// What `ResourceGroupId` Describe* items of the default group's
    /// resources carry: the group's id, or an empty string.
    #[arg(long, value_enum, default_value_t = DefaultGroupId::Id)]
    pub default_group_id: DefaultGroupId,
    /// A regroup command to run against this emulator (on a free port, with
    /// the fleet's first key), after which the emulator stops.
    #[arg(last = true, value_name = "COMMAND")]
    pub run: Vec<String>,
}

#[cfg(test)]
mod tests {
    /// `--version` names the version of every API regroup calls, as
    /// `api::Service` sends them.
    #[test]
    fn the_long_version_names_every_api_version_called() {
        use crate::api::Service;
        for service in Service::ALL {
            assert!(
                super::LONG_VERSION.contains(service.api_version()),
                "{service:?} {} missing from: {}",
                service.api_version(),
                super::LONG_VERSION
            );
        }
    }

    use super::*;

    fn parse(words: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("regroup").chain(words.iter().copied()))
    }

    #[test]
    fn rates_must_be_finite_and_at_least_a_tenth() {
        for bad in ["0", "0.001", "NaN", "inf", "-1", "fast"] {
            let flag = format!("--rate={bad}");
            let error = parse(&["apply", &flag]).expect_err(bad);
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad}"
            );
        }
        let cli = parse(&["apply", "--rate", "0.5"]).expect("0.5 is a rate");
        let Command::Apply(args) = cli.command else {
            panic!("apply parses as apply")
        };
        assert_eq!(args.rails.rate, Some(0.5));
    }

    #[test]
    fn sts_ttl_takes_units_and_stays_in_range() {
        assert_eq!(parse_ttl("5s"), Ok(std::time::Duration::from_secs(5)));
        assert_eq!(parse_ttl("2m"), Ok(std::time::Duration::from_secs(120)));
        assert_eq!(parse_ttl("1h"), Ok(std::time::Duration::from_secs(3600)));
        assert_eq!(parse_ttl("30"), Ok(std::time::Duration::from_secs(30)));
        for bad in ["0s", "13h", "5x", "s", "-1s", "1.5s", ""] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shares_are_between_zero_and_one() {
        for bad in ["7", "-0.1", "NaN", "1.01"] {
            for flag in ["--phantom-rate", "--fault-rate"] {
                let option = format!("{flag}={bad}");
                let error = parse(&["emulator", "--fleet", "f.yaml", &option]).expect_err(bad);
                assert!(
                    error.to_string().contains("between 0 and 1"),
                    "{flag} {bad}: {error}"
                );
            }
        }
        assert!(parse(&["emulator", "--fleet", "f.yaml", "--fault-rate", "1"]).is_ok());
    }

    #[test]
    fn one_dash_long_options_get_their_second_dash_and_short_ones_stay() {
        let spelled = |words: &[&str]| {
            with_terraform_spellings(words.iter().map(std::ffi::OsString::from)).map(|args| {
                args.into_iter()
                    .map(|a| a.into_string().unwrap())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            spelled(&[
                "regroup",
                "plan",
                "-out=p.json",
                "-detailed-exitcode",
                "-vvv",
                "-f",
                "m.yaml",
                "-o",
                "x"
            ]),
            Ok([
                "regroup",
                "plan",
                "--out=p.json",
                "--detailed-exitcode",
                "-vvv",
                "-f",
                "m.yaml",
                "-o",
                "x"
            ]
            .map(String::from)
            .to_vec())
        );
        assert_eq!(
            spelled(&["regroup", "apply", "-auto-approve", "-parallelism=4"]),
            Ok(["regroup", "apply", "--auto-approve", "--parallelism=4"]
                .map(String::from)
                .to_vec())
        );
        let error = spelled(&["regroup", "plan", "-detailed"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`-detailed` is not an option: long options take two dashes: did you mean `--detailed-exitcode`?"
        );
    }

    #[test]
    fn durations_need_a_unit_and_a_sane_size() {
        use std::time::Duration;
        for (text, expected) in [
            ("90s", Duration::from_secs(90)),
            ("5m", Duration::from_secs(300)),
            ("2h", Duration::from_secs(7_200)),
            ("250ms", Duration::from_millis(250)),
        ] {
            assert_eq!(parse_duration(text), Ok(expected), "{text}");
        }
        for (bad, says) in [
            ("90", "needs a unit"),
            ("5 min", "the unit must be"),
            ("0s", "from 1ms"),
            ("25h", "to 24h"),
            ("s", "not a duration"),
            ("99999999999999999999m", "not a duration"),
        ] {
            let error = parse_duration(bad).expect_err(bad);
            assert!(error.contains(says), "{bad}: {error}");
        }
        let cli = parse(&["--retry-for", "90s", "plan"]).unwrap();
        assert_eq!(cli.global.retry_for, Duration::from_secs(90));
        let error = parse(&["plan", "--retry-for", "forever"]).unwrap_err();
        assert!(error.to_string().contains("--retry-for"), "{error}");
    }

    #[test]
    fn quotas_repeat_and_a_bad_one_says_what_is_wrong() {
        let cli = parse(&[
            "emulator",
            "--fleet",
            "f.yaml",
            "--quota",
            "JoinResourceGroup=40/60s",
            "--quota",
            "*=200/1s",
        ])
        .unwrap();
        let Command::Emulator(args) = cli.command else {
            panic!("emulator parses as emulator")
        };
        let shown: Vec<String> = args.quotas.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["JoinResourceGroup=40/60s", "*=200/1s"]);
        let error = parse(&["emulator", "--fleet", "f.yaml", "--quota", "Join=40/60"]).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("--quota") && text.contains("the window must be whole seconds"),
            "{text}"
        );
    }
}
