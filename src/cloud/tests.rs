//! The client against the emulator: retries through faults and the try
//! limit. Temporary credentials are tested in `credentials::tests`.

use std::time::Duration;

use futures::stream::{self, StreamExt};

use super::client::{Call, Client, ClientConfig, Endpoints, RetryPolicy, Service};
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

/// The emulator fleet's plain key, for tests elsewhere too.
pub(crate) fn test_key() -> CredentialSource {
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
        id: format!("i-{n:04}").into(),
    };
    let reads = stream::iter(0..1_000)
        .map(|n| {
            let client = &client;
            async move {
                let ids = serde_json::to_string(&[instance(n).id]).unwrap();
                let outcome = client
                    .call::<serde_json::Value>(&Call::new(
                        Service::Ecs,
                        Some("cn-hangzhou"),
                        "DescribeInstances",
                        &[("InstanceIds", ids)],
                    ))
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
                let outcome = ecs::join_resource_group(client, &instance(n), "rg-dev", None).await;
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
    let outcome = ecs::join_resource_group(&client, &missing, "rg-dev", None).await;
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

/// The adaptive limiter of `apply` (no `--rate`) against the emulator's
/// quota of 50 calls a second, on a paused clock: 2,000 joins by 32
/// workers, each throttled call tried again, as the client does. The
/// limiter settles under the quota: few calls are throttled, and the run
/// takes little longer than the quota's minimum of 39 s (2,000 calls less
/// the first second's 50, at 50 a second). The bound above is generous
/// (60 s): the emulator's windows follow the wall clock's second, so where
/// the run starts within a second shifts every window.
#[tokio::test(start_paused = true)]
async fn the_limiter_settles_under_a_server_quota() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::cloud::ratelimit::RateLimiter;
    use crate::emulator::tests::call_router;

    const JOINS: usize = 2_000;
    const REGION: &str = "cn-hangzhou";
    let settings = Settings {
        qps: Some(50),
        ..Settings::default()
    };
    // Instances i-0000 … i-1999, in the default group.
    let router = Emulator::service(fleet(JOINS), settings).unwrap();
    let limiter = RateLimiter::new(None);
    let (next, requests, throttled) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let started = tokio::time::Instant::now();
    let worker = || async {
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            if n >= JOINS {
                return;
            }
            let id = format!("i-{n:04}");
            let params = [
                ("ResourceType", "instance"),
                ("ResourceId", id.as_str()),
                ("ResourceGroupId", "rg-dev"),
            ];
            loop {
                let sent = limiter
                    .acquire("JoinResourceGroup", Some(REGION), true)
                    .await
                    .expect("a held turn always comes");
                let (status, code) =
                    call_router(&router, "JoinResourceGroup", REGION, &params).await;
                requests.fetch_add(1, Ordering::Relaxed);
                if code.starts_with("Throttling") {
                    throttled.fetch_add(1, Ordering::Relaxed);
                    limiter.on_throttled("JoinResourceGroup", Some(REGION), sent, None);
                    continue;
                }
                assert_eq!((status, code.as_str()), (200, ""), "{id}");
                limiter.on_success("JoinResourceGroup", Some(REGION));
                break;
            }
        }
    };
    futures::future::join_all((0..32).map(|_| worker())).await;
    let took = started.elapsed();
    let (requests, throttled) = (requests.into_inner(), throttled.into_inner());
    assert_eq!(requests - throttled, JOINS, "every join landed once");
    assert!(
        throttled * 20 < requests,
        "{throttled} of {requests} calls were throttled"
    );
    assert!(
        took >= Duration::from_secs(39) && took <= Duration::from_secs(60),
        "2,000 joins under a quota of 50/s took {took:?}"
    );
}

/// A loopback server that answers every request with the next of
/// `answers` (the last one again once they run out), whatever was asked:
/// for answers the emulator never gives, such as a listing that ends short.
pub(crate) async fn canned_server(answers: Vec<serde_json::Value>) -> Client {
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().fallback(move || {
        let n = served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let answer = answers[n.min(answers.len() - 1)].clone();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                answer.to_string(),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let config = ClientConfig {
        endpoints: Endpoints::override_with(&url).unwrap(),
        retry: RetryPolicy {
            max_tries: 1,
            ..RetryPolicy::default()
        },
        ..ClientConfig::default()
    };
    Client::new(config, test_key()).unwrap()
}
