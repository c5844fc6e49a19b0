//! The emulator against the real API's behaviour: requests built by hand
//! for the gateway's checks, and the project's own client for the reads.

use std::collections::BTreeMap;

use super::fleet::{AccessKey, Fleet, FleetGroup, FleetResource, OidcToken};
use super::{Emulator, Settings};
use crate::api::describe::TypeApi;
use crate::api::sign;
use crate::cloud::client::{
    Call, Client, ClientConfig, CloudError, Endpoints, RetryPolicy, Service, NO_PARAMS,
};
use crate::cloud::credentials::{CredentialSource, Credentials, Secret};
use crate::cloud::ecs::{self, Cursor, Selection};
use crate::resource::{IdShape, ResourceType};

const REGION: &str = "cn-hangzhou";

pub(super) fn resource(rtype: ResourceType, id: &str, region: &str) -> FleetResource {
    FleetResource {
        rtype,
        id: id.into(),
        region: region.into(),
        name: format!("{id}-name"),
        group: None,
        tags: BTreeMap::new(),
        status: None,
        owner: None,
        attached: Vec::new(),
        move_error: None,
    }
}

/// The `n`th test id of a type, in the type's own id shape: `i-0003`,
/// `key0003` for key pairs and buckets, `res0003` for free-form ids, a UUID ending in `n` for activations.
pub fn test_id(rtype: ResourceType, n: usize) -> String {
    match rtype.id_shape() {
        IdShape::Prefixed(prefix) => format!("{prefix}{n:04}"),
        IdShape::KeyPairName | IdShape::BucketName => format!("key{n:04}"),
        IdShape::Free => format!("res{n:04}"),
        IdShape::Uuid => format!("00000000-0000-4000-8000-{n:012}"),
    }
}

/// Groups `default`, `prod`, `dev`; `per_type` resources of each of the
/// thirteen types in cn-hangzhou (the odd ones in prod, tagged `team=odd`), one
/// of each in cn-shanghai.
pub fn fleet(per_type: usize) -> Fleet {
    let mut resources = Vec::new();
    for rtype in ResourceType::ALL {
        for n in 0..per_type {
            let mut r = resource(rtype, &test_id(rtype, n), REGION);
            if n % 2 == 1 {
                r.group = Some("rg-prod".into());
                r.tags.insert("team".into(), "odd".into());
            }
            resources.push(r);
        }
        resources.push(resource(rtype, &test_id(rtype, 9_999), "cn-shanghai"));
    }
    Fleet {
        account_id: "1234567890123456".into(),
        access_keys: vec![
            AccessKey {
                id: "testid".into(),
                secret: "testsecret".into(),
                security_token: None,
                denied_actions: Vec::new(),
            },
            AccessKey {
                id: "STS.temp".into(),
                secret: "stssecret".into(),
                security_token: Some("the-token".into()),
                denied_actions: Vec::new(),
            },
        ],
        resource_groups: vec![
            FleetGroup {
                id: "rg-default".into(),
                name: "default".into(),
                default: true,
                display_name: None,
                status: None,
            },
            FleetGroup {
                id: "rg-prod".into(),
                name: "prod".into(),
                default: false,
                display_name: None,
                status: None,
            },
            FleetGroup {
                id: "rg-dev".into(),
                name: "dev".into(),
                default: false,
                display_name: None,
                status: None,
            },
        ],
        resources,
        resource_center: false,
        oidc_tokens: vec![OidcToken {
            token: "ci-token".into(),
            role_arn: "acs:ram::1:role/ci".into(),
            provider_arn: "acs:ram::1:oidc-provider/ci".into(),
        }],
        auto_grouping: None,
        accounts: Vec::new(),
        folders: Vec::new(),
    }
}

