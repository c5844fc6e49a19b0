"""The emulator as the current Python Tea SDKs see it:
`alibabacloud_ecs20140526`, `alibabacloud_resourcemanager20200331`,
`alibabacloud_quotas20200510` and `alibabacloud_sts20150401` on
`alibabacloud_tea_openapi` 0.4.6, in their default mode (signature V3,
ACS3-HMAC-SHA256), with `signature_algorithm='v2'` (RPC v1 signatures
beside an `x-acs-action` header) and with `signature_algorithm=
'ACS3-HMAC-SM3'` (`alibabacloud_openapi_util` 0.2.4 `client.py` l.41-48).

Usage: conformance_tea.py ENDPOINT KEY_ID SECRET   (ENDPOINT is host:port)
Runs every check in each mode (acs3, v2, sm3). Expected values come from the SDK
request/response models and the API docs, cited per check; the fleet is
checks.py's. One line per check, named with its mode; exit 1 on any failure.
"""

import datetime
import json
import sys

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as Ecs
from alibabacloud_quotas20200510 import models as quota_models
from alibabacloud_quotas20200510.client import Client as Quotas
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as ResourceManager
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as Sts
from alibabacloud_tea_openapi import models as open_api_models

from checks import (
    ACCOUNT,
    INSTANCES,
    OIDC_PROVIDER_ARN,
    OIDC_TOKEN,
    REGION,
    ROLE_ARN,
    RULES,
    SECURITY_GROUPS,
    equal,
    run_modes,
)


# (action, attributes down to its list in the SDK's response model).
OTHER_READS = [
    ("DescribeDisks", ["disks", "disk"]),
    ("DescribeSnapshots", ["snapshots", "snapshot"]),
    ("DescribeImages", ["images", "image"]),
    ("DescribeDedicatedHosts", ["dedicated_hosts", "dedicated_host"]),
    ("DescribeDedicatedHostClusters", ["dedicated_host_clusters", "dedicated_host_cluster"]),
    ("DescribeNetworkInterfaces", ["network_interface_sets", "network_interface_set"]),
    ("DescribeKeyPairs", ["key_pairs", "key_pair"]),
    ("DescribeLaunchTemplates", ["launch_template_sets", "launch_template_set"]),
    ("DescribeCommands", ["commands", "command"]),
    ("DescribeActivations", ["activation_list"]),
    ("DescribeManagedInstances", ["instances"]),
]


# The name filters of the request models (alibabacloud_ecs20140526 7.11.8
# `_describe_<api>_request.py`, the line of the field): (action, request
# field, how it matches, id attribute of an item). "exact" is a field the
# model documents without fuzzy matching, "wildcard" one with `*`
# ("command*"), "fuzzy" one that says "Fuzzy search is supported".
NAME_FILTERS = [
    ("DescribeDisks", "disk_name", "exact", "disk_id"),  # l.93
    ("DescribeSnapshots", "snapshot_name", "exact", "snapshot_id"),  # l.91
    ("DescribeImages", "image_name", "fuzzy", "image_id"),  # l.79
    ("DescribeDedicatedHosts", "dedicated_host_name", "exact", "dedicated_host_id"),  # l.40
    ("DescribeDedicatedHostClusters", "dedicated_host_cluster_name", "exact", "dedicated_host_cluster_id"),  # l.31
    ("DescribeNetworkInterfaces", "network_interface_name", "exact", "network_interface_id"),  # l.51
    ("DescribeLaunchTemplates", "launch_template_name", "list", "launch_template_id"),  # l.36, a list
    ("DescribeCommands", "name", "wildcard", "command_id"),  # l.65
    ("DescribeManagedInstances", "instance_name", "exact", "instance_id"),  # l.45
]


def snake(action):
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in action).lstrip("_")


def config(endpoint, key_id, secret, mode, token=None):
    return open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
        endpoint=endpoint,
        protocol="http",
        region_id=REGION,
        signature_algorithm={"v2": "v2", "sm3": "ACS3-HMAC-SM3"}.get(mode),
    )


def ids(response):
    return [i.instance_id for i in response.body.instances.instance]


def main(endpoint, key_id, secret):
    run_modes(("acs3", "v2", "sm3"), run_mode, endpoint, key_id, secret)


