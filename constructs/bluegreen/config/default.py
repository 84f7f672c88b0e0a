"""The embedded default platform: three HTTP API domains and one WebSocket voice domain.

`cdk synth` with no `-c config=...` synthesizes exactly this. Every domain starts on a placeholder image
that really serves the configured port and health path (docs/images.md); pipelines then release the real
service (`services/`) with `bgctl deploy`.
"""
from __future__ import annotations

# Serves every path with 200 and upgrades any path to a WebSocket echo, on $PORT (the platform sets PORT to the
# container port): the first `cdk deploy` becomes healthy with no image pushed. See docs/images.md.
PLACEHOLDER_IMAGE = "docker.io/jmalloc/echo-server:v0.3.7"

_APPROVERS = {"users": ["U0PLATFORM1", "U0PLATFORM2"], "groups": ["S0RELEASERS"]}

DEFAULT_CONFIG: dict = {
    "platform": {
        "name": "bluegreen",
        "region": "eu-west-1",
        "vpc_cidr": "10.40.0.0/16",
        "hosted_zone": {"name": "bluegreen.internal"},
        "slack": {
            "notification_channel": "C0DEPLOYS",
            "identity_map": {"github:alice": "U0ALICE", "github:bob": "U0BOB"},
        },
        # The deploy workflow runs each domain's job in a GitHub environment named after the domain.
        "github": {"deployers": [{"repository": "example-org/domain-services", "branches": ["main"],
                                  "environments": ["auth", "order", "payment", "voice"]}]},
    },
    "alb_groups": {
        "internal": {"scheme": "internal", "protocol": "HTTP", "idle_timeout_seconds": 60},
        # WebSocket voice streams get their own load balancer: idle timeout is per ALB.
        "realtime": {"scheme": "internal", "protocol": "HTTP", "idle_timeout_seconds": 1900},
    },
    "domains": {
        "auth": {
            "alb_group": "internal", "port": 8081, "test_port": 9081,
            "image": PLACEHOLDER_IMAGE, "container_port": 8080,
            "health_check_path": "/health", "cpu": 256, "memory_mib": 512, "desired_count": 2,
            "traffic": {"style": "all_at_once"},
            "approval": {"required": False},
            "smoke_checks": [
                {"name": "issue-token", "method": "POST", "path": "/v1/tokens",
                 "headers": {"Content-Type": "application/json"}, "body": '{"client_id": "smoke"}',
                 "expect_status": 201, "expect_json": {"token_type": "Bearer"}, "latency_budget_ms": 800},
            ],
        },
        "order": {
            "alb_group": "internal", "port": 8082, "test_port": 9082,
            "image": PLACEHOLDER_IMAGE, "container_port": 8080,
            "health_check_path": "/health", "cpu": 512, "memory_mib": 1024, "desired_count": 2,
            "traffic": {"style": "canary", "percentage": 10, "interval_minutes": 5},
            "approval": {"required": True, "channel": "C0ORDERS", "approvers": _APPROVERS, "expiry_minutes": 45},
            "smoke_checks": [
                {"name": "create-order", "method": "POST", "path": "/v1/orders",
                 "headers": {"Content-Type": "application/json"}, "body": '{"sku": "SMOKE-1", "qty": 1}',
                 "expect_status": 201, "expect_json": {"status": "CREATED"}, "latency_budget_ms": 1500},
            ],
        },
        "payment": {
            "alb_group": "internal", "port": 8083, "test_port": 9083,
            "image": PLACEHOLDER_IMAGE, "container_port": 8080,
            "health_check_path": "/health", "cpu": 512, "memory_mib": 1024, "desired_count": 3,
            "traffic": {"style": "linear", "percentage": 20, "interval_minutes": 2},
            "approval": {"required": True, "channel": "C0PAYMENTS", "approvers": _APPROVERS, "expiry_minutes": 30},
            "alarms": {
                "custom": [
                    {"name": "failed-payments", "namespace": "Payments", "metric": "FailedPayments",
                     "threshold": 5, "statistic": "Sum", "period_seconds": 60, "evaluation_periods": 2},
                ],
            },
            "smoke_checks": [
                {"name": "authorize-payment", "method": "POST", "path": "/v1/payments/authorize",
                 "headers": {"Content-Type": "application/json"}, "body": '{"amount": 100, "currency": "EUR"}',
                 "expect_status": 200, "expect_json": {"result": "AUTHORIZED"}, "latency_budget_ms": 2000},
            ],
        },
        "voice": {
            "alb_group": "realtime", "port": 8443, "test_port": 9443,
            "image": PLACEHOLDER_IMAGE, "container_port": 8080,
            "health_check_path": "/health", "cpu": 1024, "memory_mib": 2048, "desired_count": 2,
            "protocol": "websocket", "max_session_seconds": 1800,
            "traffic": {"style": "canary", "percentage": 10, "interval_minutes": 15},
            "approval": {"required": True, "channel": "C0VOICE", "approvers": _APPROVERS, "expiry_minutes": 45},
            "smoke_checks": [
                {"name": "stream-handshake", "kind": "websocket", "path": "/v1/stream", "latency_budget_ms": 1500},
            ],
        },
    },
    "feature_flags": {
        "order": {
            "flags": [
                {"key": "one_page_checkout", "description": "One-page checkout, first for two pilot customers",
                 "default": False, "enabled_for_users": ["customer-1001", "customer-1002"],
                 "attributes": {"max_items": 50}},
                {"key": "order_history_v2", "description": "New order history page", "default": True},
            ],
        },
        "voice": {
            "rollout": {"growth_type": "EXPONENTIAL", "duration_minutes": 20, "growth_factor": 10,
                        "final_bake_minutes": 15},
            "flags": [{"key": "noise_suppression", "description": "Server-side noise suppression",
                       "default": False, "enabled_for_users": ["agent-7"]}],
        },
    },
}
