"""AWS service limits the platform designs around (see DESIGN.md section 3)."""
from __future__ import annotations

LISTENERS_PER_ALB = 50
TARGET_GROUPS_PER_ALB = 100
LISTENERS_PER_DOMAIN = 2  # production + test
TARGET_GROUPS_PER_DOMAIN = 2  # blue + green
MAX_DOMAINS_PER_ALB = min(LISTENERS_PER_ALB // LISTENERS_PER_DOMAIN, TARGET_GROUPS_PER_ALB // TARGET_GROUPS_PER_DOMAIN)
INBOUND_RULES_PER_SECURITY_GROUP = 60  # default VPC quota; each domain opens 2 + len(client_cidrs) rules
MAX_ALARMS_PER_DEPLOYMENT_GROUP = 10
# One limit for config validation, the request hook and the docs (bgruntime.approval_limits): 50 min plus
# the expiry's 5-minute retry window stays before CodeDeploy's 60-minute hook deadline.
from bgruntime.approval_limits import MAX_APPROVAL_EXPIRY_MINUTES  # noqa: E402
CFN_MAX_RESOURCES_PER_STACK = 500
CFN_WARN_RESOURCES_PER_STACK = 400
CFN_MAX_OUTPUTS_PER_STACK = 200
SSM_STANDARD_PARAMETER_MAX_BYTES = 4096

FARGATE_CPU_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
MAX_PUBLISHED_SMOKE_CHECKS_BYTES = 1400  # keeps a domain's metadata (~2.7 KB otherwise) in a Standard parameter


def domains_per_load_balancer(client_cidr_count: int, test_client_cidr_count: int = 0) -> int:
    """Listener/target-group quota, or the ALB security group's inbound-rule quota when client ranges
    add rules: every domain opens its prod port to the VPC and each client range, its test port to the
    platform's smoke-check hook (by security group) and each test client range."""
    rules_per_domain = 2 + client_cidr_count + test_client_cidr_count
    return min(MAX_DOMAINS_PER_ALB, INBOUND_RULES_PER_SECURITY_GROUP // rules_per_domain)
