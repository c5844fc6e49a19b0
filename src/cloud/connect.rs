//! A run's connection: the transport built from resolved options, the
//! credential chain walked through it (so STS and metadata calls are
//! retried and logged like any other), then the client.

use std::time::Duration;

use anyhow::Context as _;

use super::client::{Client, ClientConfig, Endpoints, RetryPolicy, SignatureVersion, Transport};
use super::credentials::{self, CredentialSource};

/// What a connection needs, resolved from the command line (or from
/// whatever drives the library): no parser types.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// One URL for every call instead of Alibaba Cloud's endpoints.
    pub endpoint: Option<String>,
    /// The credentials to use as they are, without walking the chain (the
    /// emulator's `-- COMMAND` mode).
    pub credentials: Option<CredentialSource>,
    /// The profile the chain reads.
    pub profile: Option<String>,
    pub signature: SignatureVersion,
    pub max_tries: u32,
    pub retry_for: Duration,
    pub request_timeout: Duration,
    /// Most calls per second, per API and region.
    pub max_rate: Option<f64>,
}

/// A client with the credentials the chain chose, and the sources it
/// passed over.
pub struct Connection {
    pub client: Client,
    pub skipped: Vec<credentials::Skipped>,
}

/// Builds the transport, walks the credential chain through it, then the
/// client.
pub async fn connect(options: &ConnectOptions) -> anyhow::Result<Connection> {
    let endpoints = match &options.endpoint {
        Some(url) => Endpoints::override_with(url).context("invalid --endpoint")?,
        None => Endpoints::AlibabaCloud,
    };
    let defaults = ClientConfig::default();
    let config = ClientConfig {
        endpoints,
        max_rate: options.max_rate,
        signature: options.signature,
        retry: RetryPolicy {
            max_tries: options.max_tries,
            retry_for: options.retry_for,
            ..defaults.retry
        },
        request_timeout: options.request_timeout,
        ..defaults
    };
    let transport = Transport::new(&config)?;
    let (credentials, skipped) = match &options.credentials {
        Some(source) => (source.clone(), Vec::new()),
        None => {
            let resolved = credentials::resolve(
                &credentials::Environment::from_process(),
                options.profile.as_deref(),
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
        client: Client::with_transport(transport, credentials, options.max_rate),
        skipped,
    })
}

/// The client alone.
pub async fn client(options: &ConnectOptions) -> anyhow::Result<Client> {
    Ok(connect(options).await?.client)
}
