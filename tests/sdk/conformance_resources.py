"""Resource Manager's ListResources and MoveResources and Resource Center's
GetResourceCenterServiceStatus and SearchResources as the official Python
Tea SDKs see them: `alibabacloud_resourcemanager20200331` 2.6.2 and
`alibabacloud_resourcecenter20221201` 1.6.1 on `alibabacloud_tea_openapi`
0.4.6, in their default mode (ACS3-HMAC-SHA256) and with
`signature_algorithm='v2'`.

Usage: conformance_resources.py ENDPOINT KEY_ID SECRET   (ENDPOINT is host:port)
Expected values come from the SDK models (field names, flat and wrapped
lists, `Status` SUCCESS/FAIL, `Count`), the MoveResources doc (10 per call,
the example's `NoPermission` / `No permissions`) and the SearchResources
pages (filters ANDed, values ORed, NextToken absent on the last page);
docs/sources/resourcemanager-services.md cites each. The fleet is the one
of tests/cli/conformance.rs's `services_fleet` (FLEET below). One line per
check, named with its mode; exit 1 on any failure.
"""

import re
import sys

from alibabacloud_resourcecenter20221201 import models as rc_models
from alibabacloud_resourcecenter20221201.client import Client as ResourceCenter
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as ResourceManager

from checks import REGION, equal, run_modes
from conformance_tea import config

# FLEET: the harness's groups rg-default (default), rg-prod, rg-legacy,
# rg-dev; in cn-hangzhou, 12 instances and 4 each of eip:eip,
# slb:loadbalancer, rds:dbinstance and oss:bucket, all in rg-default, the
# odd ones tagged team=odd and the even ones team=even; MoveResources fails
# for NO_PERMISSION with NoPermission; Resource Center enabled.
INSTANCES = [f"i-bp1test{n:05}" for n in range(12)]
OTHERS = {
    ("eip", "eip"): [f"eip-bp1test{n:05}" for n in range(4)],
    ("slb", "loadbalancer"): [f"lb-bp1test{n:05}" for n in range(4)],
    ("rds", "dbinstance"): [f"rm-bp1test{n:05}" for n in range(4)],
    ("oss", "bucket"): [f"bucket-test-{n:05}" for n in range(4)],
}
NO_PERMISSION = OTHERS[("eip", "eip")][3]
EVERY = sorted(INSTANCES + [i for ids in OTHERS.values() for i in ids])


def main(endpoint, key_id, secret):
    run_modes(("acs3", "v2"), run_mode, endpoint, key_id, secret)


