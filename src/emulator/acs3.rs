//! The gateway's side of signature V3 (ACS3-HMAC-SHA256), which the current
//! official SDKs send by default: the action and version in `x-acs-action`
//! and `x-acs-version`, parameters in the query or a form or JSON body, and
//! an `Authorization` header over the headers the client lists. The
//! canonicalisation is [`crate::api::sign_v3`]; what is checked, and in
//! which order, is here.
//!
//! Sources (docs/sources/signing-quotas.md §1): the V3 document
//! (<https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature>)
//! and `alibabacloud_tea_openapi==0.4.6` `Client.do_request`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::gateway::{self, Failure, NonceLog, Params, Received};
use super::state::Account;
use crate::api::sign_v3::{self, Authorization};

/// Whether a request is signed with V3. The gateway decides by the
/// `Authorization` header's scheme (`ACS3-…`), not by `x-acs-action`: the
/// Python SDK core (`aliyun-python-sdk-core==2.16.1`,
/// `aliyunsdkcore/request.py` `RpcRequest`) and the Tea SDK with
/// `signature_algorithm='v2'` (`alibabacloud_tea_openapi==0.4.6`
/// `client.py` `do_rpc_request`) send `x-acs-action` beside an RPC v1
/// signature in the parameters. A request naming its action only in
/// `x-acs-action`, with neither an `Authorization` header nor a
/// `Signature` parameter, is taken as a V3 request whose signature is
/// missing (our choice: no source says how the gateway words that case).
pub fn is_acs3(received: &Received) -> bool {
    if let Some(authorization) = header(&received.headers, "authorization") {
        return authorization.starts_with("ACS3-");
    }
    received.headers.contains_key("x-acs-action")
        && !gateway::decode(
            received.query.as_deref(),
            header(&received.headers, "content-type"),
            &received.body,
        )
        .contains_key("Signature")
}

fn header<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The parameters of a V3 request: the query's, a form body's
/// (`application/x-www-form-urlencoded`) or a JSON body's (flattened as the
/// SDK flattens form bodies: `Tag.1.Key`), and `Action`/`Version` from
/// their headers. V3 answers are JSON, as the SDK asks with
/// `accept: application/json`.
pub fn decode(received: &Received) -> Params {
    let content_type = header(&received.headers, "content-type").unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let mut params = if media == "application/json" {
        let mut params = gateway::decode(received.query.as_deref(), None, &[]);
        if let Ok(body) = serde_json::from_slice::<Value>(&received.body) {
            flatten("", &body, &mut params);
        }
        params
    } else {
        gateway::decode(
            received.query.as_deref(),
            Some(content_type),
            &received.body,
        )
    };
    for (name, param) in [("x-acs-action", "Action"), ("x-acs-version", "Version")] {
        if let Some(value) = header(&received.headers, name) {
            params.insert(param.to_owned(), value.to_owned());
        }
    }
    params.insert("Format".to_owned(), "JSON".to_owned());
    params
}

