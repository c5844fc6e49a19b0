//! Resource Center (2022-12-01) as the wire shows it: its actions, the
//! `ACS::<Product>::<Type>` names its `SearchResources` gives the resource
//! types Resource Manager names by service code and type, its filter keys
//! and match types, and its page sizes. Sources:
//! docs/sources/resourcemanager-services.md §5.

pub const GET_SERVICE_STATUS: &str = "GetResourceCenterServiceStatus";
pub const SEARCH_RESOURCES: &str = "SearchResources";

/// The Resource Center type of each Resource Manager `Service` /
/// `ResourceType` pair it indexes. Resource Center covers only some types
/// ("You can search only for the Alibaba Cloud services and resource types
/// that are supported by Resource Center": the SearchResources page, Jan
/// 2026). Names from the table "Resource types that support custom
/// rule-based automatic transfer" of Resource Management's automatic
/// transfer page (§5.3) and, for `ACS::EIP::EipAddress`, Cloud Config's
/// list of supported types (doc 127411).
const ACS_TYPES: [((&str, &str), &str); 16] = [
    (("ecs", "instance"), "ACS::ECS::Instance"),
    (("ecs", "disk"), "ACS::ECS::Disk"),
    (("ecs", "snapshot"), "ACS::ECS::Snapshot"),
    (("ecs", "image"), "ACS::ECS::Image"),
    (("ecs", "securitygroup"), "ACS::ECS::SecurityGroup"),
    (("ecs", "ddh"), "ACS::ECS::DedicatedHost"),
    (("ecs", "eni"), "ACS::ECS::NetworkInterface"),
    (("ecs", "keypair"), "ACS::ECS::KeyPair"),
    (("ecs", "launchtemplate"), "ACS::ECS::LaunchTemplate"),
    (("eip", "eip"), "ACS::EIP::EipAddress"),
    (("slb", "loadbalancer"), "ACS::SLB::LoadBalancer"),
    (("alb", "loadbalancer"), "ACS::ALB::LoadBalancer"),
    (("nlb", "loadbalancer"), "ACS::NLB::LoadBalancer"),
    (("rds", "dbinstance"), "ACS::RDS::DBInstance"),
    (("oss", "bucket"), "ACS::OSS::Bucket"),
    (("vpc", "vpc"), "ACS::VPC::VPC"),
];

/// The `ACS::…` type Resource Center reports for a Resource Manager pair,
/// or `None` for a type it does not index.
pub fn acs_type(service: &str, rm_type: &str) -> Option<&'static str> {
    ACS_TYPES
        .iter()
        .find(|((s, t), _)| *s == service && *t == rm_type)
        .map(|(_, acs)| *acs)
}

/// The Resource Manager pair of an `ACS::…` type, the other way round.
pub fn rm_pair(acs: &str) -> Option<(&'static str, &'static str)> {
    ACS_TYPES
        .iter()
        .find(|(_, name)| *name == acs)
        .map(|(pair, _)| *pair)
}

/// The keys `Filter.N.Key` takes: "ResourceType, RegionId, ResourceId,
/// ResourceGroupId, ResourceName" (the ZH SearchResources page,
/// https://help.aliyun.com/document_detail/339882.htm).
pub const FILTER_KEYS: [&str; 5] = [
    "ResourceType",
    "RegionId",
    "ResourceId",
    "ResourceGroupId",
    "ResourceName",
];

/// `Filter.N.MatchType`: `Equals`, `Prefix`, `Contains`, `NotContains`,
/// `Exists`, `NotExists` (the ZH SearchResources page, 2026).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Equals,
    Prefix,
    Contains,
    NotContains,
    Exists,
    NotExists,
}

impl MatchType {
    pub fn parse(text: &str) -> Option<MatchType> {
        Some(match text {
            "Equals" => MatchType::Equals,
            "Prefix" => MatchType::Prefix,
            "Contains" => MatchType::Contains,
            "NotContains" => MatchType::NotContains,
            "Exists" => MatchType::Exists,
            "NotExists" => MatchType::NotExists,
            _ => return None,
        })
    }

    /// Whether an attribute (`None` when the resource has none) passes this
    /// match against any of `values` (values are ORed: the SearchResources
    /// page, Jan 2026).
    pub fn passes(self, attribute: Option<&str>, values: &[String]) -> bool {
        let any = |test: &dyn Fn(&str, &str) -> bool| {
            attribute.is_some_and(|a| values.iter().any(|v| test(a, v)))
        };
        match self {
            MatchType::Equals => any(&|a, v| a == v),
            MatchType::Prefix => any(&|a, v| a.starts_with(v)),
            MatchType::Contains => any(&|a, v| a.contains(v)),
            MatchType::NotContains => !any(&|a, v| a.contains(v)),
            MatchType::Exists => attribute.is_some_and(|a| !a.is_empty()),
            MatchType::NotExists => attribute.is_none_or(str::is_empty),
        }
    }
}

/// `MaxResults`: default 20. The SDK model says 1 to 100
/// (`_search_resources_request.py` l.24–28, and the EN page of Mar 2024);
/// the pages of 2026 say 1 to 500. The server is taken to accept what its
/// newest page says; a client keeps to 100, which both allow.
pub const DEFAULT_MAX_RESULTS: usize = 20;
pub const MAX_RESULTS: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_acs_types_map_both_ways() {
        for ((service, rm_type), acs) in ACS_TYPES {
            assert_eq!(acs_type(service, rm_type), Some(acs));
            assert_eq!(rm_pair(acs), Some((service, rm_type)));
        }
        assert_eq!(acs_type("ecs", "command"), None);
        assert_eq!(rm_pair("ACS::ECS::Command"), None);
    }

    #[test]
    fn match_types_follow_the_doc() {
        let values = vec!["web".to_owned(), "db".to_owned()];
        assert!(MatchType::Equals.passes(Some("db"), &values));
        assert!(!MatchType::Equals.passes(Some("db-1"), &values));
        assert!(MatchType::Prefix.passes(Some("db-1"), &values));
        assert!(MatchType::Contains.passes(Some("my-web-1"), &values));
        assert!(!MatchType::NotContains.passes(Some("my-web-1"), &values));
        assert!(MatchType::NotContains.passes(Some("cache"), &values));
        assert!(MatchType::Exists.passes(Some("x"), &[]));
        assert!(!MatchType::Exists.passes(Some(""), &[]));
        assert!(MatchType::NotExists.passes(None, &[]));
        assert_eq!(MatchType::parse("equals"), None);
    }
}
