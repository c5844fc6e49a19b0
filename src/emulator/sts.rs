//! STS as the emulator serves it: `AssumeRole` for any role of the fleet's
//! account and, from the management account, for the roles its Resource
//! Directory's members have (keys that then act in that member only),
//! `AssumeRoleWithOIDC` for the tokens the fleet lists, and
//! `GetCallerIdentity`. Keys it issues start with `STS.`, carry a token and
//! expire (`--sts-ttl` shortens them); a call signed with an expired one
//! gets `InvalidSecurityToken.Expired` from the gateway. Parameters, limits
//! and errors follow the AssumeRole and GetCallerIdentity docs as
//! docs/sources/credentials.md §7 records them (DOC-AR, DOC-GCI, DOC-OIDC).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::directory::Directory;
use super::fleet::AccessKey;
use super::gateway::{Failure, Params};
use super::state::{Account, Slot, Store};

/// A key the emulator issued, and who it speaks for.
#[derive(Debug, Clone)]
pub struct Issued {
    pub key: AccessKey,
    pub expires: DateTime<Utc>,
    /// `GetCallerIdentity`'s answer for it.
    pub arn: String,
    pub role_id: String,
    pub session: String,
}

/// Issued keys are forgotten this long after they expire; until then a
/// call signed with one is told it expired rather than that it is unknown.
const FORGET_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// The longest `MaxSessionDuration` a RAM role may have: 43200 s
/// (`alibabacloud_ram20150501==1.3.0` `models/_create_role_request.py`
/// l.31–36: "Valid values: 3600 to 43200"). The fleet's roles give none of
/// their own, so each is taken to allow this much.
const ROLE_MAX_SESSION_SECONDS: u32 = 43_200;

/// `DurationSeconds`: 900 up to the role's `MaxSessionDuration`, default
/// 3600 (`alibabacloud_sts20150401==1.2.0`
/// `models/_assume_role_request.py` l.17–21).
fn duration(params: &Params) -> Result<u32, Failure> {
    let wrong = || {
        Failure::new(
            400,
            "InvalidParameter.DurationSeconds",
            "The Min/Max value of DurationSeconds is 15min/the MaxSessionDuration of the role.",
        )
    };
    match params.get("DurationSeconds") {
        None => Ok(3600),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (900..=ROLE_MAX_SESSION_SECONDS).contains(&n) => Ok(n),
            _ => Err(wrong()),
        },
    }
}

/// `RoleSessionName`: 2 to 64 of `[A-Za-z0-9.@_-]`
/// (`alibabacloud_sts20150401==1.2.0` `models/_assume_role_request.py`
/// l.55; DOC-AR once said 32).
fn session_name(params: &Params) -> Result<String, Failure> {
    let name = params
        .get("RoleSessionName")
        .ok_or_else(|| Failure::missing("RoleSessionName"))?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_');
    if !(2..=64).contains(&name.len()) || !name.chars().all(allowed) {
        return Err(Failure::new(
            400,
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is wrongly formed.",
        ));
    }
    Ok(name.clone())
}

/// The role's name in `acs:ram::<account>:role/<name>`, with its account.
fn role_of(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("acs:ram::")?;
    let (account, role) = rest.split_once(":role/")?;
    (!account.is_empty() && !role.is_empty() && !role.contains('/')).then_some((account, role))
}

/// A hash of `text` that is the same on every run and platform (FNV-1a),
/// for the ids the emulator derives.
pub(super) fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A stable 17-digit role id, like the service's, from the role's ARN.
fn role_id(arn: &str) -> String {
    let hash = stable_hash(arn);
    format!("3{:016}", hash % 10_000_000_000_000_000)
}

/// Issues a key for `arn` (`acs:ram::…:role/<name>`) and session that lives
/// `lifetime`, cut to whole seconds as `Expiration` shows it, so the
/// emulator and its client agree on the second it ends.
pub fn issue(
    account: &mut Account,
    random: u128,
    now: DateTime<Utc>,
    lifetime: Duration,
    arn: &str,
    session: &str,
) -> Issued {
    account
        .issued_keys
        .retain(|_, issued| issued.expires + FORGET_AFTER > now);
    let hex = format!("{random:032x}");
    let key = AccessKey {
        id: format!("STS.{}", &hex[..20]),
        secret: hex[20..].to_owned() + &hex[..10],
        security_token: Some(format!("CAIS{hex}")),
        // An assumed role may do everything the emulator serves.
        denied_actions: Vec::new(),
    };
    let end = now + chrono::TimeDelta::from_std(lifetime).unwrap_or(chrono::TimeDelta::MAX);
    let expires = DateTime::from_timestamp(end.timestamp(), 0).unwrap_or(end);
    let role = role_of(arn).map_or("role", |(_, role)| role);
    let issued = Issued {
        key,
        expires,
        arn: format!(
            "acs:ram::{}:assumed-role/{role}/{session}",
            account.account_id
        ),
        role_id: role_id(arn),
        session: session.to_owned(),
    };
    account
        .issued_keys
        .insert(issued.key.id.clone(), issued.clone());
    issued
}

