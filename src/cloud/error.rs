//! What a failed call says: [`ApiError`] (an error the API answered with,
//! decoded from its body, with RAM denials in one line that names the
//! action) and [`CloudError`] (every way a call can fail), with their
//! classification (transient, throttling, permission).

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::credentials::CredentialsError;
use super::redact::redact;
use crate::api::ram::{self, AccessDeniedDetail};
use crate::api::Service;

/// An error the API answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// For a RAM denial: what was denied to whom, in place of the message.
    pub access_denied: Option<Box<AccessDeniedDetail>>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.access_denied {
            Some(denied) => write!(
                f,
                "{}: {} is not allowed {}; {} (HTTP {}",
                self.code,
                describe_principal(denied),
                denied.auth_action,
                grant_hint([denied.auth_action.as_str()]),
                self.status
            )?,
            None if self.code == SIGNATURE_MISMATCH => write!(
                f,
                "{}: {}; {} (HTTP {}",
                self.code,
                self.message.trim_end_matches('.'),
                SIGNATURE_HINT,
                self.status
            )?,
            None => write!(f, "{}: {} (HTTP {}", self.code, self.message, self.status)?,
        }
        if let Some(id) = &self.request_id {
            write!(f, ", request id {id}")?;
        }
        f.write_str(")")
    }
}

/// The code of a request whose signature the server computed otherwise
/// (HTTP 400; docs/sources/signing-quotas.md §1.4).
pub const SIGNATURE_MISMATCH: &str = "SignatureDoesNotMatch";

/// What to do about a signature the server computed otherwise. With a
/// request signed as regroup signs it (conformance-tested), that is a
/// secret that does not belong to the key id: `aliyunsdkcore` reports the
/// same answer as `InvalidAccessKeySecret` when the server's string to sign
/// is its own (docs/sources/conformance.md §2).
const SIGNATURE_HINT: &str = "hint: check the AccessKey secret, which does not match the AccessKey ID (`regroup whoami -v` says where the credentials come from)";

/// A `SignatureDoesNotMatch` message without the server's string to sign,
/// which it appends (V1: `… server string to sign is:<string>`; V3:
/// `… server StringToSign is [<string>]`; docs/sources/signing-quotas.md
/// §1.4): at the default verbosity it is noise that may hold the request's
/// token. It is logged at `-v`, redacted, for whoever debugs signing.
fn without_string_to_sign(code: &str, message: &str) -> String {
    if code != SIGNATURE_MISMATCH {
        return message.to_owned();
    }
    match message.to_ascii_lowercase().find("server string") {
        Some(at) => {
            tracing::info!("{code}: {}", redact(message[at..].trim()));
            message[..at].trim_end().to_owned()
        }
        None => message.to_owned(),
    }
}

impl ApiError {
    /// Decodes an error body (`{RequestId, HostId, Code, Message}`); a body
    /// that is not one still yields an error that says what came back. The
    /// message is [`redact`]ed: `SignatureDoesNotMatch` echoes the server's
    /// string to sign, which holds the request's `SecurityToken`.
    pub fn from_body(status: u16, body: &str) -> ApiError {
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match field("Code") {
            Some(code) => ApiError {
                status,
                access_denied: parsed
                    .as_ref()
                    .and_then(|v| v.get("AccessDeniedDetail"))
                    .and_then(|d| serde_json::from_value(d.clone()).ok())
                    .map(Box::new),
                message: redact(&without_string_to_sign(
                    &code,
                    &field("Message").unwrap_or_default(),
                )),
                code,
                request_id: field("RequestId"),
            },
            None => ApiError {
                status,
                code: format!("HTTP{status}"),
                message: redact(&body.chars().take(200).collect::<String>()),
                request_id: None,
                access_denied: None,
            },
        }
    }

    /// Whether RAM refused the call. `Forbidden.RAM`, `NoPermission` and
    /// `NotAuthorized` are the denial codes of RAM's troubleshooting page
    /// (<https://alibabacloud.com/help/en/ram/support/how-to-troubleshoot-an-access-denied-error>);
    /// any answer with an `AccessDeniedDetail` is one too.
    pub fn is_permission_denied(&self) -> bool {
        self.access_denied.is_some()
            || matches!(
                self.code.as_str(),
                ram::FORBIDDEN | "NoPermission" | "NotAuthorized"
            )
    }

