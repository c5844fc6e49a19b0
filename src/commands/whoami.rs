//! `regroup whoami`: which credentials the chain chose (and, at `-v`, which
//! sources it passed over and why), and who they are, from STS
//! `GetCallerIdentity`. The exit code says whether they work.

use std::io::Write;

use super::options::connect_options;
use super::{Exit, Overrides};
use crate::cli::Global;
use crate::cloud::connect::connect;
use crate::cloud::identity::caller_identity;
use crate::output::Stdout;

pub(super) async fn run(
    global: &Global,
    overrides: &Overrides,
    out: &mut Stdout,
) -> anyhow::Result<Exit> {
    let connection = connect(&connect_options(global, overrides, None)).await?;
    let client = &connection.client;
    if global.verbose > 0 && !connection.skipped.is_empty() {
        writeln!(out, "Skipped:")?;
        for passed in &connection.skipped {
            writeln!(out, "  - {passed}")?;
        }
    }
    let source = client.credentials();
    let key = source.credentials(client.transport()).await?;
    writeln!(out, "Credentials: {}", source.origin())?;
    writeln!(
        out,
        "Access key:  {}{}",
        key.masked_id(),
        if key.security_token.is_some() {
            " (temporary, with an STS token)"
        } else {
            ""
        }
    )?;
    let identity = caller_identity(client).await?;
    let field = |name: &str| {
        identity
            .get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    writeln!(out, "Account:     {}", field("AccountId"))?;
    writeln!(
        out,
        "Identity:    {} ({})",
        field("Arn"),
        field("IdentityType")
    )?;
    Ok(Exit::Success)
}
