//! The ECS instance metadata server's RAM-role paths, served on the
//! emulator's own address (which `REGROUP_METADATA_ENDPOINT` points the
//! client at instead of 100.100.100.200): `PUT /latest/api/token` for an
//! IMDSv2 token, `GET /latest/meta-data/ram/security-credentials/` for the
//! instance's role and `…/<role>` for its temporary key. Paths, headers and
//! the credential document follow docs/sources/credentials.md §5 (DOC-IMDS;
//! `provider/ecs_ram_role.py`; fixture metadata_credentials.json). Tokens
//! are optional, as on a server that still allows IMDSv1; a token that is
//! sent must be one the server gave.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::gateway::Params;
use super::{log, sts, Shared};

/// The RAM role the emulated instance has.
pub const INSTANCE_ROLE: &str = "regroup-emulator-role";
/// Metadata keys live six hours (the doc example's `Expiration` is six
/// hours after `LastUpdated`), or `--sts-ttl` when shorter.
const METADATA_KEY_SECONDS: u32 = 6 * 3600;
const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
const TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";

/// IMDSv2 tokens given out, with when each expires.
#[derive(Default)]
pub struct Tokens(std::sync::Mutex<HashMap<String, DateTime<Utc>>>);

fn reply(shared: &Shared, action: &str, status: StatusCode, body: String) -> Response {
    let code = (!status.is_success()).then(|| status.as_str().to_owned());
    log(
        shared,
        &shared.store.management().account_id,
        action,
        &Params::new(),
        status.as_u16(),
        code.as_deref(),
    );
    (status, body).into_response()
}

/// A sent token must be valid; none at all is IMDSv1.
fn token_ok(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(token) = headers.get(TOKEN_HEADER) else {
        return true;
    };
    let now = Utc::now();
    let Ok(token) = token.to_str() else {
        return false;
    };
    shared
        .metadata_tokens
        .0
        .lock()
        .is_ok_and(|tokens| tokens.get(token).is_some_and(|end| now < *end))
}

/// `PUT /latest/api/token`: the TTL header (1–21600 s) is required.
pub(super) async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let ttl = headers
        .get(TTL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|ttl| (1..=21_600).contains(ttl));
    let Some(ttl) = ttl else {
        return reply(
            &shared,
            "metadata token",
            StatusCode::BAD_REQUEST,
            String::new(),
        );
    };
    let token = format!("{:032x}", shared.random());
    if let Ok(mut tokens) = shared.metadata_tokens.0.lock() {
        let now = Utc::now();
        tokens.retain(|_, end| *end > now);
        tokens.insert(token.clone(), now + chrono::TimeDelta::seconds(ttl));
    }
    reply(&shared, "metadata token", StatusCode::OK, token)
}

/// `GET …/security-credentials/`: the instance's role name.
pub(super) async fn roles(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !token_ok(&shared, &headers) {
        return reply(
            &shared,
            "metadata role",
            StatusCode::UNAUTHORIZED,
            String::new(),
        );
    }
    reply(
        &shared,
        "metadata role",
        StatusCode::OK,
        INSTANCE_ROLE.into(),
    )
}

/// `GET …/security-credentials/<role>`: a key the emulator accepts.
pub(super) async fn credentials(
    State(shared): State<Arc<Shared>>,
    Path(role): Path<String>,
    headers: HeaderMap,
) -> Response {
    const ACTION: &str = "metadata credentials";
    if !token_ok(&shared, &headers) {
        return reply(&shared, ACTION, StatusCode::UNAUTHORIZED, String::new());
    }
    if role != INSTANCE_ROLE {
        return reply(&shared, ACTION, StatusCode::NOT_FOUND, String::new());
    }
    let now = Utc::now();
    let random = shared.random();
    let lifetime: Duration = sts::lifetime(METADATA_KEY_SECONDS, shared.settings.sts_ttl);
    let issued = {
        let mut account = shared.store.management().account.write().await;
        let arn = format!("acs:ram::{}:role/{INSTANCE_ROLE}", account.account_id);
        sts::issue(&mut account, random, now, lifetime, &arn, "ecs-instance")
    };
    let document = serde_json::json!({
        "AccessKeyId": issued.key.id,
        "AccessKeySecret": issued.key.secret,
        "SecurityToken": issued.key.security_token,
        "Expiration": issued.expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "LastUpdated": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "Code": "Success",
    });
    reply(&shared, ACTION, StatusCode::OK, document.to_string())
}