def run_mode(checks, endpoint, key_id, secret, mode):
    check, refused = checks.in_mode(mode)
    rm = ResourceManager(config(endpoint, key_id, secret, mode))
    rc = ResourceCenter(config(endpoint, key_id, secret, mode))

    def listed(**fields):
        return rm.list_resources(rm_models.ListResourcesRequest(**fields)).body

    def ids(body):
        return sorted(r.resource_id for r in body.resources.resource)

    # _list_resources_request.py l.31-34: PageSize 1 to 100.
    def everything():
        body = listed(page_size=100)
        equal(body.total_count, len(EVERY), "TotalCount")
        return equal(ids(body), EVERY, "every resource of every service")

    check("ListResources lists ECS and the other services", everything)

    def pages():
        seen = []
        for page in range(1, 8):
            body = listed(page_size=5, page_number=page)
            equal((body.page_number, body.page_size), (page, 5), "PageNumber, PageSize")
            seen += ids(body)
        return equal(sorted(seen), EVERY, "pages of 5 cover every resource once")

    check("ListResources PageSize=5 pages", pages)

    # l.45-73: complete ResourceTypes pairs, up to 50; l.23-26: Count=False
    # answers TotalCount -1 (the SDK sends `Count=False`).
    def by_pairs():
        pairs = [rm_models.ListResourcesRequestResourceTypes(service=s, resource_type=t) for s, t in (("eip", "eip"), ("oss", "bucket"))]
        body = listed(page_size=100, resource_types=pairs, count=False)
        equal(body.total_count, -1, "TotalCount with Count=False")
        return equal(ids(body), sorted(OTHERS[("eip", "eip")] + OTHERS[("oss", "bucket")]), "eips and buckets")

    check("ListResources ResourceTypes pairs and Count=False", by_pairs)

    # _list_resources_response_body.py l.136-151: the item's fields; the
    # doc's CreateDate example 2015-01-23T12:33:18Z (UTC).
    def item_fields():
        body = listed(service="slb", resource_type="loadbalancer", region=REGION, page_size=100)
        equal(ids(body), OTHERS[("slb", "loadbalancer")], "load balancers")
        # The last one, which no check moves.
        item = next(r for r in body.resources.resource if r.resource_id == OTHERS[("slb", "loadbalancer")][3])
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item.create_date or ""):
            raise AssertionError(f"CreateDate {item.create_date!r}")
        return equal((item.service, item.resource_type, item.region_id, item.resource_group_id), ("slb", "loadbalancer", REGION, "rg-default"), "fields")

    check("ListResources Service, ResourceType and Region filter", item_fields)
    check("ListResources ResourceId filters", lambda: equal(ids(listed(resource_id=INSTANCES[4])), [INSTANCES[4]], "ids"))
    refused("ListResources refuses PageSize=101", lambda: listed(page_size=101), "InvalidParameter", 400)

    def move(group, items):
        resources = [rm_models.MoveResourcesRequestResources(service=s, resource_type=t, resource_id=i, region_id=REGION) for s, t, i in items]
        return rm.move_resources(rm_models.MoveResourcesRequest(resource_group_id=group, resources=resources)).body

    # Each mode moves its own: index 0 in acs3, 1 in v2.
    n = {"acs3": 0, "v2": 1}[mode]
    items = [(s, t, ids_[n]) for (s, t), ids_ in OTHERS.items()] + [("ecs", "instance", INSTANCES[n])]

    # _move_resources_response_body.py l.21-54: flat Responses, Status
    # SUCCESS; ErrorCode only on failure.
    def moves_five():
        body = move("rg-prod", items)
        got = [(r.service, r.resource_type, r.resource_id, r.region_id, r.status, r.error_code) for r in body.responses]
        equal(got, [(s, t, i, REGION, "SUCCESS", None) for s, t, i in items], "Responses")
        in_prod = ids(listed(resource_group_id="rg-prod", page_size=100))
        return equal(sorted(i for _, _, i in items if i not in in_prod), [], "moved into rg-prod")

    check("MoveResources moves four services and an instance", moves_five)

    # The doc's example: FAIL, NoPermission, No permissions, in an HTTP 200.
    def mixed():
        body = move("rg-dev", [("eip", "eip", NO_PERMISSION), ("eip", "eip", OTHERS[("eip", "eip")][2])])
        got = [(r.resource_id, r.status, r.error_code, r.error_msg) for r in body.responses]
        equal(got, [(NO_PERMISSION, "FAIL", "NoPermission", "No permissions"), (OTHERS[("eip", "eip")][2], "SUCCESS", None, None)], "Responses")
        return equal(ids(listed(resource_id=NO_PERMISSION, resource_group_id="rg-dev")), [], "the failed one stayed")

    check("MoveResources answers SUCCESS and FAIL in one call", mixed)
    # _move_resources_request.py l.20-22: at most 10 a call (the code is
    # the emulator's choice: no source gives it).
    eleven = [("ecs", "instance", i) for i in INSTANCES[:11]]
    refused("MoveResources refuses 11 resources", lambda: move("rg-dev", eleven), "LimitExceeded.Resources", 400)
    check("MoveResources takes 10", lambda: equal(len(move("rg-legacy", eleven[:10]).responses), 10, "Responses"))

    # _get_resource_center_service_status_response_body.py l.7-25.
    def status():
        body = rc.get_resource_center_service_status().body
        return equal((body.service_status, body.initial_status), ("Enabled", "Finished"), "ServiceStatus, InitialStatus")

    check("GetResourceCenterServiceStatus", status)

    def search(**fields):
        return rc.search_resources(rc_models.SearchResourcesRequest(**fields)).body

    # _search_resources_request.py: Filter.N.{Key,MatchType,Value.M},
    # MaxResults, NextToken; the response's flat Resources with names and
    # tags (_search_resources_response_body.py l.108-138).
    def buckets():
        wanted = [rc_models.SearchResourcesRequestFilter(key="ResourceType", match_type="Equals", value=["ACS::OSS::Bucket"])]
        seen, token, tags = [], None, {}
        for _ in range(5):
            body = search(filter=wanted, max_results=3, next_token=token)
            equal(body.filters[0].values, ["ACS::OSS::Bucket"], "the filter's echo")
            for r in body.resources:
                seen.append(r.resource_id)
                tags[r.resource_id] = [(t.key, t.value) for t in r.tags]
                equal((r.resource_type, r.resource_name), ("ACS::OSS::Bucket", f"{r.resource_id}-name"), "type and name")
            token = body.next_token
            if not token:
                break
        equal(sorted(seen), OTHERS[("oss", "bucket")], "every bucket once over pages of 3")
        return equal(tags[OTHERS[("oss", "bucket")][1]], [("team", "odd")], "tags")

    check("SearchResources ResourceType filter pages by NextToken", buckets)

    def anded():
        wanted = [
            rc_models.SearchResourcesRequestFilter(key="ResourceType", value=["ACS::EIP::EipAddress", "ACS::SLB::LoadBalancer"]),
            rc_models.SearchResourcesRequestFilter(key="ResourceId", match_type="Prefix", value=["lb-"]),
        ]
        found = sorted(r.resource_id for r in search(filter=wanted, max_results=100).resources)
        return equal(found, OTHERS[("slb", "loadbalancer")], "load balancers only")

    check("SearchResources filters AND, values OR", anded)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
