"""The approval API's stage logging never creates the account-wide API Gateway role unless asked to.

`AWS::ApiGateway::Account` is one setting per account and region: a platform that creates it overwrites
whatever role the account had (and a second platform would fight over it). CDK's recommended flag
`@aws-cdk/aws-apigateway:disableCloudWatchRole` stops the implicit creation; `platform.api_gateway_logging`
makes the choice explicit.
"""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from bluegreen.approval_gate import ApprovalGate
from bluegreen.audit_table import DeploymentAuditTable
from bluegreen.config.model import ApiGatewayLogging
from tests.synth_support import cdk_json_context


def gate_template(logging: ApiGatewayLogging) -> dict:
    stack = cdk.Stack(cdk.App(context=cdk_json_context()), "Gate", env=cdk.Environment(region="eu-west-1"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    layer = lambda_.LayerVersion.from_layer_version_arn(stack, "Layer", "arn:aws:lambda:eu-west-1:111122223333:layer:rt:1")
    ApprovalGate(stack, "Gate", platform_name="p", audit=DeploymentAuditTable(stack, "Audit", table_name="p-d"),
                 layer=layer, logs_key=kms.Key(stack, "Key"), vpc=vpc,
                 security_group=ec2.SecurityGroup(stack, "Sg", vpc=vpc), api_logging=logging)
    return Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def templates() -> dict[ApiGatewayLogging, dict]:
    return {mode: gate_template(mode) for mode in ApiGatewayLogging}


def of_type(template: dict, type_name: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == type_name]


def apigateway_roles(template: dict) -> list[dict]:
    return [r for r in of_type(template, "AWS::IAM::Role")
            if "apigateway.amazonaws.com" in str(r["Properties"]["AssumeRolePolicyDocument"])]


def test_default_is_off_and_creates_no_account_singleton(templates):
    assert ApiGatewayLogging("off") is ApiGatewayLogging.OFF
    template = templates[ApiGatewayLogging.OFF]
    assert of_type(template, "AWS::ApiGateway::Account") == []
    assert apigateway_roles(template) == []
    (stage,) = of_type(template, "AWS::ApiGateway::Stage")
    assert "AccessLogSetting" not in stage["Properties"]
    assert all("LoggingLevel" not in setting for setting in stage["Properties"]["MethodSettings"])
    # Throttling stays on whatever the logging mode.
    assert stage["Properties"]["MethodSettings"][0]["ThrottlingRateLimit"] == 10
    assert stage["Properties"]["MethodSettings"][0]["ThrottlingBurstLimit"] == 20


def test_existing_account_role_logs_without_creating_the_singleton(templates):
    template = templates[ApiGatewayLogging.ACCOUNT_ROLE_EXISTS]
    assert of_type(template, "AWS::ApiGateway::Account") == []
    assert apigateway_roles(template) == []
    (stage,) = of_type(template, "AWS::ApiGateway::Stage")
    assert stage["Properties"]["MethodSettings"][0]["LoggingLevel"] == "ERROR"
    assert stage["Properties"]["MethodSettings"][0]["DataTraceEnabled"] is False
    assert "DestinationArn" in stage["Properties"]["AccessLogSetting"]


def test_create_account_role_only_when_asked_and_retained(templates):
    template = templates[ApiGatewayLogging.CREATE_ACCOUNT_ROLE]
    (account,) = of_type(template, "AWS::ApiGateway::Account")
    (role,) = apigateway_roles(template)
    assert role["DeletionPolicy"] == "Retain" and account["DeletionPolicy"] == "Retain"
    Template.from_json(template).has_resource_properties("AWS::ApiGateway::Stage", {
        "MethodSettings": [Match.object_like({"LoggingLevel": "ERROR"})]})
