"""Walks the emulator's Resource Directory with the official Tea SDKs, default
settings (signature V3), as a platform team's script would: list the members
from the management account, assume ResourceDirectoryAccountAccessRole into
each, and read each member's resource groups with the member's keys.

Needs `alibabacloud_resourcedirectorymaster20220419`,
`alibabacloud_sts20150401` and `alibabacloud_resourcemanager20200331`
(pinned by tests/cli/resource_directory.rs).

Usage: resource_directory.py ENDPOINT KEY_ID SECRET
(ENDPOINT is host:port of the emulator, served over plain http; the key is a
RAM user's of the management account.)
Prints one line per check, members in the order ListAccounts gives them;
exits 1 on any failure.
"""

import sys

from alibabacloud_resourcedirectorymaster20220419 import models as rd_models
from alibabacloud_resourcedirectorymaster20220419.client import Client as DirectoryClient
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as ManagerClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi import utils_models as open_api_models

ROLE = "ResourceDirectoryAccountAccessRole"
# Bounds every paged loop: the fleets this runs against are small.
MAX_PAGES = 50


def config(endpoint, key_id, secret, token=None):
    return open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
        endpoint=endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )


def error_of(call):
    """The (code, HTTP status) a call fails with; an AssertionError if it
    succeeds."""
    try:
        call()
    except Exception as error:  # the SDK's TeaException / ClientException
        status = getattr(error, "status_code", None) or getattr(error, "statusCode", None)
        return getattr(error, "code", None), status
    raise AssertionError("the call succeeded")


def members(directory):
    """Every member, two a page, as ListAccounts pages them."""
    found = []
    for page in range(1, MAX_PAGES + 1):
        body = directory.list_accounts(
            rd_models.ListAccountsRequest(page_number=page, page_size=2)
        ).body
        found.extend(body.accounts.account)
        if len(found) >= body.total_count:
            return found
    raise AssertionError(f"ListAccounts did not end within {MAX_PAGES} pages")


def main(endpoint, key_id, secret):
    directory = DirectoryClient(config(endpoint, key_id, secret))
    sts = StsClient(config(endpoint, key_id, secret))
    accounts = members(directory)
    print(f"ok ListAccounts: {len(accounts)} members")
    folders = directory.list_folders_for_parent(
        rd_models.ListFoldersForParentRequest()
    ).body.folders.folder
    for folder in folders:
        inside = directory.list_accounts_for_parent(
            rd_models.ListAccountsForParentRequest(parent_folder_id=folder.folder_id)
        ).body.accounts.account
        names = ",".join(a.display_name for a in inside)
        print(f"ok folder {folder.folder_name}: {names}")
    for account in accounts:
        path = account.resource_directory_path.split("/")
        if path[-1] != account.account_id or account.folder_id not in path:
            raise AssertionError(f"{account.account_id}: path {account.resource_directory_path}")
        arn = f"acs:ram::{account.account_id}:role/{ROLE}"
        request = sts_models.AssumeRoleRequest(role_arn=arn, role_session_name="sdk-walk")
        try:
            credentials = sts.assume_role(request).body.credentials
        except Exception as error:
            code = getattr(error, "code", None)
            print(f"ok {account.display_name}: AssumeRole refused with {code}")
            continue
        member_config = config(
            endpoint,
            credentials.access_key_id,
            credentials.access_key_secret,
            credentials.security_token,
        )
        identity = StsClient(member_config).get_caller_identity().body
        if identity.account_id != account.account_id:
            raise AssertionError(f"the member's keys act in {identity.account_id}")
        groups = ManagerClient(member_config).list_resource_groups(
            rm_models.ListResourceGroupsRequest(page_size=100)
        ).body.resource_groups.resource_group
        names = ",".join(sorted(g.name for g in groups))
        print(f"ok {account.display_name}: {identity.arn} sees groups {names}")
        member_directory = DirectoryClient(member_config)
        code, status = error_of(
            lambda: member_directory.list_accounts(rd_models.ListAccountsRequest())
        )
        if code != "EntityNotExists.ResourceDirectory" or status != 404:
            raise AssertionError(f"a member listing the directory got {code} ({status})")
    print("ok members may not list the directory: EntityNotExists.ResourceDirectory (HTTP 404)")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    try:
        main(*sys.argv[1:])
    except AssertionError as failure:
        print(f"FAIL {failure}")
        sys.exit(1)
