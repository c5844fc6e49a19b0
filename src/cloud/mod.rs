//! Everything that talks to Alibaba Cloud: where calls go (`endpoints`),
//! what failures say (`error`), secrets kept out of messages (`redact`),
//! retries, breakers and statistics (`retry`), the HTTP path
//! (`transport`), calls and signing (`client`), credentials, the rate
//! limiter and quotas, and the typed calls (`ecs`, with `page` reading its
//! answers; `resourcemanager`, `rules`).

pub mod actiontrail;
pub mod client;
pub mod concurrency;
pub mod connect;
pub mod credentials;
pub mod directory;
pub mod ecs;
pub mod endpoints;
pub mod error;
pub mod identity;
mod page;
pub mod quotas;
pub mod ratelimit;
pub mod redact;
pub mod resource_center;
pub mod resourcemanager;
pub mod retry;
pub mod rules;
pub mod transport;

#[cfg(test)]
pub(crate) mod tests;
