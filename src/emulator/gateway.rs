//! What the real RPC gateway does before an action runs, and how it answers:
//! decoding GET and POST requests, finding the account a request's key
//! belongs to, checking common parameters, key,
//! timestamp, nonce, signature and STS token in the gateway's order, and
//! encoding answers and errors as JSON or XML.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::fleet::AccessKey;
use super::state::Account;
use crate::api::ram::AccessDeniedDetail;
use crate::api::sign;

/// A request's parameters, query and form body merged.
pub type Params = BTreeMap<String, String>;

/// Parameters from pairs, for tests.
#[cfg(test)]
pub fn params_of(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An error answer: HTTP status, code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Why RAM refused, for `Forbidden.RAM`.
    pub access_denied: Option<Box<AccessDeniedDetail>>,
    /// Sent as `x-acs-retry-after` (milliseconds) when set.
    pub retry_after_ms: Option<u64>,
}

impl Failure {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code: code.to_owned(),
            message: message.into(),
            access_denied: None,
            retry_after_ms: None,
        }
    }

    pub fn missing(name: &str) -> Failure {
        Failure::new(
            400,
            "MissingParameter",
            format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
        )
    }

    pub fn invalid(name: &str, why: &str) -> Failure {
        Failure::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is not valid: {why}"),
        )
    }
}

/// The answer's encoding: `Format=JSON`, or XML (the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn of(params: &Params) -> Format {
        match params.get("Format").map(|f| f.to_ascii_uppercase()) {
            Some(f) if f == "JSON" => Format::Json,
            _ => Format::Xml,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json;charset=utf-8",
            Format::Xml => "text/xml;charset=utf-8",
        }
    }
}