/// `{"Tag":[{"Key":"a"}]}` becomes `Tag.1.Key=a`: lists count from 1,
/// like `Utils._object_handler` in `alibabacloud_tea_openapi==0.4.6`
/// (utils.py l.215).
fn flatten(prefix: &str, value: &Value, out: &mut Params) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match value {
        Value::Object(fields) => fields
            .iter()
            .for_each(|(name, child)| flatten(&join(name), child, out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(n, child)| flatten(&join(&(n + 1).to_string()), child, out)),
        Value::Null => {}
        Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// `IncompleteSignature`, HTTP 400: "The request signature does not conform
/// to Aliyun standards." (V3 document, "签名失败常见报错"; ECS error tables
/// give 400). The emulator adds what is wrong.
fn incomplete(why: &str) -> Failure {
    Failure::new(
        400,
        "IncompleteSignature",
        format!("The request signature does not conform to Aliyun standards. {why}"),
    )
}

/// `SignatureDoesNotMatch`, HTTP 400: "Specified signature does not match
/// our calculation.", followed by the server's string to sign as the real
/// V3 answer shows it (docs/sources/signing-quotas.md §1.4).
fn mismatch(string_to_sign: &str) -> Failure {
    Failure::new(
        400,
        "SignatureDoesNotMatch",
        format!(
            "Specified signature does not match our calculation. server StringToSign is [{string_to_sign}]"
        ),
    )
}

/// Checks a V3 request in the gateway's order and returns the access key id
/// it was signed with. On success the nonce is recorded.
pub fn authenticate(
    account: &Account,
    nonces: &mut NonceLog,
    received: &Received,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    let headers = &received.headers;
    let authorization = header(headers, "authorization")
        .ok_or_else(|| incomplete("The Authorization header is missing."))?;
    let authorization = Authorization::parse(authorization).ok_or_else(|| {
        incomplete(
            "Authorization must be `ACS3-HMAC-SHA256 (or ACS3-HMAC-SM3) Credential=…,SignedHeaders=…,Signature=…`.",
        )
    })?;
    let sent: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    // The document: the x-acs-* headers, host and content-type are signed.
    // Beyond them the client chooses (the SDK signs every header it sets),
    // so the list it sends is the one verified.
    for (name, _) in &sent {
        let must_sign = name.starts_with("x-acs-") || matches!(*name, "host" | "content-type");
        if must_sign && !authorization.signed_headers.iter().any(|s| s == name) {
            return Err(incomplete(&format!("The header {name} must be signed.")));
        }
    }
    let required = |name: &str| {
        header(headers, name).ok_or_else(|| incomplete(&format!("The header {name} is missing.")))
    };
    // The V3 document's table of headers marks x-acs-action and
    // x-acs-version "必须" (required): the action is never taken from the
    // query under V3.
    required("x-acs-action")?;
    required("x-acs-version")?;
    let date = required("x-acs-date")?;
    let nonce = required("x-acs-signature-nonce")?;
    let declared_hash = required("x-acs-content-sha256")?;

    let key = gateway::key_of(account, &authorization.access_key_id)?;
    gateway::check_timestamp(date, now)?;
    gateway::check_nonce(nonces, nonce)?;

    let query: Vec<(String, String)> = received
        .query
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // The payload hash is the body's, whatever the header says: a body
    // changed on the way fails as a signature that does not match.
    let algorithm = authorization.algorithm;
    let hashed_payload = algorithm.hash_hex(&received.body);
    let request = sign_v3::Request {
        method: &received.method,
        path: &received.path,
        query: &query,
        headers: &sent,
        hashed_payload: &hashed_payload,
    };
    let canonical = request
        .canonical(&authorization.signed_headers)
        .map_err(|name| incomplete(&format!("The signed header {name} is missing.")))?;
    let string_to_sign = algorithm.string_to_sign(&canonical);
    if declared_hash != hashed_payload
        || algorithm.signature_of(&key.secret, &string_to_sign) != authorization.signature
    {
        return Err(mismatch(&string_to_sign));
    }
    gateway::check_security_token(account, key, header(headers, "x-acs-security-token"), now)?;
    nonces.record(nonce, now);
    Ok(authorization.access_key_id)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderName, HeaderValue};

    use super::*;
    use crate::emulator::fleet::{AccessKey, Fleet, FleetGroup};

    fn account() -> Account {
        let key = |id: &str, secret: &str, token: Option<&str>| AccessKey {
            id: id.into(),
            secret: secret.into(),
            security_token: token.map(str::to_owned),
            denied_actions: Vec::new(),
        };
        Account::from_fleet(Fleet {
            account_id: "1".into(),
            access_keys: vec![
                key("testid", "testsecret", None),
                key("YourAccessKeyId", "YourAccessKeySecret", None),
            ],
            resource_groups: vec![FleetGroup {
                id: "rg-d".into(),
                name: "default".into(),
                default: true,
                display_name: None,
                status: None,
            }],
            resources: Vec::new(),
            oidc_tokens: Vec::new(),
            auto_grouping: None,
            accounts: Vec::new(),
            folders: Vec::new(),
        })
    }

    /// A request exactly as the official SDK sent it: a vector of
    /// tests/fixtures/api/acs3_vectors.json.
    fn vector_request(name: &str) -> (Received, DateTime<Utc>) {
        let vectors: Vec<Value> =
            serde_json::from_str(include_str!("../../tests/fixtures/api/acs3_vectors.json"))
                .unwrap();
        let vector = vectors.into_iter().find(|v| v["name"] == name).unwrap();
        let mut headers = HeaderMap::new();
        for (name, value) in vector["headers"].as_object().unwrap() {
            headers.append(
                HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).unwrap(),
                HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
            );
        }
        // The document's examples list the Authorization beside the headers.
        if !headers.contains_key("authorization") {
            let value = vector["authorization"].as_str().unwrap();
            headers.insert("authorization", HeaderValue::from_str(value).unwrap());
        }
        let query = vector["query"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    crate::api::sign::percent_encode(k),
                    crate::api::sign::percent_encode(v.as_str().unwrap())
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let date = headers["x-acs-date"].to_str().unwrap().to_owned();
        let now = chrono::NaiveDateTime::parse_from_str(&date, "%Y-%m-%dT%H:%M:%SZ")
            .unwrap()
            .and_utc();
        (
            Received {
                method: vector["method"].as_str().unwrap().into(),
                path: "/".into(),
                query: Some(query),
                headers,
                body: vector["body"].as_str().unwrap().to_owned().into(),
            },
            now,
        )
    }

    fn code(result: Result<String, Failure>) -> String {
        result.map_or_else(|f| f.code, |id| format!("ok:{id}"))
    }

    #[test]
    fn every_request_the_official_sdk_signed_is_accepted() {
        for name in [
            "a_get_describe_instances_json_array",
            "b_post_join_resource_group_query_empty_body",
            "c_post_form_body_space_unicode",
            "e_post_describe_instances_sdk_default_tag_flatten",
            "doc_example_runinstances",
            "doc_example_header_table",
        ] {
            let (received, now) = vector_request(name);
            let result = authenticate(&account(), &mut NonceLog::default(), &received, now);
            assert!(result.is_ok(), "{name}: {result:?}");
        }
        let (received, _) = vector_request("c_post_form_body_space_unicode");
        let params = decode(&received);
        assert_eq!(params["Action"], "ModifyInstanceAttribute");
        assert_eq!(params["Version"], "2014-05-26");
        assert_eq!(params["Description"], "hello world 中文 a*b~c+d");
        assert_eq!(params["RegionId"], "cn-hangzhou");
    }

    #[test]
    fn sts_requests_need_their_signed_token() {
        let (received, now) = vector_request("d_post_describe_regions_sts_token");
        let mut sts = account();
        sts.keys.get_mut("testid").unwrap().security_token = Some("test-sts-token".into());
        assert_eq!(
            code(authenticate(&sts, &mut NonceLog::default(), &received, now)),
            "ok:testid"
        );
        sts.keys.get_mut("testid").unwrap().security_token = Some("another-token".into());
        assert_eq!(
            code(authenticate(&sts, &mut NonceLog::default(), &received, now)),
            "InvalidSecurityToken.MismatchWithAccessKey"
        );
    }

    #[test]
    fn the_gateway_checks_in_order() {
        let (received, now) = vector_request("b_post_join_resource_group_query_empty_body");
        let check = |change: &dyn Fn(&mut Received), now: DateTime<Utc>| {
            let mut request = Received {
                method: received.method.clone(),
                path: received.path.clone(),
                query: received.query.clone(),
                headers: received.headers.clone(),
                body: received.body.clone(),
            };
            change(&mut request);
            code(authenticate(
                &account(),
                &mut NonceLog::default(),
                &request,
                now,
            ))
        };
        let set = |name: &'static str, value: &'static str| {
            move |r: &mut Received| {
                r.headers.insert(name, HeaderValue::from_static(value));
            }
        };
        assert_eq!(check(&|_| {}, now), "ok:testid");
        assert_eq!(
            check(
                &|r| {
                    r.headers.remove("authorization");
                },
                now
            ),
            "IncompleteSignature"
        );
        assert_eq!(
            check(
                &set("authorization", "ACS3-HMAC-SHA256 Credential=testid"),
                now
            ),
            "IncompleteSignature"
        );
        // An x-acs-* header that is not in the signed list.
        assert_eq!(
            check(&set("x-acs-security-token", "t"), now),
            "IncompleteSignature"
        );
        assert_eq!(
            check(
                &|r| {
                    r.headers.remove("x-acs-signature-nonce");
                },
                now
            ),
            "IncompleteSignature"
        );
        let unknown = received.headers["authorization"]
            .to_str()
            .unwrap()
            .replace("Credential=testid", "Credential=nobody");
        assert_eq!(
            check(
                &|r| {
                    r.headers
                        .insert("authorization", HeaderValue::from_str(&unknown).unwrap());
                },
                now
            ),
            "InvalidAccessKeyId.NotFound"
        );
        let later = now + chrono::Duration::minutes(16);
        assert_eq!(check(&|_| {}, later), "InvalidTimeStamp.Expired");
        assert_eq!(
            check(&|_| {}, now + chrono::Duration::minutes(14)),
            "ok:testid"
        );
        assert_eq!(
            check(&set("x-acs-date", "2024-01-02 03:04:05"), now),
            "InvalidTimeStamp.Format"
        );
        // A parameter or the body changed after signing.
        assert_eq!(
            check(
                &|r| r.query = Some(r.query.clone().unwrap().replace("i-bp1abc", "i-bp1xyz")),
                now
            ),
            "SignatureDoesNotMatch"
        );
        assert_eq!(
            check(&|r| r.body = "ResourceId=i-other".into(), now),
            "SignatureDoesNotMatch"
        );
        assert_eq!(
            check(&|r| r.method = "GET".into(), now),
            "SignatureDoesNotMatch"
        );
    }

    #[test]
    fn a_nonce_is_used_once_and_a_wrong_secret_shows_the_string_to_sign() {
        let (received, now) = vector_request("a_get_describe_instances_json_array");
        let mut nonces = NonceLog::default();
        assert!(authenticate(&account(), &mut nonces, &received, now).is_ok());
        assert_eq!(
            code(authenticate(&account(), &mut nonces, &received, now)),
            "SignatureNonceUsed"
        );
        let mut other = account();
        other.keys.get_mut("testid").unwrap().secret = "wrong".into();
        let failure = authenticate(&other, &mut NonceLog::default(), &received, now).unwrap_err();
        assert_eq!(
            (failure.status, failure.code.as_str()),
            (400, "SignatureDoesNotMatch")
        );
        assert!(
            failure.message.ends_with(
                "[ACS3-HMAC-SHA256\n52260215efcd6e171277b65015242d449c5f9a16ef43e707f1f2edf919bbf9fd]"
            ),
            "{}",
            failure.message
        );
    }

    #[test]
    fn json_bodies_are_flattened_like_form_bodies() {
        let mut headers = HeaderMap::new();
        headers.insert("x-acs-action", HeaderValue::from_static("DescribeDisks"));
        headers.insert("x-acs-version", HeaderValue::from_static("2014-05-26"));
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        let received = Received {
            method: "POST".into(),
            path: "/".into(),
            query: Some("RegionId=cn-hangzhou".into()),
            headers,
            body: r#"{"MaxResults":500,"Tag":[{"Key":"team","Value":"pay"}],"DryRun":true}"#.into(),
        };
        let params = decode(&received);
        assert_eq!(params["RegionId"], "cn-hangzhou");
        assert_eq!(params["MaxResults"], "500");
        assert_eq!(params["Tag.1.Key"], "team");
        assert_eq!(params["Tag.1.Value"], "pay");
        assert_eq!(params["DryRun"], "true");
        assert_eq!(params["Action"], "DescribeDisks");
        assert!(is_acs3(&received));
    }
}
