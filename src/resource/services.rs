//! The resource types of the other cloud services that Resource Manager
//! groups: every (Cloud Service Code, Resource Type) pair of "Services that
//! work with Resource Group" (doc 94479,
//! https://www.alibabacloud.com/help/en/doc-detail/94479.htm; transcribed in
//! docs/sources/resourcemanager-services.md §8.2) beyond the thirteen ECS
//! types of `JoinResourceGroup`, as a static table a `Copy` handle points
//! into, and the spellings accepted as aliases of its codes (§8.3).

use super::IdShape;

/// One (service, type) pair of doc 94479.
#[derive(Debug)]
pub(super) struct OtherRow {
    /// The Cloud Service Code: `Service` of `ListResources` and `MoveResources`.
    pub service: &'static str,
    /// The Resource Type: `ResourceType` of `ListResources` and `MoveResources`.
    pub rm_type: &'static str,
    /// `service:type`, as the manifest, plans and reports spell it.
    pub name: &'static str,
    pub shape: IdShape,
}

macro_rules! row {
    ($service:literal, $rm_type:literal, $shape:expr) => {
        OtherRow {
            service: $service,
            rm_type: $rm_type,
            name: concat!($service, ":", $rm_type),
            shape: $shape,
        }
    };
}

/// Sorted by service, then type (a unit test holds it so), which is also
/// the order plans and reports list these types in. The codes are the
/// doc's, all lower-case. Id shapes where a source gives one (§8.2): EIP
/// `eip-25877c70gddh****` (AllocateEipAddress), CLB `lb-abc123456`
/// (aliyun/terraform-provider-alicloud `website/docs/r/slb_load_balancer.html.markdown`
/// line 130), VPC `vpc-bp1sig0mjktx5ewx1****` (the MoveResources doc
/// example), PolarDB `pc-abc12345678` (`polardb_cluster.html.markdown`
/// line 296), OSS bucket names (the bucket's name is its id:
/// `oss_bucket.html.markdown` line 810 imports by name). RDS and Tair are
/// left free-form: the sources show one engine's prefix each (`rm-`,
/// `r-`), not every engine's.
pub(super) static OTHER_TYPES: [OtherRow; 156] = [
    row!("ackone", "cluster", IdShape::Free),
    row!("adb", "cluster", IdShape::Free),
    row!("adb", "dbclusterlakeversion", IdShape::Free),
    row!("alb", "acl", IdShape::Free),
    row!("alb", "loadbalancer", IdShape::Free),
    row!("alb", "securitypolicy", IdShape::Free),
    row!("alb", "servergroup", IdShape::Free),
    row!("alidns", "domain", IdShape::Free),
    row!("alikafka", "instance", IdShape::Free),
    row!("apig", "domain", IdShape::Free),
    row!("apig", "environment", IdShape::Free),
    row!("apig", "gateway", IdShape::Free),
    row!("apig", "httpapi", IdShape::Free),
    row!("apig", "service", IdShape::Free),
    row!("apig", "source", IdShape::Free),
    row!("arms", "application", IdShape::Free),
    row!("arms", "grafanaworkspace", IdShape::Free),
    row!("arms", "prometheus", IdShape::Free),
    row!("arms", "synthetictask", IdShape::Free),
    row!("arms", "web", IdShape::Free),
    row!("bandwidthpackage", "bandwidthpackage", IdShape::Free),
    row!("bastionhost", "instance", IdShape::Free),
    row!("bpstudio", "application", IdShape::Free),
    row!("bpstudio", "template", IdShape::Free),
    row!("cams", "instance", IdShape::Free),
    row!("cdn", "domain", IdShape::Free),
    row!("cds", "cluster", IdShape::Free),
    row!("cen", "bandwidthpackage", IdShape::Free),
    row!("cen", "cen", IdShape::Free),
    row!("composer", "flow", IdShape::Free),
    row!("computenest", "artifact", IdShape::Free),
    row!("computenest", "service", IdShape::Free),
    row!("computenest", "serviceinstance", IdShape::Free),
    row!("cr", "chartnamespace", IdShape::Free),
    row!("cr", "chartrepository", IdShape::Free),
    row!("cr", "instance", IdShape::Free),
    row!("cr", "namespace", IdShape::Free),
    row!("cr", "repository", IdShape::Free),
    row!("cs", "cluster", IdShape::Free),
    row!("dbs", "backupplan", IdShape::Free),
    row!("dcdn", "domain", IdShape::Free),
    row!("ddosbgp", "instance", IdShape::Free),
    row!("ddoscoo", "instance", IdShape::Free),
    row!("dds", "dbinstance", IdShape::Free),
    row!("dide", "dwresourcegroup", IdShape::Free),
    row!("dide", "project", IdShape::Free),
    row!("dide", "tenantresourcegroup", IdShape::Free),
    row!("domain", "domain", IdShape::Free),
    row!("drds", "instance", IdShape::Free),
    row!("dts", "instance", IdShape::Free),
    row!("ebs", "dedicatedblockstoragecluster", IdShape::Free),
    row!("ebs", "disk", IdShape::Free),
    row!("ebs", "diskreplicagroup", IdShape::Free),
    row!("ebs", "diskreplicapair", IdShape::Free),
    row!("ebs", "enterprisesnapshotpolicy", IdShape::Free),
    row!("ebs", "solutioninstance", IdShape::Free),
    row!("eci", "containergroup", IdShape::Free),
    row!("eci", "imagecache", IdShape::Free),
    row!("ecs", "imagecomponent", IdShape::Free),
    row!("ecs", "imagepipeline", IdShape::Free),
    row!("ecs", "snapshotpolicy", IdShape::Free),
    row!("eip", "eip", IdShape::Prefixed("eip-")),
    row!("eipanycast", "anycasteipaddress", IdShape::Free),
    row!("elasticsearch", "apm", IdShape::Free),
    row!("elasticsearch", "instance", IdShape::Free),
    row!("elasticsearch", "logstash", IdShape::Free),
    row!("emr", "cluster", IdShape::Free),
    row!("emr", "flowproject", IdShape::Free),
    row!("ess", "scalinggroup", IdShape::Free),
    row!("expressconnect", "expressconnectrouter", IdShape::Free),
    row!("expressconnect", "physicalconnection", IdShape::Free),
    row!("expressconnect", "routerinterface", IdShape::Free),
    row!("expressconnect", "trafficqos", IdShape::Free),
    row!("expressconnect", "virtualborderrouter", IdShape::Free),
    row!("flinkasi", "vvpinstance", IdShape::Free),
    row!("ga", "accelerator", IdShape::Free),
    row!("ga", "acl", IdShape::Free),
    row!("ga", "bandwidthpackage", IdShape::Free),
    row!("ga", "basicaccelerator", IdShape::Free),
    row!("gds", "instance", IdShape::Free),
    row!("gpdb", "instance", IdShape::Free),
    row!("gwlb", "loadbalancer", IdShape::Free),
    row!("gwlb", "servergroup", IdShape::Free),
    row!("hbr", "hanainstance", IdShape::Free),
    row!("hbr", "vault", IdShape::Free),
    row!("hologram", "instance", IdShape::Free),
    row!("kvstore", "instance", IdShape::Free),
    row!("log", "project", IdShape::Free),
    row!("mse", "cluster", IdShape::Free),
    row!("mse", "gateway", IdShape::Free),
    row!("multimod", "cluster", IdShape::Free),
    row!("nas", "filesystem", IdShape::Free),
    row!("netana", "diagnosis", IdShape::Free),
    row!("netana", "networkpath", IdShape::Free),
    row!("nlb", "loadbalancer", IdShape::Free),
    row!("nlb", "securitypolicy", IdShape::Free),
    row!("nlb", "servergroup", IdShape::Free),
    row!("oceanbase", "instance", IdShape::Free),
    row!("oos", "execution", IdShape::Free),
    row!("oos", "parameter", IdShape::Free),
    row!("oos", "patchbaseline", IdShape::Free),
    row!("oos", "secretparameter", IdShape::Free),
    row!("oos", "stateconfiguration", IdShape::Free),
    row!("oos", "template", IdShape::Free),
    row!("oss", "bucket", IdShape::BucketName),
    row!("ots", "instance", IdShape::Free),
    row!("paiworkspace", "workspace", IdShape::Free),
    row!("polardb", "dbcluster", IdShape::Prefixed("pc-")),
    row!("privatelink", "vpcendpoint", IdShape::Free),
    row!("privatelink", "vpcendpointservice", IdShape::Free),
    row!("rds", "dbinstance", IdShape::Free),
    row!("rm", "resourceshare", IdShape::Free),
    row!("rocketmq", "instance", IdShape::Free),
    row!("ros", "stack", IdShape::Free),
    row!("ros", "stackgroup", IdShape::Free),
    row!("ros", "template", IdShape::Free),
    row!("ros", "templatescratch", IdShape::Free),
    row!("selectdb", "dbinstance", IdShape::Free),
    row!("slb", "acl", IdShape::Free),
    row!("slb", "certificate", IdShape::Free),
    row!("slb", "loadbalancer", IdShape::Prefixed("lb-")),
    row!("smartag", "acl", IdShape::Free),
    row!("smartag", "ccn", IdShape::Free),
    row!("smartag", "flowlog", IdShape::Free),
    row!("smartag", "intelligentrouting", IdShape::Free),
    row!("smartag", "qos", IdShape::Free),
    row!("smartag", "smartag", IdShape::Free),
    row!("smartag", "smartag_s", IdShape::Free),
    row!("smc", "replicationjob", IdShape::Free),
    row!("smc", "sourceserver", IdShape::Free),
    row!("starrocks", "instance", IdShape::Free),
    row!("vod", "appinfo", IdShape::Free),
    row!("vod", "storage", IdShape::Free),
    row!("vpc", "customergateway", IdShape::Free),
    row!("vpc", "dhcpoptionsset", IdShape::Free),
    row!("vpc", "gatewayendpoint", IdShape::Free),
    row!("vpc", "ipam", IdShape::Free),
    row!("vpc", "ipampool", IdShape::Free),
    row!("vpc", "ipamresourcediscovery", IdShape::Free),
    row!("vpc", "ipamscope", IdShape::Free),
    row!("vpc", "ipsecserver", IdShape::Free),
    row!("vpc", "ipv4gateway", IdShape::Free),
    row!("vpc", "ipv6gateway", IdShape::Free),
    row!("vpc", "natgateway", IdShape::Free),
    row!("vpc", "peerconnection", IdShape::Free),
    row!("vpc", "publicipaddresspool", IdShape::Free),
    row!("vpc", "sslvpnclientcert", IdShape::Free),
    row!("vpc", "sslvpnserver", IdShape::Free),
    row!("vpc", "trafficmirrorfilter", IdShape::Free),
    row!("vpc", "trafficmirrorsession", IdShape::Free),
    row!("vpc", "vpc", IdShape::Prefixed("vpc-")),
    row!("vpc", "vpnattachment", IdShape::Free),
    row!("vpc", "vpnconnection", IdShape::Free),
    row!("vpc", "vpngateway", IdShape::Free),
    row!("waf", "domain", IdShape::Free),
    row!("wafv3", "defenseresource", IdShape::Free),
];

/// Spellings of issue 27 and the design notes that differ from doc 94479's
/// codes, read as the code they mean (docs/sources/resourcemanager-services.md
/// §8.3): EIP has its own service code `eip` (`vpc:eip` is the VPC API's
/// `MoveResourceGroup` enum), CLB's type is `loadbalancer`, and the doc's
/// codes are lower-case.
pub(super) const ALIASES: [(&str, &str); 3] = [
    ("vpc:eip", "eip:eip"),
    ("slb:instance", "slb:loadbalancer"),
    ("rds:DBInstance", "rds:dbinstance"),
];