def run_mode(checks, endpoint, key_id, secret, mode):
    check, refused = checks.in_mode(mode)
    ecs = Ecs(config(endpoint, key_id, secret, mode))
    rm = ResourceManager(config(endpoint, key_id, secret, mode))
    quotas = Quotas(config(endpoint, key_id, secret, mode))
    sts = Sts(config(endpoint, key_id, secret, mode))

    def instances(**fields):
        fields.setdefault("region_id", REGION)
        return ecs.describe_instances(ecs_models.DescribeInstancesRequest(**fields))

    check(
        "DescribeInstances by InstanceIds",
        lambda: equal(sorted(ids(instances(instance_ids=json.dumps(INSTANCES[:2])))), INSTANCES[:2], "ids"),
    )
    # _describe_instances_request.py l.140-145: below 10 is 10, above 100 is 100.
    check("MaxResults=5 is served as 10", lambda: equal(len(ids(instances(max_results=5))), 10, "items"))

    def max_101():
        response = instances(max_results=101)
        if not response.body.next_token:
            raise AssertionError("no NextToken with 120 instances")
        return equal(len(ids(response)), 100, "items")

    check("MaxResults=101 is served as 100", max_101)

    def second_page():
        first = instances(page_number=1, page_size=10)
        second = instances(page_number=2, page_size=10)
        body = second.body
        equal((body.page_number, body.page_size, body.total_count), (2, 10, 120), "PageNumber, PageSize, TotalCount")
        if set(ids(first)) & set(ids(second)) or len(ids(second)) != 10:
            raise AssertionError(f"page 2 {ids(second)} overlaps page 1 {ids(first)}")
        return "page 2 is the next 10"

    check("PageNumber=2 of PageSize=10 is the second page", second_page)

    def walk():
        seen, token = [], None
        for _ in range(20):
            response = instances(max_results=50, next_token=token)
            seen += ids(response)
            token = response.body.next_token
            if not token:
                break
        return equal(sorted(seen), INSTANCES, "every instance once")

    check("NextToken walks every instance", walk)
    # _describe_instances_request.py l.101 (InstanceName, `*`) and l.175 (Status).
    check(
        "InstanceName filters",
        lambda: equal(ids(instances(instance_name=f"{INSTANCES[3]}-name")), [INSTANCES[3]], "ids"),
    )
    check(
        "InstanceName takes a * wildcard",
        lambda: equal(sorted(ids(instances(instance_name="i-bp1test0002*", max_results=100))), INSTANCES[20:30], "ids"),
    )
    check("Status=Stopped lists no running instance", lambda: equal(ids(instances(status="Stopped")), [], "ids"))
    check(
        "an unknown id lists nothing",
        lambda: equal(ids(instances(instance_ids=json.dumps(["i-bp1unknown000"]))), [], "ids"),
    )
    # _describe_instances_request.py: RegionId "This parameter is required."
    refused(
        "DescribeInstances without RegionId",
        lambda: ecs.describe_instances(ecs_models.DescribeInstancesRequest()),
        "MissingParameter",
        400,
    )

    def security_group_by_id():
        response = ecs.describe_security_groups(
            ecs_models.DescribeSecurityGroupsRequest(region_id=REGION, security_group_id=SECURITY_GROUPS[0])
        )
        found = [g.security_group_id for g in response.body.security_groups.security_group]
        return equal(found, [SECURITY_GROUPS[0]], "security groups")

    # _describe_security_groups_request.py l.76.
    check("DescribeSecurityGroups SecurityGroupId filters", security_group_by_id)

    def security_group_by_name():
        response = ecs.describe_security_groups(
            ecs_models.DescribeSecurityGroupsRequest(region_id=REGION, security_group_name=f"{SECURITY_GROUPS[1]}-name")
        )
        found = [g.security_group_id for g in response.body.security_groups.security_group]
        return equal(found, [SECURITY_GROUPS[1]], "security groups")

    # _describe_security_groups_request.py l.81.
    check("DescribeSecurityGroups SecurityGroupName filters", security_group_by_name)

    # Every other Describe* the emulator serves, an ordinary call each: the
    # fleet has three of each type (checks.py), found where the response
    # model (`_describe_<api>_response_body.py`) puts them.
    for action, path in OTHER_READS:
        def read(action=action, path=path):
            request = getattr(ecs_models, f"{action}Request")(region_id=REGION)
            body = getattr(ecs, snake(action))(request).body
            for step in path:
                body = getattr(body, step)
            return equal(len(body), 3, f"{action} items")

        check(f"{action} lists the fleet's three", read)

    def listed(action, **fields):
        request = getattr(ecs_models, f"{action}Request")(region_id=REGION, **fields)
        body = getattr(ecs, snake(action))(request).body
        for step in dict(OTHER_READS)[action]:
            body = getattr(body, step)
        return body

    # Each name filter lists only the item with that name (the fleet names
    # every resource `<id>-name`, checks.py), and a name no item has lists
    # nothing.
    for action, field, how, id_attribute in NAME_FILTERS:
        def by_name(action=action, field=field, how=how, id_attribute=id_attribute):
            picked = getattr(listed(action)[1], id_attribute)
            name = f"{picked}-name"
            value = {"exact": name, "list": [name], "wildcard": f"{picked}*", "fuzzy": picked[1:]}[how]
            found = [getattr(i, id_attribute) for i in listed(action, **{field: value})]
            equal(found, [picked], f"{action} {field}={value!r}")
            none = name + "-other"
            missing = [getattr(i, id_attribute) for i in listed(action, **{field: [none] if how == "list" else none})]
            return equal(missing, [], f"{action} {field}={none!r}")

        check(f"{action} {field} filters", by_name)

    # _describe_disks_request.py l.129 and _describe_network_interfaces_request.py
    # l.38: InstanceId is the instance the disk or ENI is attached to.
    for action, id_attribute, attached in (
        ("DescribeDisks", "disk_id", "d-bp1test00000"),
        ("DescribeNetworkInterfaces", "network_interface_id", "eni-bp1test00000"),
    ):
        def by_instance(action=action, id_attribute=id_attribute, attached=attached):
            found = [getattr(i, id_attribute) for i in listed(action, instance_id=INSTANCES[0])]
            equal(found, [attached], f"{action} InstanceId={INSTANCES[0]}")
            return equal(listed(action, instance_id=INSTANCES[1]), [], f"{action} InstanceId={INSTANCES[1]}")

        check(f"{action} InstanceId lists what is attached", by_instance)

    def join(**fields):
        fields.setdefault("region_id", REGION)
        return ecs.join_resource_group(ecs_models.JoinResourceGroupRequest(**fields))

    moved = {"acs3": INSTANCES[117], "v2": INSTANCES[118], "sm3": INSTANCES[114]}[mode]
    # JoinResourceGroup doc, error codes (docs/sources/ecs-models.md §1).
    refused(
        "JoinResourceGroup ResourceType in the wrong case",
        lambda: join(resource_type="Instance", resource_id=moved, resource_group_id="rg-dev"),
        "InvalidResourceType.NotFound",
        404,
    )
    refused(
        "JoinResourceGroup without ResourceId",
        lambda: join(resource_type="instance", resource_group_id="rg-dev"),
        "MissingParameter",
        403,
    )

    def join_moves():
        join(resource_type="instance", resource_id=moved, resource_group_id="rg-dev")
        return equal(instances(instance_ids=json.dumps([moved])).body.instances.instance[0].resource_group_id, "rg-dev", "group")

    check("JoinResourceGroup moves the instance", join_moves)
    wrong = Ecs(config(endpoint, key_id, secret + "-wrong", mode))
    refused(
        "a wrong secret",
        lambda: wrong.describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION)),
        "SignatureDoesNotMatch",
        400,
    )

    # _list_resource_groups_request.py (2.6.2) l.23 and l.34 (fuzzy
    # DisplayName, Name), l.27-32 (IncludeTags), l.46 (ResourceGroupId),
    # l.64 (Tag).
    def groups(**fields):
        response = rm.list_resource_groups(rm_models.ListResourceGroupsRequest(**fields))
        return response.body.resource_groups.resource_group

    check("ListResourceGroups", lambda: equal(len(groups(page_size=100)), 4, "groups"))
    check(
        "ListResourceGroups ResourceGroupId filters",
        lambda: equal([g.id for g in groups(resource_group_id="rg-legacy")], ["rg-legacy"], "groups"),
    )
    check("ListResourceGroups Name is fuzzy", lambda: equal([g.id for g in groups(name="egac")], ["rg-legacy"], "groups"))
    check(
        "ListResourceGroups DisplayName is fuzzy",
        lambda: equal([g.id for g in groups(display_name="de")], ["rg-default", "rg-dev"], "groups"),
    )
    check(
        "ListResourceGroups IncludeTags returns Tags",
        lambda: equal([g.tags is not None for g in groups(include_tags=True)], [True] * 4, "Tags present"),
    )
    check(
        "ListResourceGroups Tag filters",
        lambda: equal(groups(tag=[rm_models.ListResourceGroupsRequestTag(key="team", value="x")]), [], "groups"),
    )
    # _get_resource_group_request.py l.17: IncludeTags returns Tags.
    check(
        "GetResourceGroup IncludeTags returns Tags",
        lambda: equal(
            rm.get_resource_group(rm_models.GetResourceGroupRequest(resource_group_id="rg-prod", include_tags=True)).body.resource_group.tags is not None,
            True,
            "Tags present",
        ),
    )
    check(
        "GetResourceGroup",
        lambda: equal(rm.get_resource_group(rm_models.GetResourceGroupRequest(resource_group_id="rg-prod")).body.resource_group.name, "prod", "name"),
    )

    run_auto_grouping(check, rm)

    # alibabacloud_quotas20200510 _list_product_quotas_request.py: ProductCode required.
    def product_quotas():
        response = quotas.list_product_quotas(
            quota_models.ListProductQuotasRequest(product_code="ecs", quota_category="FlowControl", max_results=10)
        )
        return equal(isinstance(response.body.total_count, int), True, "TotalCount is a number")

    check("ListProductQuotas", product_quotas)

    # GetCallerIdentity answers for the key that signed (under ACS3 only
    # in Authorization: … Credential=).
    def caller():
        body = sts.get_caller_identity().body
        return equal((body.identity_type, body.account_id), ("RAMUser", ACCOUNT), "IdentityType, AccountId")

    check("GetCallerIdentity", caller)
    session = "t" * 39
    issued = {}

    def assume():
        # _assume_role_request.py l.17-21 and l.55.
        body = sts.assume_role(
            sts_models.AssumeRoleRequest(role_arn=ROLE_ARN, role_session_name=session, duration_seconds=7200)
        ).body
        expires = datetime.datetime.strptime(body.credentials.expiration, "%Y-%m-%dT%H:%M:%SZ")
        left = (expires - datetime.datetime.utcnow()).total_seconds()
        if not 7000 < left <= 7200:
            raise AssertionError(f"DurationSeconds=7200 gave a key for {left} s")
        issued.update(body.credentials.to_map())
        return equal(body.assumed_role_user.arn, f"{ROLE_ARN}/{session}", "Arn")

    check("AssumeRole with a 39-character session name for 7200 s", assume)

    def sts_error_host():
        try:
            sts.assume_role(sts_models.AssumeRoleRequest(role_arn=ROLE_ARN, role_session_name="t"))
        except Exception as error:
            # tests/fixtures/api/sts_error_generic.json: HostId sts.aliyuncs.com.
            equal((error.code, error.data.get("HostId")), ("InvalidParameter.RoleSessionName", "sts.aliyuncs.com"), "code, HostId")
            return "refused by sts.aliyuncs.com"
        raise AssertionError("a 1-character session name was accepted")

    check("AssumeRole refuses a 1-character session name, HostId of STS", sts_error_host)

    def with_sts_key():
        token = issued["SecurityToken"]
        sts_key = Sts(config(endpoint, issued["AccessKeyId"], issued["AccessKeySecret"], mode, token))
        body = sts_key.get_caller_identity().body
        equal(body.identity_type, "AssumedRoleUser", "IdentityType")
        ecs_key = Ecs(config(endpoint, issued["AccessKeyId"], issued["AccessKeySecret"], mode, token))
        listed = ecs_key.describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION))
        return equal(len(ids(listed)), 10, "instances listed with the STS key")

    check("an STS key calls GetCallerIdentity and DescribeInstances", with_sts_key)
    run_oidc(check, checks, endpoint, key_id, secret, mode)


