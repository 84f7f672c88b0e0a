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


def nag_arn(scope: IConstruct, service: str, resource: str) -> str:
    """Render an ARN the way cdk-nag prints it in granular IAM5 findings (unresolved parts as <AWS::...>)."""
    from aws_cdk import Stack, Token

    stack = Stack.of(scope)

    def part(value: str, pseudo: str) -> str:
        return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value

    return (f"arn:{part(stack.partition, 'Partition')}:{service}:{part(stack.region, 'Region')}:"
            f"{part(stack.account, 'AccountId')}:{resource}")


def nag_iam_arn(scope: IConstruct, resource: str) -> str:
    """An IAM ARN (no region) the way cdk-nag prints it in granular IAM5 findings."""
    from aws_cdk import Stack, Token

    stack = Stack.of(scope)
    partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    return f"arn:{partition}:iam::{account}:{resource}"


def acknowledge_wildcards(scope: IConstruct, *grants: tuple[str, str, str]) -> None:
    """IAM5 acknowledgments for (service, resource-with-wildcard, reason) grants, rendered as cdk-nag reports them."""
    acknowledge(scope, *[Ack(f"AwsSolutions-IAM5[Resource::{nag_arn(scope, service, resource)}]", reason)
                         for service, resource, reason in grants])


def logical_ref(construct: IConstruct, attribute: str) -> str:
    """`<LogicalId.Attribute>` as cdk-nag prints a Fn::GetAtt inside a finding id."""
    from aws_cdk import Stack

    default_child = construct.node.default_child or construct
    return f"<{Stack.of(construct).get_logical_id(default_child)}.{attribute}>"
