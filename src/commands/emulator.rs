//! `regroup emulator`: serve the local API, or run one regroup command
//! against a private instance of it (`regroup emulator --fleet F -- plan`).

use std::io::Write;

use anyhow::bail;

use super::{Exit, Overrides};
use crate::cli::{Cli, Command, DefaultGroupId, EmulatorArgs};
use crate::cloud::credentials::{CredentialSource, Credentials, Secret};
use crate::emulator::{self, fleet::Fleet, Emulator, Settings};

/// The emulator's settings from its flags, which the command line has
/// already range-checked.
impl From<&EmulatorArgs> for Settings {
    fn from(args: &EmulatorArgs) -> Settings {
        Settings {
            state_file: args.state.clone(),
            latency: std::time::Duration::from_millis(args.latency),
            qps: args.qps,
            quotas: args.quotas.clone(),
            retry_after_header: args.retry_after_header,
            deny_quota_center: false,
            denied_in_accounts: std::collections::BTreeMap::new(),
            fault_rate: args.fault_rate,
            phantom_rate: args.phantom_rate,
            seed: args.seed,
            log_file: args.log.clone(),
            record_requests: false,
            idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
            empty_default_group_id: args.default_group_id == DefaultGroupId::Empty,
            sts_ttl: args.sts_ttl,
        }
    }
}

pub(super) async fn run(args: EmulatorArgs) -> anyhow::Result<Exit> {
    let fleet = Fleet::load(&args.fleet)?;
    let settings = Settings::from(&args);
    emulator::raise_file_limit();
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
    let inner = <Cli as clap::Parser>::try_parse_from(
        std::iter::once("regroup".to_owned()).chain(args.run.iter().cloned()),
    )?;
    if matches!(inner.command, Command::Emulator(_)) {
        bail!("the command to run cannot be another emulator");
    }
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = Emulator::start(fleet, settings, listen).await?;
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
    let exit = Box::pin(super::run(inner, overrides)).await;
    server.stop().await;
    exit
}
