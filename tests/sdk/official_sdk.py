"""Calls the emulator with the official Alibaba Cloud Tea SDK, default
settings (signature V3, ACS3-HMAC-SHA256), as any other tool would.

Needs `alibabacloud_ecs20140526` (tested with 7.11.8 on
alibabacloud_tea_openapi 0.4.6):
    python3 -m venv /tmp/sdkvenv && /tmp/sdkvenv/bin/pip install alibabacloud_ecs20140526

Usage: official_sdk.py ENDPOINT KEY_ID SECRET REGION INSTANCE_ID GROUP_ID
(ENDPOINT is host:port of the emulator, served over plain http.)
Checks: DescribeInstances finds the instance; JoinResourceGroup moves it and
DescribeInstances then shows it in GROUP_ID; a wrong secret is refused with
SignatureDoesNotMatch. Prints one line per check; exits 1 on any failure.
"""

import json
import sys

from alibabacloud_ecs20140526 import models
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi import models as open_api_models


def client(endpoint, key_id, secret, region):
    return Client(
        open_api_models.Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=endpoint,
            protocol="http",
            region_id=region,
        )
    )


def group_of(ecs, region, instance_id):
    response = ecs.describe_instances(
        models.DescribeInstancesRequest(
            region_id=region, instance_ids=json.dumps([instance_id])
        )
    )
    instances = response.body.instances.instance
    if len(instances) != 1 or instances[0].instance_id != instance_id:
        raise AssertionError(f"DescribeInstances did not find {instance_id}: {instances}")
    return instances[0].resource_group_id


def main(endpoint, key_id, secret, region, instance_id, group_id):
    ecs = client(endpoint, key_id, secret, region)
    before = group_of(ecs, region, instance_id)
    print(f"ok DescribeInstances: {instance_id} is in {before}")
    ecs.join_resource_group(
        models.JoinResourceGroupRequest(
            region_id=region,
            resource_type="instance",
            resource_id=instance_id,
            resource_group_id=group_id,
        )
    )
    after = group_of(ecs, region, instance_id)
    if after != group_id:
        raise AssertionError(f"JoinResourceGroup answered but {instance_id} is in {after}")
    print(f"ok JoinResourceGroup: {instance_id} moved to {after}")
    wrong = client(endpoint, key_id, secret + "-wrong", region)
    try:
        group_of(wrong, region, instance_id)
    except Exception as error:  # the SDK's ClientException / TeaException
        code = getattr(error, "code", None)
        status = getattr(error, "status_code", None) or getattr(error, "statusCode", None)
        if code != "SignatureDoesNotMatch":
            raise AssertionError(f"a wrong secret got {code!r}: {error}")
        print(f"ok wrong secret: {code} (HTTP {status})")
    else:
        raise AssertionError("a wrong secret was accepted")


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    try:
        main(*sys.argv[1:])
    except Exception as error:
        print(f"FAILED: {type(error).__name__}: {error}")
        sys.exit(1)