/// The key as STS answers it: `Credentials` and `AssumedRoleUser` (fixture
/// tests/fixtures/api/sts_AssumeRole.json, from DOC-AR).
fn answer(issued: &Issued, role_arn: &str) -> Value {
    json!({
        "Credentials": {
            "AccessKeyId": issued.key.id,
            "AccessKeySecret": issued.key.secret,
            "SecurityToken": issued.key.security_token,
            "Expiration": issued.expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        },
        "AssumedRoleUser": {
            "Arn": format!("{role_arn}/{}", issued.session),
            "AssumedRoleId": format!("{}:{}", issued.role_id, issued.session),
        },
    })
}

/// How long a key asked for `requested` seconds lives: `--sts-ttl` when
/// that is shorter.
pub fn lifetime(requested: u32, ttl: Option<Duration>) -> Duration {
    let requested = Duration::from_secs(u64::from(requested));
    ttl.map_or(requested, |ttl| ttl.min(requested))
}

/// The most characters of `Policy`: 2,048 in both request models
/// (`alibabacloud_sts20150401==1.2.0` `models/_assume_role_request.py`
/// l.37, `_assume_role_with_oidcrequest.py` l.42); the older AssumeRole
/// doc said 1,024 (credentials.md §7): the model is newer and wins, as for
/// `RoleSessionName`. The policy is not evaluated: the emulator's keys
/// have no permissions beyond the fleet's denied actions to narrow.
const MAX_POLICY_CHARS: usize = 2048;

/// `Policy`, when given, is 1 to [`MAX_POLICY_CHARS`] characters; the code
/// and message are DOC-AR's, with the model's bound.
fn policy(params: &Params) -> Result<(), Failure> {
    match params.get("Policy") {
        Some(policy) if policy.is_empty() || policy.chars().count() > MAX_POLICY_CHARS => {
            Err(Failure::new(
                400,
                "InvalidParameter.PolicySize",
                format!("The size of Policy must be smaller than {MAX_POLICY_CHARS} bytes."),
            ))
        }
        _ => Ok(()),
    }
}

/// 404 `EntityNotExist.Role` (fixture sts_error_EntityNotExist.Role.json,
/// from DOC-AR): the role is not in the account the ARN names.
fn role_not_found() -> Failure {
    Failure::new(404, "EntityNotExist.Role", "The specified Role not exists.")
}

/// 403 `NoPermission` (fixture sts_error_NoPermission.json, from DOC-AR):
/// the caller may not call `sts:AssumeRole`, or the role exists but its
/// trust policy does not name the caller's account
/// (docs/sources/resource-directory.md §7.2).
pub(super) fn no_permission() -> Failure {
    Failure::new(
        403,
        "NoPermission",
        "You are not authorized to do this action. You should be authorized by RAM.",
    )
}

/// The account whose role `RoleArn` names, when the caller may assume it:
/// its own account's roles (any name, as before members existed), or,
/// from the management account, a role a member has. A member's roles
/// trust only the management account (§8: "The trusted entity of the role
/// is the management account"), and the management account's roles are
/// its own.
fn role_owner<'a>(
    directory: Option<&Directory>,
    caller: &str,
    arn: &'a str,
) -> Result<&'a str, Failure> {
    let Some((owner, role)) = role_of(arn) else {
        return Err(Failure::new(
            400,
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is wrongly formed.",
        ));
    };
    let Some(directory) = directory else {
        return if owner == caller {
            Ok(owner)
        } else {
            Err(role_not_found())
        };
    };
    match directory.members.iter().find(|m| m.account_id == owner) {
        Some(member) if !member.roles.iter().any(|r| r == role) => Err(role_not_found()),
        Some(_) if caller == directory.management_id => Ok(owner),
        Some(_) => Err(no_permission()),
        None if owner == directory.management_id && caller == owner => Ok(owner),
        None if owner == directory.management_id => Err(no_permission()),
        None => Err(role_not_found()),
    }
}

