//! RAM in the emulator: a principal's `denied_actions` refuse calls with
//! 403 `Forbidden.RAM` and an `AccessDeniedDetail`, shaped as the ECS
//! announcement on query-API authentication shows them
//! (docs/sources/ecs-models.md §5;
//! tests/fixtures/api/Error_Forbidden.RAM_DescribeInstances.json), and
//! `DryRun=true` stops a read that passed its checks with
//! `DryRunOperation`, where the SDK model documents it.

use base64::Engine;

use super::fleet::AccessKey;
use super::gateway::{Failure, Params};
use crate::api::ram::{self, AccessDeniedDetail};

/// Who is calling, as RAM names it, with what RAM refuses them.
#[derive(Debug, Clone, Copy)]
pub struct Principal<'a> {
    /// `SubUser`, `AssumedRoleUser` or `Federated` (RAM
    /// `DecodeDiagnosticMessage` reference).
    pub kind: &'a str,
    pub display_name: &'a str,
    pub denied_actions: &'a [String],
}

impl<'a> Principal<'a> {
    /// A fleet key is a RAM user's key (`SubUser`), named by its id; a key
    /// with a security token was issued to an assumed role.
    pub fn of_key(key: &'a AccessKey) -> Principal<'a> {
        Principal {
            kind: if key.security_token.is_some() {
                "AssumedRoleUser"
            } else {
                "SubUser"
            },
            display_name: &key.id,
            denied_actions: &key.denied_actions,
        }
    }
}

/// Refuses `action` (a RAM action such as `ecs:DescribeDisks`) when the
/// principal is denied it. A denied action is one no policy allows, hence
/// `ImplicitDeny` under the account's identity-based policies.
pub fn check(account_id: &str, principal: Principal, action: &str) -> Result<(), Failure> {
    if !principal.denied_actions.iter().any(|d| d == action) {
        return Ok(());
    }
    // STS refuses a caller without `sts:AssumeRole` with its own 403
    // `NoPermission` (docs/sources/resource-directory.md §7.2, from DOC-AR;
    // fixture sts_error_NoPermission.json), not with `Forbidden.RAM`.
    if action == "sts:AssumeRole" {
        return Err(super::sts::no_permission());
    }
    // Opaque to the caller, as the real one is until RAM decodes it.
    let encoded = base64::engine::general_purpose::STANDARD.encode(
        serde_json::json!({"AuthAction": action, "Principal": principal.display_name}).to_string(),
    );
    let mut failure = Failure::new(403, ram::FORBIDDEN, ram::FORBIDDEN_MESSAGE);
    failure.access_denied = Some(Box::new(AccessDeniedDetail {
        policy_type: "AccountLevelIdentityBasedPolicy".into(),
        auth_principal_owner_id: account_id.to_owned(),
        encoded_diagnostic_message: encoded,
        auth_principal_type: principal.kind.to_owned(),
        auth_principal_display_name: principal.display_name.to_owned(),
        no_permission_type: "ImplicitDeny".into(),
        auth_action: action.to_owned(),
    }));
    Err(failure)
}

/// The RAM check of a call of `action` (of `service`) signed by `key_id` in
/// `account`: the key's own denials, then `denied_here`, the actions
/// refused to every key acting in the account
/// (`Settings::denied_in_accounts`: a member whose role lacks them).
pub fn check_key(
    account: &super::state::Account,
    key_id: &str,
    service: crate::api::Service,
    action: &str,
    denied_here: Option<&Vec<String>>,
) -> Result<(), Failure> {
    let Some(key) = account.key(key_id) else {
        return Ok(());
    };
    let ram_action = ram::action_name(service, action);
    let principal = Principal::of_key(key);
    check(&account.account_id, principal, &ram_action)?;
    match denied_here {
        Some(denied_actions) => check(
            &account.account_id,
            Principal {
                denied_actions,
                ..principal
            },
            &ram_action,
        ),
        None => Ok(()),
    }
}

/// A read with `DryRun=true` whose model documents it
/// ([`ram::documents_dry_run`]) stops here, after the key and RAM checks,
/// with 400 `DryRunOperation`; its required `RegionId` is checked first.
pub fn dry_run(action: &str, params: &Params) -> Result<(), Failure> {
    let asked = params
        .get("DryRun")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !asked || !ram::documents_dry_run(action) {
        return Ok(());
    }
    if params.get("RegionId").is_none_or(|r| r.is_empty()) {
        return Err(Failure::missing("RegionId"));
    }
    Err(Failure::new(
        400,
        ram::DRY_RUN_PASSED,
        "Request validation has been passed with DryRun flag set.",
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::emulator::gateway::{encode, Format};

    /// The set of field paths of a JSON value, objects only.
    fn shape(value: &Value, prefix: &str, out: &mut Vec<String>) {
        if let Value::Object(fields) = value {
            for (name, child) in fields {
                let path = format!("{prefix}/{name}");
                shape(child, &path, out);
                out.push(path);
            }
        }
        out.sort();
    }

    #[test]
    fn a_denial_has_the_announcements_shape() {
        let denied = vec!["ecs:DescribeInstances".to_owned()];
        let principal = Principal {
            kind: "SubUser",
            display_name: "testid",
            denied_actions: &denied,
        };
        assert!(check("123", principal, "ecs:DescribeDisks").is_ok());
        let failure = check("123", principal, "ecs:DescribeInstances").unwrap_err();
        assert_eq!(
            (failure.status, failure.code.as_str()),
            (403, "Forbidden.RAM")
        );
        let body: Value = serde_json::from_str(&encode(
            Format::Json,
            "DescribeInstances",
            &Err(failure),
            "R",
        ))
        .unwrap();
        let fixture: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/api/Error_Forbidden.RAM_DescribeInstances.json"
        ))
        .unwrap();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        shape(&body, "", &mut ours);
        shape(&fixture, "", &mut theirs);
        assert_eq!(ours, theirs);
        assert_eq!(body["Message"], fixture["Message"]);
        let detail = &body["AccessDeniedDetail"];
        assert_eq!(detail["AuthAction"], "ecs:DescribeInstances");
        assert_eq!(detail["AuthPrincipalDisplayName"], "testid");
        assert_eq!(detail["AuthPrincipalOwnerId"], "123");
        assert_eq!(
            detail["NoPermissionType"],
            fixture["AccessDeniedDetail"]["NoPermissionType"]
        );
    }

    #[test]
    fn dry_runs_stop_only_reads_that_document_them() {
        let params = |pairs: &[(&str, &str)]| -> Params {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let asked = params(&[("DryRun", "true"), ("RegionId", "cn-hangzhou")]);
        assert_eq!(
            dry_run("DescribeDisks", &asked).unwrap_err().code,
            "DryRunOperation"
        );
        assert!(dry_run("DescribeKeyPairs", &asked).is_ok());
        assert!(dry_run("DescribeDisks", &params(&[("RegionId", "cn-hangzhou")])).is_ok());
        assert_eq!(
            dry_run("DescribeDisks", &params(&[("DryRun", "true")]))
                .unwrap_err()
                .code,
            "MissingParameter"
        );
    }
}
