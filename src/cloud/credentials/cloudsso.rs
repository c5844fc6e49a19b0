//! CloudSSO profiles of the aliyun CLI's `~/.aliyun/config.json`. regroup
//! does not sign in to CloudSSO itself: it uses the temporary key the CLI
//! caches in the profile after a sign-in, while it lasts, and otherwise says
//! how to get a fresh one.
//!
//! Where the CLI keeps it (aliyun/aliyun-cli `config/profile.go`, the
//! `Profile` struct, lines 96-126, and `GetCredential`'s `case CloudSSO`,
//! lines 688-741): `access_key_id`, `access_key_secret` and `sts_token`,
//! with `sts_expiration` in Unix seconds (the expiry less 5 s); the CLI
//! fetches a new key with the cached CloudSSO access token when that has
//! passed, and writes it back to the profile.

use serde_json::{Map, Value};

use super::{Credentials, Secret};

/// The cached temporary key of CloudSSO profile `name`, if it is still
/// valid at `now` (Unix seconds); else what to do.
pub fn cached_key(
    profile: &Map<String, Value>,
    name: &str,
    now: i64,
) -> Result<Credentials, String> {
    let text = |key: &str| {
        profile
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let expiration = profile.get("sts_expiration").and_then(Value::as_i64);
    let renew = format!(
        "run any aliyun command with `--profile {name}` (e.g. `aliyun sts GetCallerIdentity --profile {name}`), which renews it while the CloudSSO sign-in lasts, or sign in again with `aliyun configure --profile {name}`; regroup also takes keys from the environment, OIDC, or an AK, StsToken, RamRoleArn or OIDC profile"
    );
    match (
        text("access_key_id"),
        text("access_key_secret"),
        text("sts_token"),
        expiration,
    ) {
        (Some(id), Some(secret), Some(token), Some(expires)) if expires > now => Ok(Credentials {
            access_key_id: id,
            access_key_secret: Secret::new(secret),
            security_token: Some(Secret::new(token)),
        }),
        (Some(_), Some(_), Some(_), Some(_)) => Err(format!(
            "profile `{name}` is a CloudSSO profile whose cached temporary key has expired; {renew}"
        )),
        _ => Err(format!(
            "profile `{name}` is a CloudSSO profile with no cached temporary key; {renew}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(expiration: i64) -> Map<String, Value> {
        serde_json::json!({
            "name": "sso",
            "mode": "CloudSSO",
            "cloud_sso_sign_in_url": "https://signin-cn-shanghai.alibabacloudsso.com/example/login",
            "access_key_id": "STS.id",
            "access_key_secret": "sts-secret",
            "sts_token": "sts-token",
            "sts_expiration": expiration,
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    #[test]
    fn a_key_still_valid_is_used_with_its_token() {
        let key = cached_key(&profile(2_000), "sso", 1_000).expect("valid until 2000");
        assert_eq!(key.access_key_id, "STS.id");
        assert_eq!(
            key.security_token.map(|t| t.expose().to_owned()),
            Some("sts-token".into())
        );
    }

    #[test]
    fn an_expired_or_missing_key_says_how_to_renew_it_not_not_found() {
        let expired = cached_key(&profile(1_000), "sso", 1_000).expect_err("expired at 1000");
        assert!(expired.contains("has expired"), "{expired}");
        assert!(
            expired.contains("aliyun configure --profile sso"),
            "{expired}"
        );
        let mut bare = profile(2_000);
        bare.remove("sts_token");
        let missing = cached_key(&bare, "sso", 1_000).expect_err("no token");
        assert!(missing.contains("no cached temporary key"), "{missing}");
        assert!(!missing.contains("not found"), "{missing}");
    }
}
