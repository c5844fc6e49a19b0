//! The client against the emulator: retries through faults, the try limit,
//! and OIDC credentials that refresh before they expire.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};

use super::client::{Client, ClientConfig, Endpoints, RetryPolicy, Service, NO_PARAMS};
use super::credentials::{CredentialSource, Credentials, Secret};
use super::ecs;
use crate::emulator::tests::fleet;
use crate::emulator::{Emulator, Settings};
use crate::resource::{ResourceKey, ResourceType};

const MAX_TRIES: u32 = 12;

async fn start(settings: Settings, per_type: usize) -> Emulator {
    Emulator::start(fleet(per_type), settings, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client(emulator: &Emulator, credentials: CredentialSource) -> Client {
    let config = ClientConfig {
        endpoints: Endpoints::override_with(&emulator.url()).unwrap(),
        retry: RetryPolicy {
            max_tries: MAX_TRIES,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(200),
            ..RetryPolicy::default()
        },
        max_rate: Some(5_000.0),
        ..ClientConfig::default()
    };
    Client::new(config, credentials).unwrap()
}

fn test_key() -> CredentialSource {
    CredentialSource::Static {
        origin: "test".into(),
        credentials: Credentials {
            access_key_id: "testid".into(),
            access_key_secret: Secret::new("testsecret"),
            security_token: None,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_joins_get_through_a_faulty_server() {
    let emulator = start(
        Settings {
            fault_rate: 0.3,
            seed: Some(3),
            ..Settings::default()
        },
        1_000,
    )
    .await;
    let client = client(&emulator, test_key());
    let instance = |n: usize| ResourceKey {
        rtype: ResourceType::Instance,
        region: "cn-hangzhou".into(),
        id: format!("i-{n:04}"),
    };
    let reads = stream::iter(0..1_000)
        .map(|n| {
            let client = &client;
            async move {
                let ids = serde_json::to_string(&[instance(n).id]).unwrap();
                let outcome = client
                    .call_detailed(
                        Service::Ecs,
                        Some("cn-hangzhou"),
                        "DescribeInstances",
                        &[("InstanceIds", ids)],
                    )
                    .await;
                let found = outcome
                    .result
                    .as_ref()
                    .map(|body| body["Instances"]["Instance"].as_array().map(Vec::len) == Some(1))
                    .unwrap_or(false);
                (found, outcome.tries)
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    let joins = stream::iter(0..1_000)
        .map(|n| {
            let client = &client;
            async move {
                let outcome = ecs::join_resource_group(client, &instance(n), "rg-dev").await;
                (outcome.result.is_ok(), outcome.tries)
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;

    for (what, outcomes) in [("reads", &reads), ("joins", &joins)] {
        assert!(outcomes.iter().all(|(ok, _)| *ok), "some {what} failed");
        assert!(
            outcomes.iter().all(|(_, tries)| *tries <= MAX_TRIES),
            "a call passed the try limit"
        );
        assert!(
            outcomes.iter().any(|(_, tries)| *tries > 1),
            "no {what} were retried"
        );
    }
    let stats = client.stats();
    assert!(stats.retries > 300, "{stats:?}");
    assert_eq!(stats.requests, 2_000 + stats.retries);
    let fleet = emulator.snapshot().await;
    let moved = fleet
        .resources
        .iter()
        .filter(|r| {
            r.rtype == ResourceType::Instance
                && r.region == "cn-hangzhou"
                && r.group.as_deref() == Some("rg-dev")
        })
        .count();
    assert_eq!(moved, 1_000);
}

#[tokio::test]
async fn final_errors_are_not_retried() {
    let emulator = start(Settings::default(), 1).await;
    let client = client(&emulator, test_key());
    let missing = ResourceKey {
        rtype: ResourceType::Instance,
        region: "cn-hangzhou".into(),
        id: "i-nothere".into(),
    };
    let outcome = ecs::join_resource_group(&client, &missing, "rg-dev").await;
    assert_eq!(outcome.tries, 1);
    assert_eq!(
        outcome.result.unwrap_err().code(),
        "InvalidResourceId.NotFound"
    );
    assert_eq!(
        outcome.request_ids.len(),
        1,
        "the error's request id is kept"
    );
}

#[tokio::test]
async fn oidc_credentials_are_fetched_once_and_renewed_before_expiry() {
    let emulator = start(
        Settings {
            record_requests: true,
            ..Settings::default()
        },
        1,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "ci-token\n").unwrap();
    let role = Arc::new(super::credentials::OidcRole::new(
        "acs:ram::1:role/ci".into(),
        "acs:ram::1:oidc-provider/ci".into(),
        token,
        "test".into(),
    ));
    let client = client(&emulator, CredentialSource::Oidc(role.clone()));
    for _ in 0..3 {
        client
            .call(
                Service::Ecs,
                Some("cn-hangzhou"),
                "DescribeInstances",
                NO_PARAMS,
            )
            .await
            .unwrap();
    }
    let assumed = || {
        emulator
            .requests()
            .iter()
            .filter(|r| r.action == "AssumeRoleWithOIDC")
            .count()
    };
    assert_eq!(assumed(), 1, "the temporary key is cached");

    role.expire_soon().await;
    client
        .call(
            Service::Ecs,
            Some("cn-hangzhou"),
            "DescribeInstances",
            NO_PARAMS,
        )
        .await
        .unwrap();
    assert_eq!(assumed(), 2, "a key about to expire is renewed");
}