def run_auto_grouping(check, rm):
    """The auto-grouping reads regroup makes (alibabacloud_resourcemanager20200331
    2.6.2); the fleet has auto grouping on, associated transfer on and the
    two custom rules of checks.py."""

    # _get_auto_grouping_status_response_body.py l.14-23: a boolean and one
    # of Enabling, Enable, Partial_Enable, Disable.
    def status():
        body = rm.get_auto_grouping_status().body
        equal(isinstance(body.enable_existed_resources_transfer, bool), True, "EnableExistedResourcesTransfer is a boolean")
        return equal(body.enable_status, "Enable", "EnableStatus")

    check("GetAutoGroupingStatus", status)

    def rules(**fields):
        body = rm.list_auto_grouping_rules(rm_models.ListAutoGroupingRulesRequest(**fields)).body
        return body, [r.rule_id for r in body.rules]

    every = [rule_id for rule_id, _ in RULES]
    check("ListAutoGroupingRules", lambda: equal(rules()[1], every, "rules"))
    # _list_auto_grouping_rules_request.py l.21 (RuleId), l.23 (RuleName),
    # l.27 (RuleType: custom_condition or associated_transfer).
    check("ListAutoGroupingRules RuleId filters", lambda: equal(rules(rule_id=RULES[1][0])[1], [RULES[1][0]], "rules"))
    check("ListAutoGroupingRules RuleName filters", lambda: equal(rules(rule_name=RULES[0][1])[1], [RULES[0][0]], "rules"))
    check(
        "ListAutoGroupingRules RuleType filters",
        lambda: equal((rules(rule_type="custom_condition")[1], rules(rule_type="associated_transfer")[1]), (every, []), "rules"),
    )

    # l.17 (MaxResults 1 to 50) and l.19 (NextToken): one rule a page.
    def walk():
        seen, token = [], None
        for _ in range(5):
            body, found = rules(max_results=1, next_token=token)
            equal(len(found), 1, "rules on a page")
            seen += found
            token = body.next_token
            if not token:
                break
        return equal(seen, every, "every rule once")

    check("ListAutoGroupingRules MaxResults=1 pages by NextToken", walk)

    # _list_associated_transfer_setting_response_body.py l.63-70 and
    # l.127-139: Status Enable or Disable; the instance's disks follow it
    # (docs/sources/resourcemanager-rules.md §2.2).
    def associated():
        setting = rm.list_associated_transfer_setting().body.associated_transfer_setting
        equal(setting.status, "Enable", "Status")
        follows = [(r.master_resource_type, r.associated_resource_type) for r in setting.rule_settings if r.status == "Enable"]
        return equal(("instance", "disk") in follows, True, f"an instance's disks follow it in {follows}")

    check("ListAssociatedTransferSetting", associated)


