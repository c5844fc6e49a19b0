"""The emulator as the old Python SDK core sees it: `aliyun-python-sdk-core`
2.16.1 (RPC signature v1, HMAC-SHA1, with an `x-acs-action` header beside
it) and `aliyun-python-sdk-ecs` typed requests, plus `CommonRequest` GET and
POST (query and form body), JSON and XML answers.

Usage: conformance_core.py ENDPOINT KEY_ID SECRET   (ENDPOINT is host:port)
Expected values come from the SDK request/response models and the API docs,
cited per check; the fleet is checks.py's. One line per check; exit 1 on any
failure.
"""

import datetime
import json
import sys
import xml.etree.ElementTree as ET

from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from aliyunsdkecs.request.v20140526 import (
    DescribeInstancesRequest,
    DescribeSecurityGroupsRequest,
    JoinResourceGroupRequest,
)

from checks import INSTANCES, REGION, ROLE_ARN, RULES, SECURITY_GROUPS, Checks, equal

VERSIONS = {"ecs": "2014-05-26", "rm": "2020-03-31", "sts": "2015-04-01", "quotas": "2020-05-10"}


def code_of(error):
    return error.get_error_code() if isinstance(error, ServerException) else None


def status_of(error):
    return error.get_http_status() if isinstance(error, ServerException) else None


class Core:
    def __init__(self, endpoint, client):
        self.endpoint = endpoint
        self.client = client

    def typed(self, request):
        request.set_endpoint(self.endpoint)
        request.set_protocol_type("http")
        return json.loads(self.client.do_action_with_exception(request))

    def common(self, service, action, params, method="GET", body=False, accept="JSON"):
        request = CommonRequest(domain=self.endpoint, version=VERSIONS[service], action_name=action)
        request.set_method(method)
        request.set_protocol_type("http")
        for name, value in params.items():
            if body:
                request.add_body_params(name, value)
            else:
                request.add_query_param(name, value)
        if accept == "XML":
            request.set_accept_format("XML")
            status, _, answer = self.client.get_response(request)
            return status, answer
        return json.loads(self.client.do_action_with_exception(request))


def ids(answer):
    return [i["InstanceId"] for i in answer["Instances"]["Instance"]]


def client(key_id, secret):
    return AcsClient(key_id, secret, REGION, auto_retry=False, max_retry_time=0, timeout=20)