    /// Makes sure a denial names its action: an answer without
    /// `AccessDeniedDetail.AuthAction` is given the called API's RAM action.
    pub(super) fn name_denied_action(&mut self, service: Service, action: &str) {
        if self.is_permission_denied() {
            let detail = self.access_denied.get_or_insert_with(Default::default);
            if detail.auth_action.is_empty() {
                detail.auth_action = ram::action_name(service, action);
            }
        }
    }

    /// `Throttling`, `Throttling.User`, `Throttling.Api` (the ECS throttling
    /// doc and gateway error tables, docs/sources/signing-quotas.md §5) and
    /// `Rejected.Throttling` (shared/api/NOTES.md's throttling row).
    pub fn is_throttling(&self) -> bool {
        self.code.starts_with("Throttling") || self.code == "Rejected.Throttling"
    }

    /// Whether trying again may succeed: decided by the code first, then by
    /// the HTTP status. `aliyun-python-sdk-core` 2.16.1 retries
    /// `InternalError`, `ServiceUnavailable`, `Throttling` and HTTP
    /// 500/502/503/504 (`retry_config.json`, `retry_condition.py`;
    /// docs/sources/signing-quotas.md §4); regroup also waits out the other
    /// throttling codes, and `EntityExists.AssociatedTransferTasks`, which
    /// the JoinResourceGroup reference documents as "try again later" (400;
    /// docs/sources/resourcemanager-rules.md §2).
    pub fn is_transient(&self) -> bool {
        self.is_throttling()
            || self.is_transfer_task()
            || matches!(self.code.as_str(), "ServiceUnavailable" | "InternalError")
            || matches!(self.status, 500 | 502 | 503 | 504)
    }

    /// An associated transfer task in progress: JoinResourceGroup's
    /// `EntityExists.AssociatedTransferTasks`, and MoveResources' singular
    /// `EntityExists.AssociatedTransferTask` (its error table;
    /// docs/sources/resourcemanager-services.md §2.3).
    pub fn is_transfer_task(&self) -> bool {
        matches!(
            self.code.as_str(),
            "EntityExists.AssociatedTransferTasks" | "EntityExists.AssociatedTransferTask"
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("{action}: {error}")]
    Api {
        action: String,
        #[source]
        error: ApiError,
        /// The server's `x-acs-retry-after`, in milliseconds as
        /// `alibabacloud_tea_openapi` reads it (signing-quotas.md §4).
        retry_after: Option<Duration>,
    },
    #[error("{action}: no response from {endpoint}: {message}")]
    Transport {
        action: String,
        endpoint: String,
        message: String,
        /// No connection was made at all (refused, or timed out connecting).
        connect: bool,
        /// A timeout or a refused connection: the server may be down or
        /// hung, which the circuit breaker counts; a connection dropped
        /// mid-answer is not.
        unreachable: bool,
    },
    #[error("{action}: not sent: {endpoint} stopped answering ({failures} timeouts or refused connections in a row)")]
    CircuitOpen {
        action: String,
        endpoint: String,
        failures: u32,
    },
    #[error("{action}: not sent: the run was interrupted")]
    Interrupted { action: String },
    #[error("{action}: the response is not the JSON expected: {message}")]
    Decode { action: String, message: String },
    /// A listing that must be whole came back short.
    #[error("{action}: {message}")]
    Incomplete { action: String, message: String },
    /// A temporary key expired between its refresh and the server; it has
    /// been dropped, so the next try fetches a new one.
    #[error("{action}: {error}")]
    KeyExpired {
        action: String,
        #[source]
        error: ApiError,
    },
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// RAM refused some reads: every action missing, in one line.
    #[error("{}", describe_missing(.0))]
    PermissionsMissing(Vec<AccessDeniedDetail>),
}

/// What to do about denials of `actions`, said once: the `policy` command
/// that prints them, with `--for history` for ActionTrail's, which the
/// default policy leaves out.
fn grant_hint<'a>(actions: impl IntoIterator<Item = &'a str>) -> String {
    let actions: Vec<&str> = actions.into_iter().collect();
    let what = if actions.len() == 1 { "it" } else { "them" };
    let history = actions.iter().any(|a| a.starts_with("actiontrail:"));
    if history {
        format!("hint: grant {what} in RAM (`regroup policy -f MANIFEST --for history` prints what history and plan --who need)")
    } else {
        format!("hint: grant {what} in RAM (`regroup policy -f MANIFEST` prints every permission regroup needs)")
    }
}

