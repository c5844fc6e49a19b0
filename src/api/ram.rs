//! RAM (Resource Access Management) as the wire shows it: the action name
//! a policy grants for an API, the `AccessDeniedDetail` of a `Forbidden.RAM`
//! answer, and which reads can check a permission with `DryRun=true`.
//! Sources: docs/sources/ecs-models.md §5 and
//! docs/sources/resourcemanager-rules.md §4.

use serde::{Deserialize, Serialize};

use super::Service;

/// The error code of a call the caller's RAM policies do not allow: HTTP
/// 403 `Forbidden.RAM` with an `AccessDeniedDetail` (ECS announcement on
/// query-API authentication, effective 2025-12-20,
/// <https://www.alibabacloud.com/help/en/ecs/announcement-of-changes-to-the-authentication-mechanism-for-alibaba-cloud-ecs-query-type-apis>;
/// tests/fixtures/api/Error_Forbidden.RAM_DescribeInstances.json).
pub const FORBIDDEN: &str = "Forbidden.RAM";

/// The message of that answer, as the announcement prints it.
pub const FORBIDDEN_MESSAGE: &str =
    "User not authorized to operate on the specified resource, or this API doesn't support RAM.";

/// The RAM action that allows `action` of `service`: `<code>:<ApiName>`,
/// e.g. `ecs:JoinResourceGroup` (ECS API reference, JoinResourceGroup
/// "Authorization information"), `resourcemanager:ListResourceGroups`,
/// `sts:AssumeRole`, `quotas:ListProductQuotas`
/// (docs/sources/resourcemanager-rules.md §4).
pub fn action_name(service: Service, action: &str) -> String {
    let code = match service {
        Service::Ecs => "ecs",
        Service::ResourceManager => "resourcemanager",
        Service::Sts => "sts",
        Service::Quotas => "quotas",
        // actiontrail:LookupEvents (the LookupEvents page, RAM authorization).
        Service::ActionTrail => "actiontrail",
        // resourcemanager:ListAccounts for resourcedirectorymaster 2022-04-19
        // too (docs/sources/resource-directory.md §4).
        Service::ResourceDirectory => "resourcemanager",
    };
    format!("{code}:{action}")
}

/// The diagnostic part of a `Forbidden.RAM` answer, field for field as the
/// announcement's example and the Tea SDK models show it (values of
/// `PolicyType`, `AuthPrincipalType` and `NoPermissionType` from RAM's
/// `DecodeDiagnosticMessage` reference). Every field may be missing from
/// a real answer, so each defaults to empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AccessDeniedDetail {
    /// `AccountLevelIdentityBasedPolicy`, `ResourceGroupLevelIdentityBasedPolicy`, …
    pub policy_type: String,
    /// The account that owns the principal.
    pub auth_principal_owner_id: String,
    /// An opaque blob that RAM's `DecodeDiagnosticMessage` decodes.
    pub encoded_diagnostic_message: String,
    /// `SubUser`, `AssumedRoleUser` or `Federated`.
    pub auth_principal_type: String,
    pub auth_principal_display_name: String,
    /// `ImplicitDeny` (no policy allows it) or `ExplicitDeny`.
    pub no_permission_type: String,
    /// The action that was denied, e.g. `ecs:DescribeDisks`.
    pub auth_action: String,
}

/// Whether the official SDK model documents `DryRun` for this read: a call
/// with `DryRun=true` checks the key, the RAM permission and the required
/// parameters without reading, and answers `DryRunOperation` when they
/// pass. `alibabacloud_ecs20140526==7.11.8`
/// `models/_describe_{instances,disks,snapshots,images,security_groups}_request.py`
/// document `dry_run`; the requests of DescribeDedicatedHosts,
/// DescribeNetworkInterfaces, DescribeKeyPairs, DescribeLaunchTemplates and
/// JoinResourceGroup have no such field, so for those the reads themselves
/// are the check.
pub fn documents_dry_run(action: &str) -> bool {
    matches!(
        action,
        "DescribeInstances"
            | "DescribeDisks"
            | "DescribeSnapshots"
            | "DescribeImages"
            | "DescribeSecurityGroups"
    )
}

/// The code a dry run that passed answers with, HTTP 400: the SDK models
/// above name the code; the status and message are those of Alibaba
/// Cloud's error tables (e.g. VPC Peer 2022-01-01 error codes: "400
/// DryRunOperation Request validation has been passed with DryRun flag
/// set.").
pub const DRY_RUN_PASSED: &str = "DryRunOperation";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_reads_and_writes_the_announcements_shape() {
        let fixture: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/api/Error_Forbidden.RAM_DescribeInstances.json"
        ))
        .unwrap();
        assert_eq!(fixture["Code"], FORBIDDEN);
        assert_eq!(fixture["Message"], FORBIDDEN_MESSAGE);
        let detail: AccessDeniedDetail =
            serde_json::from_value(fixture["AccessDeniedDetail"].clone()).unwrap();
        assert_eq!(detail.auth_action, "ecs:DescribeInstances");
        assert_eq!(detail.no_permission_type, "ImplicitDeny");
        assert_eq!(detail.auth_principal_type, "SubUser");
        // Written back, it is the fixture again: same fields, same values.
        assert_eq!(
            serde_json::to_value(&detail).unwrap(),
            fixture["AccessDeniedDetail"]
        );
    }

    #[test]
    fn action_names_carry_the_services_ram_code() {
        assert_eq!(
            action_name(Service::Ecs, "DescribeDisks"),
            "ecs:DescribeDisks"
        );
        assert_eq!(
            action_name(Service::ResourceManager, "ListResourceGroups"),
            "resourcemanager:ListResourceGroups"
        );
        assert!(documents_dry_run("DescribeDisks"));
        assert!(!documents_dry_run("DescribeKeyPairs"));
        assert!(!documents_dry_run("JoinResourceGroup"));
    }
}