/// `AssumeRole`, signed by any key of `caller`'s account (chained roles
/// included): the key is issued in the account that owns the role, and a
/// key issued in a member is routed to that member from then on.
pub async fn assume_role_in(
    store: &Store,
    caller: &Slot,
    params: &Params,
    now: DateTime<Utc>,
    random: u128,
    ttl: Option<Duration>,
) -> Result<Value, Failure> {
    let arn = params
        .get("RoleArn")
        .ok_or_else(|| Failure::missing("RoleArn"))?;
    let owner = role_owner(store.directory.as_ref(), &caller.account_id, arn)?;
    let session = session_name(params)?;
    let seconds = duration(params)?;
    policy(params)?;
    let target = store.slot_of_account(owner).unwrap_or(caller);
    let issued = issue(
        &mut *target.account.write().await,
        random,
        now,
        lifetime(seconds, ttl),
        arn,
        &session,
    );
    if owner != caller.account_id {
        store.route_issued(&issued.key.id, owner, issued.expires + FORGET_AFTER, now);
    }
    Ok(answer(&issued, arn))
}

/// `AssumeRoleWithOIDC`: an unsigned call that trades an OIDC token the
/// fleet lists for a temporary key.
pub fn assume_role_with_oidc(
    account: &mut Account,
    params: &Params,
    now: DateTime<Utc>,
    random: u128,
    ttl: Option<Duration>,
) -> Result<Value, Failure> {
    let required = |name: &str| {
        params
            .get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Failure::missing(name))
    };
    let role = required("RoleArn")?;
    let provider = required("OIDCProviderArn")?;
    let token = required("OIDCToken")?;
    let seconds = duration(params)?;
    let accepted = account
        .oidc_tokens
        .iter()
        .any(|t| &t.token == token && &t.role_arn == role && &t.provider_arn == provider);
    if !accepted {
        return Err(Failure::new(
            400,
            "AuthenticationFail.OIDCToken.Invalid",
            "The OIDC token is not valid for this role and provider.",
        ));
    }
    policy(params)?;
    // `RoleSessionName` is optional here but, when given, has AssumeRole's
    // form (`_assume_role_with_oidcrequest.py` l.50–57: 2 to 64 of letters,
    // digits and `. @ - _`).
    let session = if params.contains_key("RoleSessionName") {
        session_name(params)?
    } else {
        "session".into()
    };
    let issued = issue(account, random, now, lifetime(seconds, ttl), role, &session);
    Ok(answer(&issued, role))
}