/// `SubUser testid`, or `the caller` when the answer did not say.
fn describe_principal(detail: &AccessDeniedDetail) -> String {
    let who = format!(
        "{} {}",
        detail.auth_principal_type, detail.auth_principal_display_name
    );
    match who.trim() {
        "" => "the caller".to_owned(),
        who => who.to_owned(),
    }
}

/// One line for all the reads RAM refused: the actions (sorted, once
/// each) and the principals they were refused to.
fn describe_missing(denials: &[AccessDeniedDetail]) -> String {
    let actions: std::collections::BTreeSet<&str> =
        denials.iter().map(|d| d.auth_action.as_str()).collect();
    let principals: std::collections::BTreeSet<String> =
        denials.iter().map(describe_principal).collect();
    let one = actions.len() == 1;
    format!(
        "missing RAM permission{} for {}: {}; {}",
        if one { "" } else { "s" },
        principals.into_iter().collect::<Vec<_>>().join(", "),
        actions.iter().copied().collect::<Vec<_>>().join(", "),
        grant_hint(actions)
    )
}

impl CloudError {
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            CloudError::Api { error, .. } | CloudError::KeyExpired { error, .. } => Some(error),
            _ => None,
        }
    }

    /// What RAM refused, when this is a RAM denial.
    pub fn denial(&self) -> Option<&AccessDeniedDetail> {
        self.api_error()
            .filter(|e| e.is_permission_denied())
            .and_then(|e| e.access_denied.as_deref())
    }

    /// The error code for reports: the API's code, or a name for the kind of
    /// failure when there is none.
    pub fn code(&self) -> String {
        match self {
            CloudError::Api { error, .. } | CloudError::KeyExpired { error, .. } => {
                error.code.clone()
            }
            CloudError::Transport { .. } => "Transport".into(),
            CloudError::CircuitOpen { .. } => "CircuitOpen".into(),
            CloudError::Interrupted { .. } => "Interrupted".into(),
            CloudError::Decode { .. } => "Decode".into(),
            CloudError::Incomplete { .. } => "Incomplete".into(),
            CloudError::Credentials(_) => "Credentials".into(),
            CloudError::PermissionsMissing(_) => ram::FORBIDDEN.into(),
        }
    }

    /// Whether a later call may succeed where this one failed; for the
    /// second pass of an apply.
    pub fn is_transient_failure(&self) -> bool {
        self.is_transient()
            || matches!(
                self,
                CloudError::CircuitOpen { .. } | CloudError::Interrupted { .. }
            )
    }

    pub(super) fn is_transient(&self) -> bool {
        match self {
            CloudError::Api { error, .. } => error.is_transient(),
            CloudError::Transport { .. } | CloudError::KeyExpired { .. } => true,
            CloudError::CircuitOpen { .. }
            | CloudError::Interrupted { .. }
            | CloudError::Decode { .. }
            | CloudError::Incomplete { .. }
            | CloudError::Credentials(_)
            | CloudError::PermissionsMissing(_) => false,
        }
    }
}
/// The code of a call signed with a temporary key that has expired (the
/// gateway errors table in docs/sources/credentials.md §7).
pub const EXPIRED_TOKEN: &str = "InvalidSecurityToken.Expired";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_by_code_then_status() {
        let e = api_error;
        assert!(e(400, "Throttling.User").is_transient());
        assert!(e(429, "Rejected.Throttling").is_transient());
        assert!(e(400, "EntityExists.AssociatedTransferTasks").is_transient());
        assert!(e(400, "EntityExists.AssociatedTransferTask").is_transient());
        assert!(e(503, "ServiceUnavailable").is_transient());
        assert!(e(502, "Whatever").is_transient());
        assert!(!e(404, "InvalidResourceId.NotFound").is_transient());
        assert!(!e(400, "SignatureDoesNotMatch").is_transient());
        assert!(e(500, "AnythingElse").is_transient());
    }

    #[test]
    fn error_bodies_decode_and_non_json_still_says_something() {
        let e = ApiError::from_body(
            404,
            r#"{"RequestId":"R1","HostId":"h","Code":"InvalidResourceId.NotFound","Message":"gone"}"#,
        );
        assert_eq!(e.code, "InvalidResourceId.NotFound");
        assert_eq!(e.request_id.as_deref(), Some("R1"));
        assert_eq!(
            e.to_string(),
            "InvalidResourceId.NotFound: gone (HTTP 404, request id R1)"
        );
        let e = ApiError::from_body(502, "<html>bad gateway</html>");
        assert_eq!(e.code, "HTTP502");
        assert!(e.is_transient());
    }

    /// The announcement's example answer (docs/sources/ecs-models.md §5).
    #[test]
    fn a_ram_denial_decodes_into_one_line_without_the_message() {
        let body =
            include_str!("../../tests/fixtures/api/Error_Forbidden.RAM_DescribeInstances.json");
        let error = ApiError::from_body(403, body);
        assert!(error.is_permission_denied());
        let detail = error.access_denied.as_deref().expect("the detail is read");
        assert_eq!(detail.auth_action, "ecs:DescribeInstances");
        assert_eq!(detail.auth_principal_display_name, "2***************9");
        let line = error.to_string();
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(
            line.contains("SubUser 2***************9 is not allowed ecs:DescribeInstances"),
            "{line}"
        );
        assert!(line.contains("grant it"), "{line}");
        assert!(!line.contains("User not authorized"), "{line}");

        // A denial without the detail still names the API's action.
        let mut bare = ApiError::from_body(403, r#"{"Code":"Forbidden.RAM","Message":"m"}"#);
        bare.name_denied_action(Service::Ecs, "DescribeDisks");
        assert_eq!(
            bare.access_denied.map(|d| d.auth_action),
            Some("ecs:DescribeDisks".to_owned())
        );
        let mut other = ApiError::from_body(
            404,
            r#"{"Code":"InvalidResourceId.NotFound","Message":"m"}"#,
        );
        other.name_denied_action(Service::Ecs, "DescribeDisks");
        assert!(other.access_denied.is_none() && !other.is_permission_denied());

        let all = CloudError::PermissionsMissing(vec![
            AccessDeniedDetail {
                auth_action: "ecs:DescribeDisks".into(),
                ..Default::default()
            },
            AccessDeniedDetail {
                auth_action: "ecs:DescribeDisks".into(),
                ..Default::default()
            },
            AccessDeniedDetail {
                auth_action: "ecs:DescribeImages".into(),
                ..Default::default()
            },
        ]);
        assert_eq!(
            all.to_string(),
            "missing RAM permissions for the caller: ecs:DescribeDisks, ecs:DescribeImages; \
             hint: grant them in RAM (`regroup policy -f MANIFEST` prints every permission regroup needs)"
        );
    }

    /// A wrong secret: one line with the hint, without the server's string
    /// to sign (V1 and V3 shapes, docs/sources/signing-quotas.md §1.4).
    #[test]
    fn a_signature_mismatch_hints_at_the_secret_without_the_string_to_sign() {
        for message in [
            "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3Dtestid%26SecurityToken%3Dtok",
            "Specified signature does not match our calculation. server StringToSign is [ACS3-HMAC-SHA256 0a1b]",
        ] {
            let body = serde_json::json!({"Code": "SignatureDoesNotMatch", "Message": message, "RequestId": "R1"});
            let line = ApiError::from_body(400, &body.to_string()).to_string();
            let head = &message[..message.find(" server").unwrap()];
            assert_eq!(
                line,
                format!(
                    "SignatureDoesNotMatch: {}; {SIGNATURE_HINT} (HTTP 400, request id R1)",
                    head.trim_end_matches('.')
                ),
                "one line, with the hint and no string to sign"
            );
        }
        let other = ApiError::from_body(
            400,
            r#"{"Code":"InvalidParameter","Message":"server string to sign is: kept"}"#,
        );
        assert!(
            other.to_string().contains("kept") && !other.to_string().contains("hint"),
            "{other}"
        );
    }

    /// An API error with only a status and a code.
    fn api_error(status: u16, code: &str) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            access_denied: None,
        }
    }
}