def main(endpoint, key_id, secret):
    checks = Checks()
    core = Core(endpoint, client(key_id, secret))
    refused = lambda name, run, code, status=None: checks.refused(  # noqa: E731
        name, run, code, status, code_of=code_of, status_of=status_of
    )

    def typed_instances(**fields):
        request = DescribeInstancesRequest.DescribeInstancesRequest()
        for name, value in fields.items():
            getattr(request, f"set_{name}")(value)
        return core.typed(request)

    # aliyunsdkecs DescribeInstancesRequest: POST, every parameter in the query.
    checks.check(
        "typed DescribeInstances by InstanceIds (POST, query)",
        lambda: equal(sorted(ids(typed_instances(InstanceIds=json.dumps(INSTANCES[:2])))), INSTANCES[:2], "ids"),
    )
    # alibabacloud_ecs20140526 _describe_instances_request.py l.140-145:
    # below 10 is 10, above 100 is 100.
    checks.check(
        "common GET MaxResults=5 is served as 10",
        lambda: equal(len(ids(core.common("ecs", "DescribeInstances", {"RegionId": REGION, "MaxResults": "5"}))), 10, "items"),
    )

    def max_101():
        answer = core.common("ecs", "DescribeInstances", {"RegionId": REGION, "MaxResults": "101"}, method="POST", body=True)
        if not answer.get("NextToken"):
            raise AssertionError(f"no NextToken with 120 instances: {answer.get('NextToken')!r}")
        return equal(len(ids(answer)), 100, "items")

    checks.check("common POST form body MaxResults=101 is served as 100", max_101)

    def second_page():
        first = core.common("ecs", "DescribeInstances", {"RegionId": REGION, "PageSize": "10", "PageNumber": "1"})
        second = core.common("ecs", "DescribeInstances", {"RegionId": REGION, "PageSize": "10", "PageNumber": "2"})
        # _describe_instances_response_body.py: PageNumber, PageSize, TotalCount.
        got = (second.get("PageNumber"), second.get("PageSize"), second.get("TotalCount"), "MaxResults" in second)
        equal(got, (2, 10, 120, False), "PageNumber, PageSize, TotalCount, MaxResults present")
        if set(ids(first)) & set(ids(second)) or len(ids(second)) != 10:
            raise AssertionError(f"page 2 {ids(second)} overlaps page 1 {ids(first)}")
        return "page 2 is the next 10"

    checks.check("PageNumber=2 of PageSize=10 is the second page", second_page)

    def walk():
        seen, token = [], None
        for _ in range(20):
            params = {"MaxResults": 50}
            if token:
                params["NextToken"] = token
            answer = typed_instances(**params)
            seen += ids(answer)
            token = answer.get("NextToken")
            if not token:
                break
        return equal(sorted(seen), INSTANCES, "every instance once")

    checks.check("NextToken walks every instance", walk)

    def xml_answer():
        status, body = core.common(
            "ecs", "DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps(INSTANCES[:3])}, accept="XML"
        )
        root = ET.fromstring(body)
        found = sorted(e.text for e in root.findall("./Instances/Instance/InstanceId"))
        return equal((status, root.tag, found), (200, "DescribeInstancesResponse", INSTANCES[:3]), "XML answer")

    checks.check("Format=XML answers <DescribeInstancesResponse>", xml_answer)
    # _describe_instances_request.py l.101: InstanceName, `*` a wildcard.
    checks.check(
        "InstanceName filters exactly",
        lambda: equal(ids(typed_instances(InstanceName=f"{INSTANCES[7]}-name")), [INSTANCES[7]], "ids"),
    )
    checks.check(
        "InstanceName takes a * wildcard",
        lambda: equal(sorted(ids(typed_instances(InstanceName="i-bp1test0001*", MaxResults=100))), INSTANCES[10:20], "ids"),
    )
    # _describe_instances_request.py l.175-182: Status filters.
    checks.check(
        "Status=Stopped lists no running instance",
        lambda: equal(ids(typed_instances(Status="Stopped")), [], "ids"),
    )
    checks.check(
        "an unknown id lists nothing",
        lambda: equal(ids(typed_instances(InstanceIds=json.dumps(["i-bp1unknown000"]))), [], "ids"),
    )

    def security_group_by_id():
        request = DescribeSecurityGroupsRequest.DescribeSecurityGroupsRequest()
        request.set_SecurityGroupId(SECURITY_GROUPS[1])
        answer = core.typed(request)
        found = [g["SecurityGroupId"] for g in answer["SecurityGroups"]["SecurityGroup"]]
        return equal(found, [SECURITY_GROUPS[1]], "security groups")

    # _describe_security_groups_request.py l.76: SecurityGroupId filters.
    checks.check("DescribeSecurityGroups SecurityGroupId filters", security_group_by_id)
    def join(**fields):
        request = JoinResourceGroupRequest.JoinResourceGroupRequest()
        for name, value in fields.items():
            getattr(request, f"set_{name}")(value)
        return core.typed(request)

    target = {"ResourceId": INSTANCES[119], "ResourceGroupId": "rg-prod"}
    # JoinResourceGroup doc, error codes (docs/sources/ecs-models.md §1);
    # ResourceType "These values are case-sensitive".
    refused(
        "JoinResourceGroup ResourceType in the wrong case",
        lambda: join(ResourceType="Instance", **target),
        "InvalidResourceType.NotFound",
        404,
    )
    refused(
        "JoinResourceGroup into an unknown group",
        lambda: join(ResourceType="instance", ResourceId=INSTANCES[119], ResourceGroupId="rg-unknown"),
        "InvalidResourceGroup.NotFound",
        404,
    )
    refused(
        "JoinResourceGroup of an unknown id",
        lambda: join(ResourceType="instance", ResourceId="i-bp1unknown000", ResourceGroupId="rg-prod"),
        "InvalidResourceId.NotFound",
        404,
    )

    def missing_resource_id():
        try:
            join(ResourceType="instance", ResourceGroupId="rg-prod")
        except ServerException as error:
            equal((error.get_error_code(), error.get_http_status()), ("MissingParameter", 403), "code, status")
            if '"ResourceId"' not in error.get_error_msg():
                raise AssertionError(f"the message does not name ResourceId: {error.get_error_msg()}")
            return error.get_error_msg()
        raise AssertionError("accepted without ResourceId")

    checks.check("JoinResourceGroup without ResourceId names it (403)", missing_resource_id)

    def join_moves():
        join(ResourceType="instance", **target)
        answer = typed_instances(InstanceIds=json.dumps([INSTANCES[119]]))
        return equal(answer["Instances"]["Instance"][0]["ResourceGroupId"], "rg-prod", "group")

    checks.check("typed JoinResourceGroup moves the instance", join_moves)

    wrong = Core(endpoint, client(key_id, secret + "-wrong"))
    # aliyunsdkcore client.py l.477-481: a SignatureDoesNotMatch whose
    # server string to sign (after the message's ':') equals the request's
    # own is reported as InvalidAccessKeySecret. A typed request keeps its
    # string to sign (request.py l.332); a CommonRequest wraps another
    # request and its own stays '' (request.py l.112), so the code passes.
    refused(
        "a wrong secret, typed request",
        lambda: wrong.typed(DescribeInstancesRequest.DescribeInstancesRequest()),
        "InvalidAccessKeySecret",
        400,
    )
    refused(
        "a wrong secret, CommonRequest",
        lambda: wrong.common("ecs", "DescribeInstances", {"RegionId": REGION}),
        "SignatureDoesNotMatch",
        400,
    )

    # alibabacloud_resourcemanager20200331 _list_resource_groups_request.py
    # l.34 (Name fuzzy), l.46 (ResourceGroupId).
    def groups(params):
        answer = core.common("rm", "ListResourceGroups", params)
        return sorted(g["Id"] for g in answer["ResourceGroups"]["ResourceGroup"])

    checks.check("ListResourceGroups ResourceGroupId filters", lambda: equal(groups({"ResourceGroupId": "rg-prod"}), ["rg-prod"], "groups"))
    checks.check("ListResourceGroups Name matches fuzzily", lambda: equal(groups({"Name": "ro"}), ["rg-prod"], "groups"))

    # alibabacloud_ecs20140526 _describe_disks_request.py l.129 (InstanceId:
    # the instance a disk is attached to; the fleet attaches d-bp1test00000
    # to the first instance, checks.py) and _describe_launch_templates_request.py
    # l.36 (LaunchTemplateName.N, exact names).
    checks.check(
        "common DescribeDisks InstanceId lists what is attached",
        lambda: equal(
            [d["DiskId"] for d in core.common("ecs", "DescribeDisks", {"RegionId": REGION, "InstanceId": INSTANCES[0]})["Disks"]["Disk"]],
            ["d-bp1test00000"],
            "disks",
        ),
    )

    def templates_by_name():
        params = {"RegionId": REGION, "LaunchTemplateName.1": "lt-bp1test00000-name", "LaunchTemplateName.2": "lt-bp1test00002-name"}
        answer = core.common("ecs", "DescribeLaunchTemplates", params, method="POST", body=True)
        found = [t["LaunchTemplateId"] for t in answer["LaunchTemplateSets"]["LaunchTemplateSet"]]
        return equal(found, ["lt-bp1test00000", "lt-bp1test00002"], "launch templates")

    checks.check("common DescribeLaunchTemplates LaunchTemplateName.N filters", templates_by_name)
    # alibabacloud_resourcemanager20200331 _list_auto_grouping_rules_request.py l.21.
    checks.check(
        "ListAutoGroupingRules RuleId filters",
        lambda: equal([r["RuleId"] for r in core.common("rm", "ListAutoGroupingRules", {"RuleId": RULES[1][0]})["Rules"]], [RULES[1][0]], "rules"),
    )

    # alibabacloud_sts20150401 _assume_role_request.py l.17-21 (up to the
    # role's MaxSessionDuration) and l.55 (2 to 64 characters).
    session = "s" * 39

    def assume():
        answer = core.common(
            "sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": session, "DurationSeconds": "7200"}, method="POST"
        )
        credentials = answer["Credentials"]
        expires = datetime.datetime.strptime(credentials["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
        left = (expires - datetime.datetime.utcnow()).total_seconds()
        if not 7000 < left <= 7200:
            raise AssertionError(f"DurationSeconds=7200 gave a key for {left} s")
        return credentials

    sts_credentials = {}
    checks.check(
        "AssumeRole with a 39-character session name for 7200 s",
        lambda: sts_credentials.update(assume()) or "issued",
    )
    refused(
        "AssumeRole with a 1-character session name",
        lambda: core.common("sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": "s"}),
        "InvalidParameter.RoleSessionName",
        400,
    )

    def with_sts_key():
        sts_client = AcsClient(
            credential=StsTokenCredential(
                sts_credentials["AccessKeyId"], sts_credentials["AccessKeySecret"], sts_credentials["SecurityToken"]
            ),
            region_id=REGION,
            auto_retry=False,
            max_retry_time=0,
        )
        sts_core = Core(endpoint, sts_client)
        who = sts_core.common("sts", "GetCallerIdentity", {})
        equal(who["IdentityType"], "AssumedRoleUser", "IdentityType")
        if not who["Arn"].endswith(f"/conformance/{session}"):
            raise AssertionError(f"Arn {who['Arn']}")
        listed = ids(sts_core.common("ecs", "DescribeInstances", {"RegionId": REGION}))
        return equal(len(listed), 10, "instances listed with the STS key")

    checks.check("an STS key calls GetCallerIdentity and DescribeInstances", with_sts_key)
    checks.check(
        "GetCallerIdentity for the account key",
        lambda: equal(core.common("sts", "GetCallerIdentity", {})["IdentityType"], "RAMUser", "IdentityType"),
    )
    checks.finish()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
