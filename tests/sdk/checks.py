"""The bookkeeping every conformance script shares: run named checks, print
one line per check (`ok NAME: detail` or `FAIL NAME: why`), and exit 1 when
any failed. The fleet the scripts expect is built by tests/cli/conformance.rs
(FLEET below names what they rely on)."""

import sys

# The fleet of tests/cli/conformance.rs, region cn-hangzhou: 120 instances
# i-bp1test00000 … i-bp1test00119 named `<id>-name`, in the default group
# rg-default; security groups sg-bp1test00000 and sg-bp1test00001; three
# resources of every other type; groups
# rg-default (default), rg-prod (prod), rg-legacy (legacy), rg-dev (dev);
# the account 1234567890123456. Every resource is named `<id>-name`. The
# instance i-bp1test00000 has the disk d-bp1test00000 and the ENI
# eni-bp1test00000 attached. Auto grouping is on, with associated transfer,
# and two custom rules (RULES: id, name); AssumeRoleWithOIDC accepts
# OIDC_TOKEN for ROLE_ARN from OIDC_PROVIDER_ARN.
REGION = "cn-hangzhou"
INSTANCES = [f"i-bp1test{n:05}" for n in range(120)]
SECURITY_GROUPS = ["sg-bp1test00000", "sg-bp1test00001"]
ACCOUNT = "1234567890123456"
ROLE_ARN = f"acs:ram::{ACCOUNT}:role/conformance"
OIDC_PROVIDER_ARN = f"acs:ram::{ACCOUNT}:oidc-provider/conformance"
OIDC_TOKEN = "conformance-oidc-token"
RULES = [("gr-conformance1", "first rule"), ("gr-conformance2", "second rule")]


class Checks:
    def __init__(self):
        self.failed = []

    def check(self, name, run):
        """`run()` returns a detail to print, or raises."""
        try:
            detail = run()
        except Exception as error:  # any failure of the check, SDK's or ours
            self.failed.append(name)
            print(f"FAIL {name}: {type(error).__name__}: {error}", flush=True)
        else:
            print(f"ok {name}: {detail}", flush=True)

    def refused(self, name, run, code, status=None, code_of=None, status_of=None):
        """`run()` must raise the SDK's error with `code` (and `status`)."""

        def expect():
            try:
                run()
            except Exception as error:
                got = code_of(error) if code_of else getattr(error, "code", None)
                got_status = status_of(error) if status_of else getattr(error, "statusCode", None)
                if got != code:
                    raise AssertionError(f"expected {code}, got {got!r}: {error}")
                if status is not None and got_status != status:
                    raise AssertionError(f"expected HTTP {status}, got {got_status!r}: {error}")
                return f"{got} (HTTP {got_status})"
            raise AssertionError(f"expected {code}, but the call succeeded")

        self.check(name, expect)

    def in_mode(self, mode):
        """`check` and `refused` whose names start with `MODE: `."""

        def check(name, run):
            self.check(f"{mode}: {name}", run)

        def refused(name, run, code, status=None):
            self.refused(f"{mode}: {name}", run, code, status)

        return check, refused

    def finish(self):
        if self.failed:
            print(f"FAILED {len(self.failed)}: {', '.join(self.failed)}", flush=True)
            sys.exit(1)
        print("ALL OK", flush=True)


def run_modes(modes, run_mode, endpoint, key_id, secret):
    """Runs `run_mode(checks, endpoint, key_id, secret, mode)` for each mode,
    then finishes."""
    checks = Checks()
    for mode in modes:
        run_mode(checks, endpoint, key_id, secret, mode)
    checks.finish()


def equal(got, expected, what):
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")
    return f"{what} = {got!r}"
