"""The deployment audit table: approvals, smoke results and timeline threads, never pruned."""
from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge, logical_ref

BY_DOMAIN_INDEX = "byDomain"


class DeploymentAuditTable(Construct):
    """`pk`/`sk` items per deployment (see docs/contracts.md) plus GSI `byDomain` (domain, requestedAt).

    Encrypted, point-in-time recovery, deletion-protected, retained, no TTL. Attribute `table`.
    """

    def __init__(self, scope: Construct, id: str, *, table_name: str) -> None:
        super().__init__(scope, id)
        self.table = dynamodb.TableV2(
            self, "Table", table_name=table_name,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(), encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=True, removal_policy=RemovalPolicy.RETAIN,
            global_secondary_indexes=[dynamodb.GlobalSecondaryIndexPropsV2(
                index_name=BY_DOMAIN_INDEX,
                partition_key=dynamodb.Attribute(name="domain", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="requestedAt", type=dynamodb.AttributeType.STRING))])

    def grant_items(self, grantee: iam.IGrantable) -> None:
        """Read/write items and query the byDomain index (never delete the table)."""
        self.table.grant_read_write_data(grantee)
        acknowledge(grantee, Ack(
            f"AwsSolutions-IAM5[Resource::{logical_ref(self.table, 'Arn')}/index/*]",
            "Queries the audit table's byDomain index (approvals by domain and time); CDK grants index access "
            "as <table>/index/*."))
