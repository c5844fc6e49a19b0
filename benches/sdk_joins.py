"""The peer of the regime benchmarks: the joins a script around the official
Python SDK (aliyun-python-sdk-core, RPC style, its default retry policy)
makes with 16 threads, as a hand-written bulk move would.

Usage: sdk_joins.py HOST PORT KEY_ID SECRET < moves
where each line of `moves` is `REGION TYPE ID GROUP`. Prints one JSON line:
{"moved": n, "failed": n, "throttled": n, "wall_s": x}. A join the server
refuses is counted failed (and throttled when its code says so): the SDK
retries only the APIs its retry_config.json lists, and JoinResourceGroup is
not one of them, so such a change is lost.
"""

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

THREADS = 16


def main(host, port, key_id, secret):
    moves = [line.split() for line in sys.stdin if line.strip()]
    local = threading.local()
    counts = {"moved": 0, "failed": 0, "throttled": 0}
    lock = threading.Lock()

    def join(move):
        region, rtype, rid, group = move
        if not hasattr(local, "client"):
            local.client = AcsClient(key_id, secret, region, port=int(port))
        request = CommonRequest(
            domain=host, version="2014-05-26", action_name="JoinResourceGroup"
        )
        request.set_protocol_type("http")
        request.add_query_param("RegionId", region)
        request.add_query_param("ResourceType", rtype)
        request.add_query_param("ResourceId", rid)
        request.add_query_param("ResourceGroupId", group)
        outcome = "moved"
        try:
            local.client.do_action_with_exception(request)
        except ServerException as error:
            outcome = "throttled" if error.get_error_code().startswith("Throttling") else "failed"
            with lock:
                counts.setdefault("first_error", str(error))
        with lock:
            counts["moved" if outcome == "moved" else "failed"] += 1
            if outcome == "throttled":
                counts["throttled"] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(join, moves))
    counts["wall_s"] = time.monotonic() - started
    if "first_error" in counts:
        print(counts["first_error"], file=sys.stderr)
    print(json.dumps(counts))


if __name__ == "__main__":
    main(*sys.argv[1:5])
