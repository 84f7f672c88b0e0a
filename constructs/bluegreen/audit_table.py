"""The deployment audit table (append-only records, never pruned) and the timeline bookkeeping table.

Audit table (`<platform>-deployments`, docs/contracts.md): every approval fact is its own item, written
once with a conditional PutItem. Three layers keep it append-only:

1. identity policies: platform roles only get `dynamodb:PutItem` / `ConditionCheckItem` (conditional
   writes, transactions of them) and `GetItem` / `Query`, each scoped with `dynamodb:LeadingKeys` to
   their own key space (`DEPLOYMENT#*` approval records, `SMOKE#*` smoke results);
2. the table's resource policy denies UpdateItem, DeleteItem, BatchWriteItem, PartiQL writes and
   DeleteTable to every principal except the named break-glass role `<platform>-audit-breakglass`, and
   PutItem to every principal not tagged `bluegreen-audit-writer=<platform>` (the platform's Lambda
   roles), so even an administrator's credentials cannot rewrite a record without that role;
3. point-in-time recovery and deletion protection; the stream (NEW_IMAGE) feeds the decision worker.

What IAM cannot express: a tagged writer *could* PutItem without a condition over an existing key.
The platform code always sends `attribute_not_exists(pk)`; docs/approvals.md states the residual risk.
"""
from __future__ import annotations

from typing import Sequence

from aws_cdk import RemovalPolicy, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct


BY_DOMAIN_INDEX = "byDomain"
WRITER_TAG = "bluegreen-audit-writer"
#: approval records (registrar, request hook, callback, worker, expiry) and smoke results
APPROVAL_KEYS = "DEPLOYMENT#*"
SMOKE_KEYS = "SMOKE#*"
MUTATING_ACTIONS = ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                    "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert",
                    "dynamodb:DeleteTable", "dynamodb:RestoreTableFromBackup", "dynamodb:ImportTable")
APPEND_ACTIONS = ("dynamodb:PutItem", "dynamodb:ConditionCheckItem")
READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")


def breakglass_role_name(platform_name: str) -> str:
    return f"{platform_name}-audit-breakglass"


class DeploymentAuditTable(Construct):
    """`pk`/`sk` records per deployment plus GSI `byDomain` (domain, requestedAt). Attributes `table`,
    `breakglass_role_arn`. Grant with `grant_append` / `grant_read` (never read-write)."""

    def __init__(self, scope: Construct, id: str, *, table_name: str, platform_name: str | None = None) -> None:
        """`platform_name` defaults to the table name's prefix (`<platform>-deployments`)."""
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.platform_name = platform_name or table_name.split("-", 1)[0]
        self.breakglass_role_arn = (f"arn:{stack.partition}:iam::{stack.account}:role/"
                                    f"{breakglass_role_name(self.platform_name)}")
        self.table = _pk_sk_table(
            self, table_name, deletion_protection=True, dynamo_stream=dynamodb.StreamViewType.NEW_IMAGE,
            resource_policy=self._resource_policy(),
            global_secondary_indexes=[dynamodb.GlobalSecondaryIndexPropsV2(
                index_name=BY_DOMAIN_INDEX,
                partition_key=dynamodb.Attribute(name="domain", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="requestedAt", type=dynamodb.AttributeType.STRING))])

    def _resource_policy(self) -> iam.PolicyDocument:
        not_breakglass = {"ArnNotEquals": {"aws:PrincipalArn": self.breakglass_role_arn}}
        return iam.PolicyDocument(statements=[
            iam.PolicyStatement(
                sid="AppendOnlyNoUpdateOrDelete", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
                actions=list(MUTATING_ACTIONS), resources=["*"], conditions=not_breakglass),
            iam.PolicyStatement(
                sid="OnlyPlatformWritersAppend", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
                actions=list(APPEND_ACTIONS), resources=["*"],
                conditions={**not_breakglass,
                            "StringNotEquals": {f"aws:PrincipalTag/{WRITER_TAG}": self.platform_name}}),
        ])

    def grant_append(self, grantee: iam.IGrantable, *, leading_keys: Sequence[str]) -> None:
        """Conditional PutItem (and ConditionCheckItem, for transactions of puts) within `leading_keys`."""
        self._grant(grantee, APPEND_ACTIONS, leading_keys)
        role = grantee.grant_principal
        if isinstance(role, iam.Role):
            Tags.of(role).add(WRITER_TAG, self.platform_name)

    def grant_read(self, grantee: iam.IGrantable, *, leading_keys: Sequence[str]) -> None:
        """GetItem / Query within `leading_keys` (no index, no Scan)."""
        self._grant(grantee, READ_ACTIONS, leading_keys)

    def _grant(self, grantee: iam.IGrantable, actions: Sequence[str], leading_keys: Sequence[str]) -> None:
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            actions=list(actions), resources=[self.table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(leading_keys)}}))

    def grant_stream(self, grantee: iam.IGrantable) -> None:
        self.table.grant_stream_read(grantee)


class TimelineTable(Construct):
    """Bookkeeping of the Slack timeline threads (which thread, which events posted): not audit records, so
    kept out of the append-only table. Attribute `table`."""

    def __init__(self, scope: Construct, id: str, *, table_name: str) -> None:
        super().__init__(scope, id)
        self.table = _pk_sk_table(self, table_name)

    def grant_items(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            resources=[self.table.table_arn]))



def _pk_sk_table(scope: Construct, table_name: str, **extra: object) -> dynamodb.TableV2:
    """On-demand `pk`/`sk` table: encrypted, point-in-time recovery, retained."""
    return dynamodb.TableV2(
        scope, "Table", table_name=table_name,
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        billing=dynamodb.Billing.on_demand(), encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        removal_policy=RemovalPolicy.RETAIN, **extra)
