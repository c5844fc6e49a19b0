//! Everything that talks to Alibaba Cloud: signing, credentials, the HTTP
//! client with its retries and rate limit, and the typed calls.

pub mod actiontrail;
pub mod client;
pub mod concurrency;
pub mod credentials;
pub mod ecs;
pub mod quotas;
pub mod ratelimit;
pub mod resourcemanager;
pub mod rules;

#[cfg(test)]
pub(crate) mod tests;
