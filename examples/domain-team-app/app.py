#!/usr/bin/env python3
"""A domain team's own CDK app: the `shop` domain on the deployed default platform `bluegreen`.

It builds exactly what the platform's own app builds for a domain with the same spec: the same gates
(smoke checks at AfterAllowTestTraffic, approval at BeforeAllowTraffic), rollback alarms, drain policy, feature
flags, release trigger and published metadata, and the same cdk-nag checks. Nothing is looked up at synth: the
platform's values are read from SSM when CloudFormation deploys the stack. See docs/library.md.
"""
from __future__ import annotations

import os
import sys

# jsii's Node end-of-life banner would otherwise print on every cdk command (as the platform's app.py does).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402

from bluegreen.compliance import add_nag_packs  # noqa: E402
from bluegreen.config.errors import ConfigError  # noqa: E402
from bluegreen.config.loader import parse_domain_spec  # noqa: E402
from bluegreen.domain_stack import DomainServiceStack, domain_stack_name  # noqa: E402
from bluegreen.handles import PlatformHandles  # noqa: E402

PLATFORM = "bluegreen"
REGION = "eu-west-1"

# The same keys as a block under `domains:` of the platform's config (docs/configuration.md). Ports 8084/9084
# are free on the platform's `internal` ALB group (`/bluegreen/platform` in SSM lists the ports in use).
SHOP = {
    "alb_group": "internal", "port": 8084, "test_port": 9084,
    "image": "docker.io/jmalloc/echo-server:v0.3.7",
    "traffic": {"style": "canary", "percentage": 10, "interval_minutes": 5},
    "approval": {"required": True, "channel": "C0SHOP", "approvers": {"users": ["U0SHOPLEAD"]}},
    "smoke_checks": [{"name": "list-products", "path": "/v1/products", "latency_budget_ms": 1000}],
}


def main() -> int:
    app = cdk.App()
    platform = PlatformHandles.attach(PLATFORM)
    try:
        shop = parse_domain_spec("shop", SHOP, alb_groups=platform.alb_groups, source="app.py")
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    DomainServiceStack(app, domain_stack_name(PLATFORM, "shop"), spec=shop, platform=platform,
                       env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT") or None, region=REGION))
    cdk.Tags.of(app).add("platform", PLATFORM, exclude_resource_types=["AWS::ElasticLoadBalancingV2::Listener"])
    add_nag_packs(app, hipaa=False)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
