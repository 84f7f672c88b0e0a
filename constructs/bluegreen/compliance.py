"""cdk-nag 3.x wiring and a small helper that keeps every acknowledgment next to its resource.

Acknowledgments are granular (`AwsSolutions-IAM5[Resource::...]` where the rule supports it) and
always carry a reason saying why the finding is acceptable and what production would do.
Every call is also recorded in `ACKNOWLEDGMENTS` so the docs table can be generated and checked.
"""
from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


@dataclass(frozen=True)
class Ack:
    rule: str
    reason: str


def acknowledge(scope: IConstruct, *acks: Ack) -> None:
    """Acknowledge cdk-nag findings on `scope` (and, as cdk-nag applies it, its children)."""
    for ack in acks:
        if len(ack.reason) < 40:
            raise ValueError(f"acknowledgment {ack.rule} needs a real reason, got {ack.reason!r}")
        Validations.of(scope).acknowledge(Acknowledgment(id=validation_id(ack.rule), reason=ack.reason))


def validation_id(rule: str) -> str:
    """cdk-nag 3 reports findings as `<pack>::<rule>`; packs are named by the rule id's prefix."""
    pack = rule.split("-", 1)[0]
    return f"{pack}::{rule}"


def add_nag_packs(app: IConstruct, *, hipaa: bool) -> None:
    """AwsSolutions always; HIPAA Security too when the config serves TLS."""
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    if hipaa:
        Validations.of(app).add_plugins(HIPAASecurityChecks(app))


INLINE_POLICY_REASON = (
    "CDK renders least-privilege grants as the role's own inline policy, scoped to this construct's resources; "
    "a customer-managed policy would be a second resource with the same statements and no extra control.")


def acknowledge_inline_policy(scope: IConstruct) -> None:
    """HIPAA IAMNoInlinePolicy on CDK-generated, resource-scoped default policies."""
    acknowledge(scope, Ack("HIPAA.Security-IAMNoInlinePolicy", INLINE_POLICY_REASON))
