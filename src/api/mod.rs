//! The wire contract that the client (`cloud`) and the emulator (`emulator`)
//! share: the services and their API versions, their endpoints, the
//! Describe* table, the request signatures (RPC v1 and ACS3), and RAM's
//! action names and denials. Pure data and pure functions, no I/O; both
//! sides depend on this module and never on each other.

pub mod describe;
pub mod endpoints;
#[cfg(test)]
pub mod fixtures;
pub mod quota;
pub mod ram;
pub mod regions;
pub mod sign;
pub mod sign_v3;

/// Parameters whose values are secrets (a signature, a token, a key's
/// secret): logs, the client's and the emulator's, show that they were sent,
/// never what they were.
pub const SECRET_PARAMETERS: [&str; 4] =
    ["SecurityToken", "OIDCToken", "Signature", "AccessKeySecret"];

/// The services regroup talks to, each with its API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ecs,
    ResourceManager,
    Sts,
    /// Quota Center, for the FlowControl quotas that pace calls.
    Quotas,
    /// ActionTrail, for who moved a resource (`regroup history`).
    ActionTrail,
    /// Resource Directory (`resourcedirectorymaster`), for the member
    /// accounts a run fans out to.
    ResourceDirectory,
}

impl Service {
    /// The `Version` parameter of every call: ECS 2014-05-26, Resource Manager
    /// 2020-03-31 and STS 2015-04-01, as the official SDK packages
    /// `alibabacloud_ecs20140526`, `alibabacloud_resourcemanager20200331` and
    /// `alibabacloud_sts20150401` are named and send; Quota Center
    /// 2020-05-10, as `alibabacloud-quotas20200510==1.2.2` `client.py`
    /// `list_product_quotas_with_options` (l.1960) sends it
    /// (docs/sources/signing-quotas.md §6).
    pub fn api_version(self) -> &'static str {
        match self {
            Service::Ecs => "2014-05-26",
            Service::ResourceManager => "2020-03-31",
            Service::Sts => "2015-04-01",
            Service::Quotas => "2020-05-10",
            // alibabacloud_actiontrail20200706==2.6.0 client.py l.2763.
            Service::ActionTrail => "2020-07-06",
            // alibabacloud_resourcedirectorymaster20220419==2.3.1 client.py
            // l.2719 (ListAccounts); docs/sources/resource-directory.md §1.
            Service::ResourceDirectory => "2022-04-19",
        }
    }
}
