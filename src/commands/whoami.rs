//! `regroup whoami`: which credentials the chain chose (and, at `-v`, which
//! sources it passed over and why), and who they are, from STS
//! `GetCallerIdentity`. The exit code says whether they work.

use std::io::Write;

use super::options::connect_options;
use super::{Exit, Overrides};
use crate::api::Service;
use crate::cli::Global;
use crate::cloud::client::{Call, Client, CloudError, NO_PARAMS};
use crate::cloud::connect::connect;
use crate::cloud::credentials;
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

/// Who the client's credentials are. GetCallerIdentity takes no parameters
/// and answers AccountId, Arn, IdentityType (DOC-GCI,
/// https://www.alibabacloud.com/help/doc-detail/43767.htm; fixtures
/// tests/fixtures/api/sts_GetCallerIdentity*.json).
pub(super) async fn caller_identity(client: &Client) -> Result<serde_json::Value, CloudError> {
    // GetCallerIdentity takes no parameters and answers AccountId, Arn,
    // IdentityType (DOC-GCI, https://www.alibabacloud.com/help/doc-detail/43767.htm;
    // fixtures tests/fixtures/api/sts_GetCallerIdentity*.json).
    let host = credentials::sts_host(&credentials::Environment::from_process());
    let url = client.transport().endpoints().sts_url(&host);
    client
        .call::<serde_json::Value>(
            &Call::new(Service::Sts, None, "GetCallerIdentity", NO_PARAMS).at(&url),
        )
        .await
        .result
}