pub(super) async fn start(fleet: Fleet, settings: Settings) -> Emulator {
    Emulator::start(fleet, settings, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the emulator starts")
}

pub(super) fn client_for(
    emulator: &Emulator,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> Client {
    let config = ClientConfig {
        endpoints: Endpoints::override_with(&emulator.url()).unwrap(),
        retry: RetryPolicy {
            max_tries: 1,
            // Throttled calls are answered, not waited out.
            retry_for: std::time::Duration::ZERO,
            ..RetryPolicy::default()
        },
        max_rate: Some(10_000.0),
        ..ClientConfig::default()
    };
    let credentials = CredentialSource::Static {
        origin: "test".into(),
        credentials: Credentials {
            access_key_id: key.into(),
            access_key_secret: Secret::new(secret),
            security_token: token.map(Secret::new),
        },
    };
    Client::new(config, credentials).unwrap()
}

pub(super) fn client(emulator: &Emulator) -> Client {
    client_for(emulator, "testid", "testsecret", None)
}

/// How a hand-made request travels.
#[derive(Debug, Clone, Copy)]
enum Style {
    Get,
    PostQuery,
    PostForm,
}

/// Common parameters for a hand-made request; `overrides` replace or add.
fn common(action: &str, version: &str, overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
    let nonce = format!("{:032x}", rand::random::<u128>());
    let mut params: BTreeMap<String, String> = [
        ("Action", action),
        ("Version", version),
        ("AccessKeyId", "testid"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce.as_str()),
        ("Timestamp", &crate::cloud::client::timestamp_now()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in overrides {
        params.insert((*k).to_owned(), (*v).to_owned());
    }
    params
}

/// Signs `params` with `secret` for `style` and sends them; the status and
/// body come back.
async fn send(
    emulator: &Emulator,
    style: Style,
    mut params: BTreeMap<String, String>,
    secret: &str,
) -> (u16, String) {
    let method = match style {
        Style::Get => "GET",
        _ => "POST",
    };
    if !params.contains_key("Signature") {
        let signature = sign::sign(
            method,
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            secret,
        );
        params.insert("Signature".into(), signature);
    }
    let encoded = sign::canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let signature = format!("&Signature={}", sign::percent_encode(&params["Signature"]));
    let http = reqwest::Client::new();
    let url = emulator.url();
    let request = match style {
        Style::Get => http.get(format!("{url}/?{encoded}{signature}")),
        Style::PostQuery => http.post(format!("{url}/?{encoded}{signature}")),
        Style::PostForm => {
            // Form bodies may spell a space as `+`, as browsers do.
            let body: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter())
                .finish();
            http.post(format!("{url}/"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        }
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn code_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("Code").and_then(|c| c.as_str()).map(str::to_owned))
        .unwrap_or_else(|| format!("<no code in {body}>"))
}

/// Signs `params` with the fleet's key for `method` and encodes them, the
/// signature included, as a query string or form body.
fn sign_and_encode(method: &str, mut params: BTreeMap<String, String>) -> String {
    let signature = sign::sign(
        method,
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        "testsecret",
    );
    params.insert("Signature".into(), signature);
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish()
}

/// Sends a signed JSON GET for `action` in `region` straight to the
/// emulator's router, with no network, so that it runs on a paused clock:
/// the status and the error code (empty on success).
pub async fn call_router(
    router: &axum::Router,
    action: &str,
    region: &str,
    params: &[(&str, &str)],
) -> (u16, String) {
    use tower::ServiceExt;
    let version = super::api::version_of(action).unwrap_or("2014-05-26");
    let mut overrides = vec![("Format", "JSON"), ("RegionId", region)];
    overrides.extend_from_slice(params);
    let query = sign_and_encode("GET", common(action, version, &overrides));
    let request = axum::http::Request::get(format!("/?{query}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    let code = if status == 200 {
        String::new()
    } else {
        code_of(&body)
    };
    (status, code)
}

/// A V3 GET of `action` with `query`, signed by `key` over every header
/// it sends (as the Tea SDK signs); the status and body come back.
async fn acs3_get(
    emulator: &Emulator,
    action: &str,
    query: &[(&str, &str)],
    key: (&str, &str),
    with_action_header: bool,
) -> (u16, String) {
    use crate::api::sign_v3;
    let host = emulator.addr().to_string();
    let date = crate::cloud::client::timestamp_now();
    let nonce = format!("{:032x}", rand::random::<u128>());
    let empty = sign_v3::sha256_hex(b"");
    let version = super::api::version_of(action).unwrap_or("2014-05-26");
    let mut headers = vec![
        ("host", host.as_str()),
        ("x-acs-version", version),
        ("x-acs-date", date.as_str()),
        ("x-acs-signature-nonce", nonce.as_str()),
        ("x-acs-content-sha256", empty.as_str()),
    ];
    if with_action_header {
        headers.push(("x-acs-action", action));
    }
    let request = sign_v3::Request {
        method: "GET",
        path: "/",
        query,
        headers: &headers,
        hashed_payload: &empty,
    };
    let authorization = request.sign(key.0, key.1).header_value();
    let mut http = reqwest::Client::new()
        .get(format!(
            "{}/?{}",
            emulator.url(),
            sign_v3::canonical_query(query.iter().copied())
        ))
        .header("authorization", authorization);
    for (name, value) in headers.iter().filter(|(n, _)| *n != "host") {
        http = http.header(*name, *value);
    }
    let response = http.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn get_caller_identity_under_acs3_answers_for_the_key_in_authorization() {
    let emulator = start(fleet(0), Settings::default()).await;
    let identity = |body: &str| -> serde_json::Value { serde_json::from_str(body).unwrap() };
    let (status, own) = acs3_get(
        &emulator,
        "GetCallerIdentity",
        &[],
        ("testid", "testsecret"),
        true,
    )
    .await;
    assert_eq!(status, 200, "{own}");
    // Signed by testid, naming another key of the fleet in the query.
    let (status, spoofed) = acs3_get(
        &emulator,
        "GetCallerIdentity",
        &[("AccessKeyId", "STS.temp")],
        ("testid", "testsecret"),
        true,
    )
    .await;
    assert_eq!(status, 200, "{spoofed}");
    assert_eq!(
        identity(&spoofed)["PrincipalId"],
        identity(&own)["PrincipalId"],
        "the signer's identity, not the query's key"
    );
    let (_, v1) = send(
        &emulator,
        Style::Get,
        common("GetCallerIdentity", "2015-04-01", &[("Format", "JSON")]),
        "testsecret",
    )
    .await;
    assert_eq!(identity(&v1)["PrincipalId"], identity(&own)["PrincipalId"]);
}

#[tokio::test]
async fn the_authorization_scheme_decides_the_signature_version() {
    let emulator = start(fleet(1), Settings::default()).await;
    // aliyun-python-sdk-core 2.16.1 and the Tea SDK in v2 mode: a v1
    // signature with an x-acs-action header beside it.
    let params = common(
        "DescribeInstances",
        "2014-05-26",
        &[("Format", "JSON"), ("RegionId", REGION)],
    );
    let query = sign_and_encode("GET", params);
    let response = reqwest::Client::new()
        .get(format!("{}/?{query}", emulator.url()))
        .header("x-acs-action", "DescribeInstances")
        .header("x-acs-version", "2014-05-26")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "v1 with x-acs-action: {body}");
    // An ACS3 request must name its action in x-acs-action (V3 document,
    // request headers): `Action` in the query does not do.
    let (status, body) = acs3_get(
        &emulator,
        "DescribeInstances",
        &[("Action", "DescribeInstances"), ("RegionId", REGION)],
        ("testid", "testsecret"),
        false,
    )
    .await;
    assert_eq!(
        (status, code_of(&body).as_str()),
        (400, "IncompleteSignature"),
        "{body}"
    );
    assert!(body.contains("x-acs-action"), "{body}");
    // x-acs-action with neither an Authorization header nor a Signature
    // parameter is a V3 request without its signature.
    let response = reqwest::Client::new()
        .get(format!("{}/?RegionId={REGION}", emulator.url()))
        .header("x-acs-action", "DescribeInstances")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("Authorization header is missing"), "{body}");
}

#[tokio::test]
async fn every_request_style_is_accepted_and_xml_is_the_default() {
    let emulator = start(fleet(2), Settings::default()).await;
    for style in [Style::Get, Style::PostQuery, Style::PostForm] {
        let params = common(
            "DescribeInstances",
            "2014-05-26",
            &[
                ("Format", "JSON"),
                ("RegionId", REGION),
                ("Tag.1.Key", "team"),
                ("Tag.1.Value", "odd"),
            ],
        );
        let (status, body) = send(&emulator, style, params, "testsecret").await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"InstanceId\":\"i-0001\""), "{body}");
        assert!(!body.contains("i-0000"), "tag filter ignored: {body}");
    }
    // A value with a space travels as `+` in a form body and must still verify.
    let params = common(
        "DescribeKeyPairs",
        "2014-05-26",
        &[
            ("Format", "JSON"),
            ("RegionId", REGION),
            ("KeyPairName", "no such key"),
        ],
    );
    let (status, body) = send(&emulator, Style::PostForm, params, "testsecret").await;
    assert_eq!(status, 200, "{body}");

    let params = common("DescribeDisks", "2014-05-26", &[("RegionId", REGION)]);
    let (status, body) = send(&emulator, Style::Get, params, "testsecret").await;
    assert_eq!(status, 200);
    assert!(
        body.starts_with("<?xml") && body.contains("<DescribeDisksResponse><Disks><Disk>"),
        "{body}"
    );
    let params = common("Nope", "2014-05-26", NO_PARAMS);
    let (status, body) = send(&emulator, Style::Get, params, "testsecret").await;
    assert_eq!(status, 404);
    assert!(
        body.contains("<Error>") && body.contains("<Code>InvalidApi.NotFound</Code>"),
        "{body}"
    );
}

#[tokio::test]
async fn the_gateway_checks_in_order() {
    let emulator = start(fleet(1), Settings::default()).await;
    let describe = |extra: &[(&str, &str)]| {
        let mut base = vec![("Format", "JSON"), ("RegionId", REGION)];
        base.extend_from_slice(extra);
        common("DescribeInstances", "2014-05-26", &base)
    };
    // (case, request, secret to sign with, expected status, expected code)
    type Case<'a> = (&'a str, BTreeMap<String, String>, &'a str, u16, &'a str);
    let mut cases: Vec<Case> = Vec::new();
    let mut missing = describe(&[]);
    missing.remove("SignatureNonce");
    cases.push((
        "missing nonce",
        missing,
        "testsecret",
        400,
        "MissingParameter",
    ));
    cases.push((
        "bad method",
        describe(&[("SignatureMethod", "HMAC-SHA256")]),
        "testsecret",
        400,
        "InvalidParameter",
    ));
    cases.push((
        "unknown key",
        describe(&[("AccessKeyId", "nobody")]),
        "testsecret",
        404,
        "InvalidAccessKeyId.NotFound",
    ));
    cases.push((
        "malformed time",
        describe(&[("Timestamp", "2026-01-01 10:00:00")]),
        "testsecret",
        400,
        "InvalidTimeStamp.Format",
    ));
    cases.push((
        "old time",
        describe(&[("Timestamp", "2016-02-23T12:46:24Z")]),
        "testsecret",
        400,
        "InvalidTimeStamp.Expired",
    ));
    cases.push((
        "wrong secret",
        describe(&[]),
        "wrongsecret",
        400,
        "SignatureDoesNotMatch",
    ));
    cases.push((
        "unknown action",
        common("DescribeNothing", "2014-05-26", &[("Format", "JSON")]),
        "testsecret",
        404,
        "InvalidApi.NotFound",
    ));
    cases.push((
        "wrong version",
        describe(&[("Version", "2020-03-31")]),
        "testsecret",
        400,
        "InvalidVersion",
    ));
    cases.push((
        "sts key without token",
        describe(&[("AccessKeyId", "STS.temp")]),
        "stssecret",
        400,
        "MissingSecurityToken",
    ));
    cases.push((
        "sts key, wrong token",
        describe(&[("AccessKeyId", "STS.temp"), ("SecurityToken", "other")]),
        "stssecret",
        400,
        "InvalidSecurityToken.MismatchWithAccessKey",
    ));
    for (name, params, secret, status, code) in cases {
        let (got_status, body) = send(&emulator, Style::PostQuery, params, secret).await;
        assert_eq!(
            (got_status, code_of(&body).as_str()),
            (status, code),
            "{name}: {body}"
        );
    }

    let ok = describe(&[("AccessKeyId", "STS.temp"), ("SecurityToken", "the-token")]);
    let (status, body) = send(&emulator, Style::PostQuery, ok.clone(), "stssecret").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(&emulator, Style::PostQuery, ok, "stssecret").await;
    assert_eq!(
        (status, code_of(&body).as_str()),
        (400, "SignatureNonceUsed"),
        "replay: {body}"
    );
}

#[tokio::test]
async fn a_bad_signature_shows_the_servers_string_to_sign() {
    let emulator = start(fleet(1), Settings::default()).await;
    let params = common(
        "DescribeInstances",
        "2014-05-26",
        &[("Format", "JSON"), ("RegionId", REGION)],
    );
    let expected = sign::string_to_sign(
        "POST",
        &sign::canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    );
    let (_, body) = send(&emulator, Style::PostQuery, params, "wrong").await;
    let message = serde_json::from_str::<serde_json::Value>(&body).unwrap()["Message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.ends_with(&format!("server string to sign is:{expected}")),
        "{message}"
    );
}

#[tokio::test]
async fn the_seeds_request_example_gets_missing_parameter() {
    let emulator = start(fleet(1), Settings::default()).await;
    // As the seed writes it: `RsourceType` misspelt, `SecurityGroupId` for `ResourceId`.
    let params = common(
        "JoinResourceGroup",
        "2014-05-26",
        &[
            ("Format", "JSON"),
            ("RegionId", "cn-hangzhou"),
            ("RsourceType", "securitygroup"),
            ("SecurityGroupId", "sg-securitygroupid"),
            ("ResourceGroupId", "rg-resourcegrouid"),
        ],
    );
    let (status, body) = send(&emulator, Style::Get, params, "testsecret").await;
    assert_eq!(
        (status, code_of(&body).as_str()),
        (403, "MissingParameter"),
        "{body}"
    );
}

#[tokio::test]
async fn join_resource_group_has_the_seeds_errors() {
    let emulator = start(fleet(1), Settings::default()).await;
    let client = client(&emulator);
    let join = |rtype: &str, id: &str, group: &str, region: &str| {
        let (rtype, id, group, region) = (
            rtype.to_owned(),
            id.to_owned(),
            group.to_owned(),
            region.to_owned(),
        );
        let client = client.clone();
        async move {
            client
                .call::<serde_json::Value>(&Call::new(
                    Service::Ecs,
                    Some(&region),
                    "JoinResourceGroup",
                    &[
                        ("ResourceType", rtype),
                        ("ResourceId", id),
                        ("ResourceGroupId", group),
                    ],
                ))
                .await
                .result
        }
    };
    let api_error = |result: Result<serde_json::Value, CloudError>| {
        let error = result.expect_err("the call fails");
        let api = error.api_error().expect("an API error").clone();
        (api.status, api.code)
    };
    assert_eq!(
        api_error(join("Instance", "i-0000", "rg-prod", REGION).await),
        (404, "InvalidResourceType.NotFound".into())
    );
    assert_eq!(
        api_error(join("instance", "i-0000", "rg-nope", REGION).await),
        (404, "InvalidResourceGroup.NotFound".into())
    );
    assert_eq!(
        api_error(join("instance", "i-nope", "rg-prod", REGION).await),
        (404, "InvalidResourceId.NotFound".into())
    );
    // A resource in another region is not found there.
    assert_eq!(
        api_error(join("instance", "i-9999", "rg-prod", REGION).await),
        (404, "InvalidResourceId.NotFound".into())
    );
    assert_eq!(
        api_error(join("instance", "", "rg-prod", REGION).await),
        (403, "MissingParameter".into())
    );

    join("instance", "i-0000", "rg-prod", REGION)
        .await
        .expect("a move succeeds");
    join("instance", "i-0000", "rg-prod", REGION)
        .await
        .expect("joining the group it is in succeeds");
    join("keypair", "key0000", "rg-dev", REGION)
        .await
        .expect("key pairs move by name");
    let fleet = emulator.snapshot().await;
    let group_of = |id: &str| {
        fleet
            .resources
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.group.clone())
    };
    assert_eq!(group_of("i-0000").as_deref(), Some("rg-prod"));
    assert_eq!(group_of("key0000").as_deref(), Some("rg-dev"));
}

/// Reads every page of one listing through the client.
async fn read_all(client: &Client, rtype: ResourceType, selection: &Selection<'_>) -> Vec<String> {
    let api = TypeApi::of(rtype);
    let mut ids = Vec::new();
    let mut cursor: Option<Cursor> = None;
    for _ in 0..1000 {
        let page = ecs::describe(client, api, REGION, selection, None, cursor.as_ref())
            .await
            .unwrap();
        ids.extend(page.resources.into_iter().map(|r| r.key.id.to_string()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
    panic!("paging did not end");
}

#[tokio::test]
async fn every_describe_pages_to_the_end_and_filters_by_id() {
    // 120 of each type: more than one page for every API but those of 500.
    let emulator = start(fleet(120), Settings::default()).await;
    let client = client(&emulator);
    for rtype in ResourceType::ALL {
        let all = read_all(&client, rtype, &Selection::All).await;
        assert_eq!(all.len(), 120, "{rtype}");
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 120, "{rtype}: a page repeated items");

        let api = TypeApi::of(rtype);
        let wanted: Vec<String> = all.iter().take(api.max_ids.min(3)).cloned().collect();
        let page = ecs::describe(
            &client,
            api,
            REGION,
            &Selection::Ids(&wanted.iter().map(String::as_str).collect::<Vec<_>>()),
            None,
            None,
        )
        .await
        .unwrap();
        let mut got: Vec<String> = page
            .resources
            .iter()
            .map(|r| r.key.id.to_string())
            .collect();
        got.sort();
        let mut wanted_sorted = wanted.clone();
        wanted_sorted.sort();
        assert_eq!(got, wanted_sorted, "{rtype}");
        assert!(
            page.resources.iter().all(|r| !r.group_id.is_empty()),
            "{rtype}: every item has its group"
        );
        let odd = page.resources.iter().find(|r| r.key.id.ends_with('1'));
        if let Some(odd) = odd {
            assert_eq!(&*odd.group_id, "rg-prod");
            assert_eq!(odd.tag("team"), Some("odd"));
        }
    }
    // Pages of the largest size each API allows, plus one id-filter call:
    // 120 disks fit one page of 500, instances take two of 100, key pairs
    // three of 50.
    let counts = client.stats().per_action;
    assert_eq!(counts["DescribeDisks"], 2);
    assert_eq!(counts["DescribeInstances"], 3);
    assert_eq!(counts["DescribeKeyPairs"], 4);
}

#[tokio::test]
async fn page_sizes_over_the_limit_are_errors() {
    let emulator = start(fleet(1), Settings::default()).await;
    let client = client(&emulator);
    // DescribeInstances, DescribeDisks and DescribeNetworkInterfaces clamp
    // MaxResults instead (tests/cli/conformance.rs).
    for (action, param, value) in [
        ("DescribeSnapshots", "MaxResults", "101"),
        ("DescribeSecurityGroups", "MaxResults", "0"),
        ("DescribeImages", "PageSize", "101"),
        ("DescribeKeyPairs", "PageSize", "51"),
        ("DescribeLaunchTemplates", "PageSize", "51"),
        ("DescribeCommands", "MaxResults", "51"),
    ] {
        let error = client
            .call::<serde_json::Value>(&Call::new(
                Service::Ecs,
                Some(REGION),
                action,
                &[(param, value.to_owned())],
            ))
            .await
            .result
            .expect_err(action);
        assert_eq!(
            error.api_error().map(|e| e.code.as_str()),
            Some("InvalidParameter"),
            "{action}"
        );
    }
    let ids: Vec<String> = (0..101).map(|n| format!("i-{n:04}")).collect();
    let error = client
        .call::<serde_json::Value>(&Call::new(
            Service::Ecs,
            Some(REGION),
            "DescribeInstances",
            &[("InstanceIds", serde_json::to_string(&ids).unwrap())],
        ))
        .await
        .result
        .expect_err("101 ids");
    assert_eq!(
        error.api_error().map(|e| e.code.as_str()),
        Some("InvalidParameter")
    );
}

#[tokio::test]
async fn the_group_filter_hides_the_default_group_as_the_real_api_does() {
    let emulator = start(fleet(4), Settings::default()).await;
    let client = client(&emulator);
    let count = |group: &'static str| {
        let client = client.clone();
        async move {
            let body = client
                .call::<serde_json::Value>(&Call::new(
                    Service::Ecs,
                    Some(REGION),
                    "DescribeInstances",
                    &[("ResourceGroupId", group.to_owned())],
                ))
                .await
                .result
                .unwrap();
            body["Instances"]["Instance"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0)
        }
    };
    assert_eq!(count("rg-prod").await, 2);
    assert_eq!(count("rg-default").await, 0);
    let body = client
        .call::<serde_json::Value>(&Call::new(
            Service::Ecs,
            Some(REGION),
            "DescribeLaunchTemplates",
            &[
                ("TemplateTag.1.Key", "team".to_owned()),
                ("TemplateTag.1.Value", "odd".to_owned()),
            ],
        ))
        .await
        .result
        .unwrap();
    assert_eq!(
        body["LaunchTemplateSets"]["LaunchTemplateSet"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn images_and_hosts_hide_other_states_unless_asked() {
    let mut fleet = fleet(0);
    let mut failed = resource(ResourceType::Image, "m-failed", REGION);
    failed.status = Some("CreateFailed".into());
    let mut system = resource(ResourceType::Image, "m-system", REGION);
    system.owner = Some("system".into());
    let mut host = resource(ResourceType::Ddh, "dh-assess", REGION);
    host.status = Some("UnderAssessment".into());
    fleet.resources.extend([failed, system, host]);
    let emulator = start(fleet, Settings::default()).await;
    let client = client(&emulator);
    let ids = |body: serde_json::Value, outer: &str, inner: &str, field: &str| -> Vec<String> {
        body[outer][inner]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i[field].as_str().unwrap().to_owned())
            .collect()
    };
    let plain = client
        .call::<serde_json::Value>(&Call::new(
            Service::Ecs,
            Some(REGION),
            "DescribeImages",
            NO_PARAMS,
        ))
        .await
        .result
        .unwrap();
    assert_eq!(ids(plain, "Images", "Image", "ImageId"), vec!["m-system"]);
    // What the inventory sends: own images of every state.
    let api = TypeApi::of(ResourceType::Image);
    let page = ecs::describe(&client, api, REGION, &Selection::All, None, None)
        .await
        .unwrap();
    let mut own: Vec<String> = page
        .resources
        .into_iter()
        .map(|r| r.key.id.to_string())
        .collect();
    own.sort();
    assert_eq!(own, vec!["m-failed"]);

    let plain = client
        .call::<serde_json::Value>(&Call::new(
            Service::Ecs,
            Some(REGION),
            "DescribeDedicatedHosts",
            NO_PARAMS,
        ))
        .await
        .result
        .unwrap();
    assert!(ids(plain, "DedicatedHosts", "DedicatedHost", "DedicatedHostId").is_empty());
    // One state per call, as the SDK model has it.
    let hosts = TypeApi::of(ResourceType::Ddh);
    let page = ecs::describe(
        &client,
        hosts,
        REGION,
        &Selection::All,
        Some("UnderAssessment"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(page.resources.len(), 1);
    let error = client
        .call::<serde_json::Value>(&Call::new(
            Service::Ecs,
            Some(REGION),
            "DescribeDedicatedHosts",
            &[("Status", "Available,UnderAssessment".to_owned())],
        ))
        .await
        .result
        .expect_err("a list of states");
    assert_eq!(
        error.api_error().map(|e| e.code.as_str()),
        Some("InvalidParameter")
    );
    // An image id is one id: a comma list names no image.
    let error_free = client
        .call::<serde_json::Value>(&Call::new(
            Service::Ecs,
            Some(REGION),
            "DescribeImages",
            &[
                ("ImageOwnerAlias", "self".to_owned()),
                ("Status", "ALL".to_owned()),
                ("ImageId", "m-failed,m-system".to_owned()),
            ],
        ))
        .await
        .result
        .unwrap();
    assert!(ids(error_free, "Images", "Image", "ImageId").is_empty());
}

#[tokio::test]
async fn resource_groups_list_page_and_filter() {
    let mut fleet = fleet(0);
    for n in 0..25 {
        fleet.resource_groups.push(FleetGroup {
            id: format!("rg-extra{n:02}"),
            name: format!("extra-{n:02}"),
            default: false,
            display_name: None,
            status: None,
        });
    }
    let emulator = start(fleet, Settings::default()).await;
    let client = client(&emulator);
    let all = crate::cloud::resourcemanager::list_resource_groups(&client)
        .await
        .unwrap();
    assert_eq!(all.len(), 28);
    let rm = |params: Vec<(&'static str, String)>| {
        let client = client.clone();
        async move {
            client
                .call::<serde_json::Value>(&Call::new(
                    Service::ResourceManager,
                    None,
                    "ListResourceGroups",
                    &params,
                ))
                .await
                .result
        }
    };
    let page = rm(vec![("PageSize", "10".into()), ("PageNumber", "3".into())])
        .await
        .unwrap();
    assert_eq!(
        page["ResourceGroups"]["ResourceGroup"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    assert_eq!(page["TotalCount"], 28);
    let named = rm(vec![("Name", "prod".into())]).await.unwrap();
    assert_eq!(named["ResourceGroups"]["ResourceGroup"][0]["Id"], "rg-prod");
    let by_id = rm(vec![
        ("ResourceGroupIds.1", "rg-dev".into()),
        ("ResourceGroupIds.2", "rg-extra03".into()),
    ])
    .await
    .unwrap();
    assert_eq!(by_id["TotalCount"], 2);
    let error = rm(vec![("PageSize", "101".into())]).await.unwrap_err();
    assert_eq!(error.api_error().unwrap().code, "InvalidParameter");

    let got = client
        .call::<serde_json::Value>(&Call::new(
            Service::ResourceManager,
            None,
            "GetResourceGroup",
            &[("ResourceGroupId", "rg-dev")],
        ))
        .await
        .result
        .unwrap();
    assert_eq!(got["ResourceGroup"]["Name"], "dev");
    let error = client
        .call::<serde_json::Value>(&Call::new(
            Service::ResourceManager,
            None,
            "GetResourceGroup",
            &[("ResourceGroupId", "rg-none")],
        ))
        .await
        .result
        .unwrap_err();
    assert_eq!(error.api_error().unwrap().status, 404);
}

#[tokio::test]
async fn the_state_file_is_written_on_every_change_and_read_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let settings = Settings {
        state_file: Some(state.clone()),
        ..Settings::default()
    };
    let emulator = start(fleet(2), settings.clone()).await;
    let client = client(&emulator);
    let key = crate::resource::ResourceKey {
        rtype: ResourceType::Disk,
        region: REGION.into(),
        id: "d-0000".into(),
    };
    ecs::join_resource_group(&client, &key, "rg-dev", None)
        .await
        .result
        .unwrap();
    let saved = Fleet::load(&state).unwrap();
    assert_eq!(
        saved
            .resources
            .iter()
            .find(|r| r.id == "d-0000")
            .unwrap()
            .group
            .as_deref(),
        Some("rg-dev")
    );
    emulator.stop().await;

    // A second emulator, from a fleet that says otherwise, sees the move.
    let second = start(fleet(2), settings).await;
    let fleet = second.snapshot().await;
    assert_eq!(
        fleet
            .resources
            .iter()
            .find(|r| r.id == "d-0000")
            .unwrap()
            .group
            .as_deref(),
        Some("rg-dev")
    );
}

/// The quota of `--qps` (`*=N/1s`), on a paused clock: N calls in one
/// calendar second, then `Throttling.User` until the next second, per action
/// and region. The windows themselves are tested in `emulator::quota`.
#[tokio::test(start_paused = true)]
async fn the_quota_admits_n_calls_a_second_per_action_and_region() {
    let settings = Settings {
        qps: Some(5),
        ..Settings::default()
    };
    let router = Emulator::service(fleet(1), settings).unwrap();
    let call = |action: &'static str, region: &'static str| {
        let router = router.clone();
        async move { call_router(&router, action, region, &[]).await }
    };
    let ok = (200, String::new());
    let throttled = (400, "Throttling.User".to_owned());
    // No time passes between these calls: they share one window.
    for n in 0..5 {
        assert_eq!(call("DescribeDisks", REGION).await, ok, "call {n}");
    }
    assert_eq!(call("DescribeDisks", REGION).await, throttled);
    // Counts are per action and per region.
    assert_eq!(call("DescribeInstances", REGION).await, ok);
    assert_eq!(call("DescribeDisks", "cn-shanghai").await, ok);
    // A whole window later, the count starts again, and nothing is saved up.
    tokio::time::advance(std::time::Duration::from_secs(60)).await;
    for n in 0..5 {
        assert_eq!(call("DescribeDisks", REGION).await, ok, "call {n}");
    }
    assert_eq!(call("DescribeDisks", REGION).await, throttled);
}

#[tokio::test]
async fn faults_are_what_the_flag_says() {
    let settings = Settings {
        fault_rate: 1.0,
        seed: Some(7),
        ..Settings::default()
    };
    let faulty = start(fleet(1), settings).await;
    let client = client_for(&faulty, "testid", "testsecret", None);
    let mut kinds = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let error = client
            .call::<serde_json::Value>(&Call::new(
                Service::Ecs,
                Some(REGION),
                "DescribeDisks",
                NO_PARAMS,
            ))
            .await
            .result
            .unwrap_err();
        kinds.insert(error.code());
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        vec!["ServiceUnavailable".to_owned(), "Transport".to_owned()]
    );
}

#[tokio::test]
async fn oidc_tokens_trade_for_working_temporary_keys() {
    let emulator = start(fleet(1), Settings::default()).await;
    let params = [
        ("Action", "AssumeRoleWithOIDC"),
        ("Version", "2015-04-01"),
        ("Format", "JSON"),
        ("RoleArn", "acs:ram::1:role/ci"),
        ("OIDCProviderArn", "acs:ram::1:oidc-provider/ci"),
        ("OIDCToken", "ci-token"),
        ("RoleSessionName", "test"),
    ];
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let response = reqwest::Client::new()
        .post(emulator.url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let c = &answer["Credentials"];
    let client = client_for(
        &emulator,
        c["AccessKeyId"].as_str().unwrap(),
        c["AccessKeySecret"].as_str().unwrap(),
        c["SecurityToken"].as_str(),
    );
    client
        .call::<serde_json::Value>(&Call::new(
            Service::Ecs,
            Some(REGION),
            "DescribeInstances",
            NO_PARAMS,
        ))
        .await
        .result
        .expect("the temporary key works");

    let mut bad = params.to_vec();
    bad[5] = ("OIDCToken", "stolen");
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(bad)
        .finish();
    let response = reqwest::Client::new()
        .post(emulator.url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

/// The soak's joins: worker `worker`'s `j`th join. Each worker moves its
/// own twelve ids of every type, so the order of joins to one resource is
/// the worker's own; each sweep over them takes the next group.
fn soak_join(worker: u64, j: u64) -> (crate::resource::ResourceKey, &'static str) {
    let types = ResourceType::ALL.len() as u64;
    let rtype = ResourceType::ALL[(j % types) as usize];
    // Four resources of each type per worker; each visit of one moves it
    // on to the next group.
    let round = j / types;
    let own = round % 4;
    let visit = round / 4;
    let key = crate::resource::ResourceKey {
        rtype,
        region: REGION.into(),
        id: test_id(rtype, (worker * 12 + own) as usize).into(),
    };
    (
        key,
        ["rg-prod", "rg-dev", "rg-default"][((visit + own) % 3) as usize],
    )
}

/// Each resource's group, the default group spelt out.
fn membership(fleet: &Fleet) -> BTreeMap<(ResourceType, String, String), String> {
    fleet
        .resources
        .iter()
        .map(|r| {
            let group = r.group.clone().unwrap_or_else(|| "rg-default".into());
            ((r.rtype, r.region.clone(), r.id.clone()), group)
        })
        .collect()
}

/// Calls each of the soak's four workers makes, half of them joins: enough
/// for every fault kind and every group to come up many times.
const SOAK_CALLS_PER_WORKER: u64 = 240;

#[tokio::test]
async fn a_soak_of_mixed_calls_with_faults_gets_only_well_formed_answers() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let settings = Settings {
        fault_rate: 0.1,
        seed: Some(42),
        state_file: Some(state.clone()),
        ..Settings::default()
    };
    let emulator = start(fleet(50), settings).await;
    let (mut ok, mut api_errors, mut dropped) = (0, 0, 0);
    let clients: Vec<_> = (0..4u64)
        .map(|worker| {
            let client = client(&emulator);
            tokio::spawn(async move {
                // (the join made, if this call was one; its outcome)
                let mut seen = Vec::new();
                for n in 0..SOAK_CALLS_PER_WORKER {
                    let (join, result) = if n % 2 == 0 {
                        let (key, group) = soak_join(worker, n / 2);
                        let result = ecs::join_resource_group(&client, &key, group, None)
                            .await
                            .result
                            .map(|_| ());
                        (Some((key, group)), result)
                    } else {
                        let types = ResourceType::ALL;
                        let api = TypeApi::of(types[(n as usize + worker as usize) % types.len()]);
                        let result =
                            ecs::describe(&client, api, REGION, &Selection::All, None, None)
                                .await
                                .map(|_| ());
                        (None, result)
                    };
                    seen.push((
                        join,
                        match result {
                            Ok(()) => "ok".to_owned(),
                            Err(error) => error.code(),
                        },
                    ));
                }
                seen
            })
        })
        .collect();
    // What the account should hold: the fleet, then every join that landed
    // in the order its worker made them. A dropped connection drops the
    // answer to a join that was made; a 503 makes none.
    let mut expected = membership(&fleet(50));
    let mut groups_joined = std::collections::BTreeSet::new();
    for handle in clients {
        for (join, outcome) in handle.await.unwrap() {
            let landed = match outcome.as_str() {
                "ok" => {
                    ok += 1;
                    true
                }
                "Transport" => {
                    dropped += 1;
                    true
                }
                "ServiceUnavailable" => {
                    api_errors += 1;
                    false
                }
                other => panic!("unexpected outcome {other}"),
            };
            if let (Some((key, group)), true) = (join, landed) {
                groups_joined.insert(group);
                expected.insert(
                    (key.rtype, key.region.to_string(), key.id.to_string()),
                    group.to_owned(),
                );
            }
        }
    }
    assert_eq!(ok + api_errors + dropped, 4 * SOAK_CALLS_PER_WORKER);
    // One call in ten faults (seeded, so the counts are the same each run):
    // about 50 of each kind.
    assert!(
        api_errors > 20 && dropped > 20,
        "faults: {api_errors} 503s, {dropped} dropped"
    );
    assert_eq!(groups_joined.len(), 3, "joins went to every group");
    // Still up (one in ten calls fails by design, so allow a few tries),
    // and the state file holds exactly what the joins made.
    let probe = client(&emulator);
    let mut answered = false;
    for _ in 0..20 {
        if probe
            .call::<serde_json::Value>(&Call::new(
                Service::Ecs,
                Some(REGION),
                "DescribeInstances",
                NO_PARAMS,
            ))
            .await
            .result
            .is_ok()
        {
            answered = true;
            break;
        }
    }
    assert!(answered, "the emulator stopped answering after the soak");
    let saved = membership(&Fleet::load(&state).expect("the state file is valid"));
    let differ: Vec<_> = expected
        .iter()
        .filter(|(key, group)| saved.get(*key) != Some(*group))
        .take(5)
        .collect();
    assert!(differ.is_empty(), "the state file disagrees: {differ:?}");
    assert_eq!(saved.len(), expected.len());
    assert_eq!(saved, membership(&emulator.snapshot().await));
}

#[tokio::test]
async fn the_request_log_leaves_out_signatures_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let settings = Settings {
        log_file: Some(log.clone()),
        record_requests: true,
        ..Settings::default()
    };
    let emulator = start(fleet(1), settings).await;
    let client = client_for(&emulator, "STS.temp", "stssecret", Some("the-token"));
    client
        .call::<serde_json::Value>(&Call::new(
            Service::Ecs,
            Some(REGION),
            "DescribeInstances",
            NO_PARAMS,
        ))
        .await
        .result
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["action"], "DescribeInstances");
    assert_eq!(line["status"], 200);
    assert!(line["params"].get("Signature").is_none());
    assert!(
        !text.contains("the-token") && !text.contains("stssecret"),
        "{text}"
    );
    assert_eq!(emulator.requests().len(), 1);
}

mod never_panics {
    use std::cell::Cell;

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use tower::ServiceExt;

    use super::*;
    use crate::emulator::gateway::AUTHENTICATION_CODES;

    /// Query strings and bodies made of the pieces a request has, mangled.
    fn noise() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("Action=DescribeInstances".to_owned()),
                Just("Action=JoinResourceGroup".to_owned()),
                Just("Format=JSON".to_owned()),
                Just("Version=2014-05-26".to_owned()),
                Just("AccessKeyId=testid".to_owned()),
                Just("Signature=".to_owned()),
                Just("%".to_owned()),
                Just("%ZZ".to_owned()),
                Just("&&==".to_owned()),
                Just("+".to_owned()),
                ".{0,12}",
            ],
            0..8,
        )
        .prop_map(|parts| parts.join("&"))
    }

    /// A request the fleet's key signs correctly: a known action (or not),
    /// the right version (mostly), and parameters the handlers read, with
    /// values right, wrong or arbitrary.
    #[derive(Debug, Clone)]
    struct Signed {
        action: &'static str,
        right_version: bool,
        params: Vec<(String, String)>,
        style: Style,
    }

    fn signed() -> impl Strategy<Value = Signed> {
        let name = prop_oneof![
            Just("RegionId".to_owned()),
            Just("MaxResults".to_owned()),
            Just("PageSize".to_owned()),
            Just("NextToken".to_owned()),
            Just("ResourceType".to_owned()),
            Just("ResourceId".to_owned()),
            Just("ResourceGroupId".to_owned()),
            Just("InstanceIds".to_owned()),
            Just("Tag.1.Key".to_owned()),
            "[A-Za-z.0-9]{1,12}",
        ];
        let value = prop_oneof![
            Just("cn-hangzhou".to_owned()),
            Just("10".to_owned()),
            Just("instance".to_owned()),
            Just("i-0000".to_owned()),
            Just("rg-dev".to_owned()),
            Just("[\"i-0000\"]".to_owned()),
            ".{0,12}",
        ];
        (
            prop_oneof![
                Just("DescribeInstances"),
                Just("DescribeDisks"),
                Just("DescribeKeyPairs"),
                Just("JoinResourceGroup"),
                Just("ListResourceGroups"),
                Just("GetResourceGroup"),
                Just("DescribeNothing"),
            ],
            proptest::bool::weighted(0.9),
            proptest::collection::vec((name, value), 0..4),
            prop_oneof![
                Just(Style::Get),
                Just(Style::PostQuery),
                Just(Style::PostForm)
            ],
        )
            .prop_map(|(action, right_version, params, style)| Signed {
                action,
                right_version,
                params,
                style,
            })
    }

    /// The method, query, content type and body of a signed request.
    fn signed_parts(request: &Signed) -> (&'static str, String, Option<String>, Vec<u8>) {
        let version = match (
            request.right_version,
            crate::emulator::api::version_of(request.action),
        ) {
            (true, Some(version)) => version,
            _ => "2000-01-01",
        };
        let mut extra: Vec<(&str, &str)> = vec![("Format", "JSON"), ("RegionId", REGION)];
        extra.extend(request.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        // The fleet's own key, and the parameters authentication needs last,
        // so that no generated one replaces them.
        let mut params: BTreeMap<String, String> = extra
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        params.extend(common(request.action, version, NO_PARAMS));
        let method = match request.style {
            Style::Get => "GET",
            Style::PostQuery | Style::PostForm => "POST",
        };
        let encoded = sign_and_encode(method, params);
        match request.style {
            Style::PostForm => (
                method,
                String::new(),
                Some("application/x-www-form-urlencoded".into()),
                encoded.into_bytes(),
            ),
            _ => (method, encoded, None, Vec::new()),
        }
    }

    /// An unsigned request of mangled pieces, or (about half the time) a
    /// signed one, with one arbitrary header more.
    #[derive(Debug, Clone)]
    enum Shape {
        Noise {
            method: &'static str,
            query: String,
            content_type: String,
            body: Vec<u8>,
        },
        Signed(Signed),
    }

    fn request() -> impl Strategy<Value = (Shape, (String, String))> {
        let noise = (
            prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE")],
            noise(),
            prop_oneof![
                Just("application/x-www-form-urlencoded".to_owned()),
                Just("application/json".to_owned()),
                ".{0,20}",
            ],
            prop_oneof![
                noise().prop_map(String::into_bytes),
                proptest::collection::vec(any::<u8>(), 0..64),
            ],
        )
            .prop_map(|(method, query, content_type, body)| Shape::Noise {
                method,
                query,
                content_type,
                body,
            });
        (
            prop_oneof![noise, signed().prop_map(Shape::Signed)],
            ("[A-Za-z-]{1,20}", ".{0,40}"),
        )
    }

    /// Every request gets a well-formed answer; every signed one gets past
    /// authentication; and enough reach the handlers and succeed that the
    /// property covers them.
    #[test]
    fn every_request_gets_a_well_formed_answer() {
        let defaults = Config::default();
        let mut runner = TestRunner::new(Config {
            // Enough cases for the shares below to mean something.
            cases: defaults.cases.max(64),
            source_file: Some(file!()),
            ..defaults
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (total, past_authentication, succeeded) = (Cell::new(0), Cell::new(0), Cell::new(0));
        let result = runner.run(&request(), |(shape, header)| {
            let (method, query, content_type, body) = match &shape {
                Shape::Noise {
                    method,
                    query,
                    content_type,
                    body,
                } => (
                    *method,
                    query.replace(' ', "%20").replace('#', "%23"),
                    Some(content_type.clone()),
                    body.clone(),
                ),
                Shape::Signed(signed) => signed_parts(signed),
            };
            let service = Emulator::service(fleet(1), Settings::default()).unwrap();
            let mut request = axum::http::Request::builder().method(method);
            request = match axum::http::Uri::try_from(format!("/?{query}")) {
                Ok(uri) => request.uri(uri),
                Err(_) => request.uri("/"),
            };
            if let Some(Ok(value)) = content_type
                .as_deref()
                .map(axum::http::HeaderValue::from_str)
            {
                request = request.header("content-type", value);
            }
            if let (Ok(name), Ok(value)) = (
                axum::http::HeaderName::from_bytes(header.0.as_bytes()),
                axum::http::HeaderValue::from_str(&header.1),
            ) {
                request = request.header(name, value);
            }
            let request = request.body(axum::body::Body::from(body)).unwrap();
            let (status, text) = runtime.block_on(async {
                let response = service.oneshot(request).await.unwrap();
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                (status, String::from_utf8(bytes.to_vec()).unwrap())
            });
            prop_assert!((200..600).contains(&status));
            let well_formed = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(json) => json.get("RequestId").is_some(),
                Err(_) => text.starts_with("<?xml") && text.contains("<RequestId>"),
            };
            prop_assert!(well_formed, "{status}: {text}");

            total.set(total.get() + 1);
            if let Shape::Signed(signed) = &shape {
                let code = code_of(&text);
                prop_assert!(
                    status == 200 || !AUTHENTICATION_CODES.contains(&code.as_str()),
                    "a correctly signed request was refused: {signed:?}\n{status}: {text}"
                );
                past_authentication.set(past_authentication.get() + 1);
                if status == 200 {
                    succeeded.set(succeeded.get() + 1);
                }
            }
            Ok(())
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
        let (total, past, succeeded) = (total.get(), past_authentication.get(), succeeded.get());
        assert!(
            past * 4 >= total && succeeded * 10 >= total,
            "of {total} requests, {past} got past authentication and {succeeded} succeeded"
        );
    }
}

#[tokio::test]
async fn it_serves_loopback_addresses_only() {
    let result = Emulator::start(fleet(1), Settings::default(), "0.0.0.0:0".parse().unwrap()).await;
    assert!(matches!(result, Err(super::EmulatorError::NotLoopback(_))));
}

#[tokio::test]
async fn a_seed_makes_faults_repeatable() {
    let outcomes = |seed| async move {
        let settings = Settings {
            fault_rate: 0.5,
            seed: Some(seed),
            ..Settings::default()
        };
        let emulator = start(fleet(1), settings).await;
        let client = client(&emulator);
        let mut seen = Vec::new();
        for _ in 0..30 {
            let result = client
                .call::<serde_json::Value>(&Call::new(
                    Service::Ecs,
                    Some(REGION),
                    "DescribeDisks",
                    NO_PARAMS,
                ))
                .await
                .result;
            seen.push(result.map(|_| "ok".to_owned()).unwrap_or_else(|e| e.code()));
        }
        seen
    };
    let first = outcomes(11).await;
    assert_eq!(first, outcomes(11).await, "the same seed, the same faults");
    assert_ne!(first, outcomes(12).await, "another seed, other faults");
}