/// Merges the query and an `application/x-www-form-urlencoded` body; in
/// both, `+` means a space. A body of any other type is ignored, as the
/// gateway does.
pub fn decode(query: Option<&str>, content_type: Option<&str>, body: &[u8]) -> Params {
    let mut params = Params::new();
    if let Some(query) = query {
        params.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
    }
    let is_form = content_type.is_some_and(|t| {
        t.split(';').next().is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    if is_form {
        params.extend(form_urlencoded::parse(body).into_owned());
    }
    params
}

/// How long a timestamp stays valid, either way, and a nonce stays used.
pub const CLOCK_WINDOW_SECS: i64 = 15 * 60;

/// Nonces seen within the window, and when.
#[derive(Default)]
pub struct NonceLog {
    seen: HashMap<String, DateTime<Utc>>,
    last_sweep: Option<DateTime<Utc>>,
}

impl NonceLog {
    pub(super) fn was_used(&self, nonce: &str) -> bool {
        self.seen.contains_key(nonce)
    }

    pub(super) fn record(&mut self, nonce: &str, now: DateTime<Utc>) {
        self.seen.insert(nonce.to_owned(), now);
        // Forget nonces older than the window once a minute: their
        // timestamps would be refused anyway.
        if self.last_sweep.is_none_or(|t| (now - t).num_seconds() > 60) {
            self.seen
                .retain(|_, at| (now - *at).num_seconds() <= 2 * CLOCK_WINDOW_SECS);
            self.last_sweep = Some(now);
        }
    }
}

const COMMON: [&str; 7] = [
    "Action",
    "Version",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
];

/// The codes [`authenticate`] refuses a request with, besides
/// `MissingParameter` and `InvalidParameter`: what a correctly signed
/// request never gets, as the emulator's fuzz and property tests check.
pub const AUTHENTICATION_CODES: [&str; 8] = [
    "InvalidAccessKeyId.NotFound",
    "InvalidTimeStamp.Format",
    "InvalidTimeStamp.Expired",
    "SignatureNonceUsed",
    "SignatureDoesNotMatch",
    "MissingSecurityToken",
    "InvalidSecurityToken.MismatchWithAccessKey",
    "IncompleteSignature",
];

/// A request as it arrived, for the checks that need more than its
/// parameters (ACS3 signs headers and the body).
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: axum::body::Bytes,
}

impl Received {
    fn content_type(&self) -> Option<&str> {
        self.headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

/// A request's parameters, whichever signature it carries: ACS3 requests
/// (see [`super::acs3`]) name their action in headers, RPC v1 ones in the
/// query or form body.
pub fn decode_received(received: &Received) -> Params {
    if super::acs3::is_acs3(received) {
        super::acs3::decode(received)
    } else {
        decode(
            received.query.as_deref(),
            received.content_type(),
            &received.body,
        )
    }
}

/// The access key id a request says it is signed with, before any check:
/// `AccessKeyId` under RPC v1, `Credential=` of the `Authorization` header
/// under ACS3. It picks the account whose keys then check the signature.
pub fn claimed_key_id(received: &Received, params: &Params) -> Option<String> {
    if super::acs3::is_acs3(received) {
        let header = received.headers.get("authorization")?.to_str().ok()?;
        crate::api::sign_v3::Authorization::parse(header).map(|a| a.access_key_id)
    } else {
        params.get("AccessKeyId").cloned()
    }
}

/// Checks a request's signature, ACS3 or RPC v1, and returns the access
/// key id it was signed with.
pub fn authenticate_received(
    account: &Account,
    nonces: &mut NonceLog,
    received: &Received,
    params: &Params,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    if super::acs3::is_acs3(received) {
        super::acs3::authenticate(account, nonces, received, now)
    } else {
        authenticate(account, nonces, &received.method, params, now)?;
        Ok(params["AccessKeyId"].clone())
    }
}

/// Checks a signed request in the gateway's order. On success the nonce is
/// recorded, so the same request cannot be replayed.
pub fn authenticate(
    account: &Account,
    nonces: &mut NonceLog,
    method: &str,
    params: &Params,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    for name in COMMON.iter().chain(std::iter::once(&"Timestamp")) {
        if params.get(*name).is_none_or(|v| v.is_empty()) {
            return Err(Failure::missing(name));
        }
    }
    if params["SignatureMethod"] != "HMAC-SHA1" {
        return Err(Failure::invalid(
            "SignatureMethod",
            "only HMAC-SHA1 is supported",
        ));
    }
    if params["SignatureVersion"] != "1.0" {
        return Err(Failure::invalid(
            "SignatureVersion",
            "only 1.0 is supported",
        ));
    }
    let key = key_of(account, &params["AccessKeyId"])?;
    check_timestamp(&params["Timestamp"], now)?;
    let nonce = &params["SignatureNonce"];
    check_nonce(nonces, nonce)?;
    let string_to_sign = sign::string_to_sign(
        method,
        &sign::canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    );
    if sign::signature_of(&key.secret, &string_to_sign) != params["Signature"] {
        return Err(Failure::new(
            400,
            "SignatureDoesNotMatch",
            format!("Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"),
        ));
    }
    check_security_token(
        account,
        key,
        params.get("SecurityToken").map(String::as_str),
        now,
    )?;
    nonces.record(nonce, now);
    Ok(())
}

/// The key a request names, or `InvalidAccessKeyId.NotFound`.
pub(super) fn key_of<'a>(account: &'a Account, id: &str) -> Result<&'a AccessKey, Failure> {
    account.key(id).ok_or_else(|| {
        Failure::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    })
}

/// A request's time (`2024-01-02T03:04:05Z`, UTC) must be within
/// [`CLOCK_WINDOW_SECS`] of the server's.
pub(super) fn check_timestamp(text: &str, now: DateTime<Utc>) -> Result<(), Failure> {
    let timestamp = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ")
        .map_err(|_| {
            Failure::new(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        })?
        .and_utc();
    if (now - timestamp).num_seconds().abs() > CLOCK_WINDOW_SECS {
        return Err(Failure::new(
            400,
            "InvalidTimeStamp.Expired",
            format!(
                "Specified time stamp or date value is expired. The request timestamp is {text}, the server time is {}.",
                now.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_nonce(nonces: &NonceLog, nonce: &str) -> Result<(), Failure> {
    if nonces.was_used(nonce) {
        return Err(Failure::new(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(())
}

/// An STS key is valid only with its token, and only until it expires.
pub(super) fn check_security_token(
    account: &Account,
    key: &AccessKey,
    given: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    match (&key.security_token, given) {
        (None, _) => {}
        (Some(_), None) => {
            return Err(Failure::new(
                400,
                "MissingSecurityToken",
                "SecurityToken is mandatory for this access key.",
            ))
        }
        (Some(expected), Some(given)) if expected != given => {
            return Err(Failure::new(
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "Specified SecurityToken mismatch with the AccessKey.",
            ))
        }
        (Some(_), Some(_)) => {}
    }
    // 400 as the gateway errors table has it; other product docs say 403
    // (docs/sources/credentials.md §7, "Errors": the sources disagree).
    if account
        .expiry(&key.id)
        .is_some_and(|expires| now >= expires)
    {
        return Err(Failure::new(
            400,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        ));
    }
    Ok(())
}

/// A request id in the service's form, `8-4-4-4-12` upper-case hex.
pub fn request_id(random: u128) -> String {
    let hex = format!("{random:032X}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The body of a success (`<ActionResponse>` in XML) or an error
/// (`<Error>`), with its request id.
pub fn encode(
    format: Format,
    action: &str,
    result: &Result<Value, Failure>,
    request_id: &str,
) -> String {
    let body = match result {
        Ok(Value::Object(fields)) => {
            let mut fields = fields.clone();
            fields.insert("RequestId".into(), Value::String(request_id.to_owned()));
            Value::Object(fields)
        }
        Ok(_) => serde_json::json!({ "RequestId": request_id }),
        Err(failure) => {
            let mut body = serde_json::json!({
                "RequestId": request_id,
                "HostId": host_id(action),
                "Code": failure.code,
                "Message": failure.message,
                "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}", failure.code),
            });
            if let Some(detail) = &failure.access_denied {
                body["AccessDeniedDetail"] = serde_json::to_value(detail).unwrap_or_default();
            }
            body
        }
    };
    match format {
        Format::Json => body.to_string(),
        Format::Xml => {
            let root = if result.is_ok() {
                format!(
                    "{}Response",
                    if action.is_empty() { "Unknown" } else { action }
                )
            } else {
                "Error".to_owned()
            };
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            write_xml(&mut out, &root, &body);
            out
        }
    }
}

/// An error's `HostId`: the central endpoint of the action's service, as
/// STS errors show `sts.aliyuncs.com`
/// (tests/fixtures/api/sts_error_generic.json); ECS for an unknown action.
fn host_id(action: &str) -> String {
    let service = super::api::service_of(action).unwrap_or(crate::api::Service::Ecs);
    crate::api::endpoints::host(service, None)
}

/// Writes `value` as XML the way the service does: a list repeats its
/// parent's element once per item.
fn write_xml(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| write_xml(out, name, item)),
        Value::Object(fields) => {
            let _ = write!(out, "<{name}>");
            for (key, child) in fields {
                write_xml(out, key, child);
            }
            let _ = write!(out, "</{name}>");
        }
        Value::Null => {
            let _ = write!(out, "<{name}/>");
        }
        Value::String(text) => {
            let _ = write!(out, "<{name}>{}</{name}>", escape_xml(text));
        }
        other => {
            let _ = write!(out, "<{name}>{other}</{name}>");
        }
    }
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_merge_with_the_query_and_plus_is_space() {
        let params = decode(
            Some("Action=X&A=1"),
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"B=a+b&C=%2A",
        );
        assert_eq!(params["Action"], "X");
        assert_eq!(params["B"], "a b");
        assert_eq!(params["C"], "*");
        let ignored = decode(None, Some("application/json"), b"B=1");
        assert!(ignored.is_empty());
    }

    #[test]
    fn xml_repeats_list_elements() {
        let body = serde_json::json!({"Disks": {"Disk": [{"DiskId": "d-1"}, {"DiskId": "d-<2>"}]}});
        let xml = encode(Format::Xml, "DescribeDisks", &Ok(body), "R");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeDisksResponse><Disks><Disk><DiskId>d-1</DiskId></Disk><Disk><DiskId>d-&lt;2&gt;</DiskId></Disk></Disks><RequestId>R</RequestId></DescribeDisksResponse>"
        );
        let error = encode(Format::Xml, "X", &Err(Failure::missing("RegionId")), "R");
        assert!(error.contains("<Error>") && error.contains("<Code>MissingParameter</Code>"));
    }
}