def run_oidc(check, checks, endpoint, key_id, secret, mode):
    """AssumeRoleWithOIDC: an anonymous call (the SDK signs nothing, so the
    client needs no key) trading the fleet's OIDC token for an STS key
    (alibabacloud_sts20150401 1.2.0 `_assume_role_with_oidcrequest.py`)."""
    anonymous = Sts(config(endpoint, None, None, mode))

    def oidc(**fields):
        fields = {"role_arn": ROLE_ARN, "oidcprovider_arn": OIDC_PROVIDER_ARN, "oidctoken": OIDC_TOKEN, **fields}
        return anonymous.assume_role_with_oidc(sts_models.AssumeRoleWithOIDCRequest(**fields)).body

    def trade():
        session = f"oidc-{mode}"
        body = oidc(role_session_name=session, duration_seconds=900)
        # l.17-22: DurationSeconds from 900; the key lives that long.
        expires = datetime.datetime.strptime(body.credentials.expiration, "%Y-%m-%dT%H:%M:%SZ")
        left = (expires - datetime.datetime.utcnow()).total_seconds()
        if not 800 < left <= 900:
            raise AssertionError(f"DurationSeconds=900 gave a key for {left} s")
        equal(body.assumed_role_user.arn, f"{ROLE_ARN}/{session}", "Arn")
        key = body.credentials
        caller = Sts(config(endpoint, key.access_key_id, key.access_key_secret, mode, key.security_token))
        return equal(caller.get_caller_identity().body.identity_type, "AssumedRoleUser", "IdentityType of the key")

    check("AssumeRoleWithOIDC trades the token for a working STS key", trade)

    # l.50-57: RoleSessionName is 2 to 64 characters (AssumeRole's code).
    checks.refused(
        f"{mode}: AssumeRoleWithOIDC refuses a 1-character session name",
        lambda: oidc(role_session_name="t"),
        "InvalidParameter.RoleSessionName",
        400,
    )

    def unknown_token():
        try:
            oidc(oidctoken="not-a-token-the-fleet-lists")
        except Exception as error:  # no source gives the code: any refusal
            return f"refused: {getattr(error, 'code', error)}"
        raise AssertionError("an unknown OIDC token was traded for a key")

    check("AssumeRoleWithOIDC refuses an unknown token", unknown_token)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
