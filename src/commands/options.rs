//! The command line resolved into the library's option structs (as
//! ripgrep turns its low-level arguments into high-level ones): nothing
//! below `commands` sees `Global` or an `*Args`.

use std::path::Path;

use crate::apply::{ApplyOptions, ManifestChoice, ProgressStyle, Rails};
use crate::cli::{AccountArgs, ApplyRails, Global};
use crate::cloud::client::Client;
use crate::cloud::connect::{self, ConnectOptions};
use crate::manifest::Manifest;
use crate::output;
use crate::planning;
use crate::planning::accounts::Fanout;

use super::Overrides;

/// How to connect, from the global options and what the emulator imposes.
pub(super) fn connect_options(
    global: &Global,
    overrides: &Overrides,
    max_rate: Option<f64>,
) -> ConnectOptions {
    ConnectOptions {
        endpoint: overrides.endpoint.clone().or(global.endpoint.clone()),
        credentials: overrides.credentials.clone(),
        profile: global.profile.clone(),
        signature: global.signature,
        max_tries: global.max_tries,
        retry_for: global.retry_for,
        request_timeout: global.request_timeout,
        max_rate,
    }
}

pub(super) async fn client(
    global: &Global,
    overrides: &Overrides,
    max_rate: Option<f64>,
) -> anyhow::Result<Client> {
    connect::client(&connect_options(global, overrides, max_rate)).await
}

/// `--account` and `--shard`, with the rate each account's limiter keeps.
pub(super) fn fanout(args: &AccountArgs, max_rate: Option<f64>) -> Fanout {
    Fanout {
        only: args.accounts.clone(),
        shard: args.shard,
        max_rate,
    }
}

/// The manifest `-f` names (or the default), and whether it was named.
pub(super) fn manifest_choice(global: &Global) -> ManifestChoice {
    ManifestChoice {
        path: global.manifest_path(),
        named: global.file.is_some(),
    }
}

pub(super) fn load_manifest(global: &Global) -> anyhow::Result<Manifest> {
    planning::load_manifest(&global.manifest_path(), &global.regions)
}

/// The manifest limited to `--region`, and a warning for each `--region`
/// it does not read.
pub(super) fn load_manifest_noting(global: &Global) -> anyhow::Result<(Manifest, Vec<String>)> {
    planning::load_manifest_noting(&global.manifest_path(), &global.regions)
}

/// Every `--region` must be a real region.
pub(super) fn check_region_options(global: &Global) -> anyhow::Result<()> {
    planning::load::check_region_options(&global.regions)
}

pub(super) fn use_color(global: &Global) -> bool {
    output::color_allowed(global.no_color, &std::io::stdout())
}

/// The rails the command line gave, for an apply showing `progress`.
pub(super) fn rails(rails: &ApplyRails, progress: ProgressStyle) -> Rails {
    Rails {
        ignore_missing: rails.ignore_missing,
        max_changes: rails.max_changes,
        override_rules: rails.override_rules,
        run: ApplyOptions {
            parallelism: usize::from(rails.parallelism),
            progress,
            max_errors: rails.max_errors.map(|n| n as usize),
            canary: rails.canary.map(|n| n as usize),
        },
    }
}

/// Whether `path` is the manifest: an output must not overwrite it.
pub(super) fn check_not_manifest(path: &Path, global: &Global) -> anyhow::Result<()> {
    Ok(crate::atomic_file::check_not_input(
        path,
        &global.manifest_path(),
        "the manifest",
    )?)
}