/// `GetCallerIdentity` for the key that signed the call (`key`: the
/// gateway's, from `AccessKeyId` under RPC v1 or `Authorization: …
/// Credential=` under V3, never a parameter the caller adds): an assumed
/// role for an issued key (fixture sts_GetCallerIdentity_AssumedRoleUser.json),
/// else the fleet's RAM user (sts_GetCallerIdentity.json).
pub fn get_caller_identity(account: &Account, key: &str) -> Value {
    match account.issued_keys.get(key) {
        Some(issued) => json!({
            "AccountId": account.account_id,
            "Arn": issued.arn,
            "IdentityType": "AssumedRoleUser",
            "PrincipalId": format!("{}:{}", issued.role_id, issued.session),
            "RoleId": issued.role_id,
        }),
        // The fleet names no users: every fleet key is one RAM user's,
        // and the key id stays out of the ARN (`whoami` masks it).
        None => json!({
            "AccountId": account.account_id,
            "Arn": format!("acs:ram::{}:user/fleet-user", account.account_id),
            "IdentityType": "RAMUser",
            "PrincipalId": role_id(key),
            "UserId": role_id(key),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_name_an_account_and_a_role() {
        assert_eq!(
            role_of("acs:ram::1234:role/deploy"),
            Some(("1234", "deploy"))
        );
        for bad in [
            "acs:ram::1234:role/",
            "acs:ram:::role/x",
            "arn:aws:iam::1:role/x",
            "acs:ram::1:role/a/b",
        ] {
            assert_eq!(role_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn members_roles_trust_the_management_account_only() {
        let member = |id: &str, roles: &[&str]| crate::emulator::directory::Member {
            account_id: id.into(),
            name: id.into(),
            folder: None,
            account_type: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            tags: Default::default(),
        };
        let directory = Directory::new(
            "100",
            Vec::new(),
            vec![
                member("201", &["ResourceDirectoryAccountAccessRole"]),
                member("202", &[]),
            ],
        );
        let owner = |caller: &str, arn: &str| {
            role_owner(directory.as_ref(), caller, arn)
                .map(str::to_owned)
                .map_err(|f| (f.status, f.code))
        };
        let access =
            |account: &str| format!("acs:ram::{account}:role/ResourceDirectoryAccountAccessRole");
        assert_eq!(owner("100", &access("201")), Ok("201".to_owned()));
        assert_eq!(
            owner("100", "acs:ram::100:role/anything"),
            Ok("100".to_owned())
        );
        let missing = Err((404, "EntityNotExist.Role".to_owned()));
        let untrusted = Err((403, "NoPermission".to_owned()));
        assert_eq!(
            owner("100", &access("202")),
            missing,
            "202 has no such role"
        );
        assert_eq!(owner("100", "acs:ram::201:role/other"), missing);
        assert_eq!(
            owner("100", &access("999")),
            missing,
            "not an account of the fleet"
        );
        assert_eq!(
            owner("202", &access("201")),
            untrusted,
            "a member is not trusted"
        );
        assert_eq!(
            owner("201", &access("201")),
            untrusted,
            "not even by its own role"
        );
        assert_eq!(owner("201", "acs:ram::100:role/x"), untrusted);
        assert_eq!(
            owner("201", "acs:ram::201"),
            Err((400, "InvalidParameter.RoleArn".to_owned()))
        );
        // Without a directory, as before: own roles only.
        assert_eq!(
            role_owner(None, "100", "acs:ram::100:role/x").map_err(|f| f.code),
            Ok("100")
        );
        assert_eq!(
            role_owner(None, "100", &access("201")).map_err(|f| f.code),
            Err("EntityNotExist.Role".to_owned())
        );
    }

    #[test]
    fn ttl_shortens_but_never_lengthens() {
        assert_eq!(
            lifetime(900, Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
        assert_eq!(
            lifetime(900, Some(Duration::from_secs(7200))),
            Duration::from_secs(900)
        );
        assert_eq!(lifetime(3600, None), Duration::from_secs(3600));
    }

    #[test]
    fn durations_and_session_names_are_checked() {
        let params = |pairs: &[(&str, &str)]| -> Params {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(duration(&params(&[])), Ok(3600));
        assert_eq!(duration(&params(&[("DurationSeconds", "7200")])), Ok(7200));
        for bad in ["899", "43201", "x"] {
            assert_eq!(
                duration(&params(&[("DurationSeconds", bad)]))
                    .unwrap_err()
                    .code,
                "InvalidParameter.DurationSeconds"
            );
        }
        assert!(session_name(&params(&[("RoleSessionName", &"x".repeat(64))])).is_ok());
        for bad in ["a", "has space", &"x".repeat(65)] {
            assert_eq!(
                session_name(&params(&[("RoleSessionName", bad)]))
                    .unwrap_err()
                    .code,
                "InvalidParameter.RoleSessionName"
            );
        }
        assert!(session_name(&params(&[("RoleSessionName", "ci@run-1.x_y")])).is_ok());
        // Policy: 1 to 2,048 characters (both request models).
        assert_eq!(policy(&params(&[])), Ok(()));
        assert_eq!(policy(&params(&[("Policy", &"p".repeat(2048))])), Ok(()));
        for bad in [String::new(), "p".repeat(2049)] {
            assert_eq!(
                policy(&params(&[("Policy", &bad)])).unwrap_err().code,
                "InvalidParameter.PolicySize",
                "{} characters",
                bad.len()
            );
        }
    }

    #[test]
    fn oidc_session_names_are_checked_when_given() {
        let mut account = Account::from_fleet(crate::emulator::tests::fleet(0));
        let mut ask = |extra: &[(&str, &str)]| {
            let params: Params = [
                ("RoleArn", "acs:ram::1:role/ci"),
                ("OIDCProviderArn", "acs:ram::1:oidc-provider/ci"),
                ("OIDCToken", "ci-token"),
            ]
            .iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            assume_role_with_oidc(&mut account, &params, Utc::now(), 7, None)
        };
        let plain = ask(&[]).expect("a valid token without a session name");
        assert!(plain["AssumedRoleUser"]["Arn"]
            .as_str()
            .is_some_and(|arn| arn.ends_with("/session")));
        let named = ask(&[("RoleSessionName", "ci-run-7")]).expect("a valid name");
        assert!(named["AssumedRoleUser"]["Arn"]
            .as_str()
            .is_some_and(|arn| arn.ends_with("/ci-run-7")));
        let refused = ask(&[("RoleSessionName", "has space")]).expect_err("a bad name");
        assert_eq!(refused.code, "InvalidParameter.RoleSessionName");
    }
}
