"""GitHub OIDC deploy role: trust conditions and every scoped permission."""
from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from tests.synth_support import render, resources_of_type

DOMAINS = ["auth", "order", "payment", "voice"]


@pytest.fixture(scope="module")
def access(default_app) -> Template:
    return Template.from_json(default_app.template("-DeployAccess"))


@pytest.fixture(scope="module")
def statements(access) -> dict[str, dict]:
    (policy,) = resources_of_type(access.to_json(), "AWS::IAM::ManagedPolicy").values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def all_actions(statements) -> set[str]:
    return {a for s in statements.values() for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}


def test_oidc_provider_is_referenced_by_its_predictable_arn(access):
    """IAM allows one provider per URL per account: by default the stack references it, never creates it."""
    template = access.to_json()
    assert resources_of_type(template, "AWS::IAM::OIDCProvider") == {}
    assert not [r for r in template["Resources"].values() if r["Type"].startswith("Custom::AWSCDKOpenIdConnect")]
    (role,) = resources_of_type(template, "AWS::IAM::Role").values()
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert render(statement["Principal"]["Federated"]) == (
        "arn:aws:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com")


def test_oidc_provider_created_only_on_request(tmp_path):
    import aws_cdk as cdk

    from bluegreen.config.model import GithubDeploySpec
    from stacks.deploy_access_stack import DeployAccessStack

    app = cdk.App()
    stack = DeployAccessStack(app, "Access", platform_name="p", deployers=[GithubDeploySpec(repository="o/r")],
                              existing_provider_arn=None, audit_table_name="p-deployments", create_provider=True,
                              env=cdk.Environment(region="eu-west-1"))
    Template.from_stack(stack).has_resource_properties("AWS::IAM::OIDCProvider", {
        "Url": "https://token.actions.githubusercontent.com", "ClientIdList": ["sts.amazonaws.com"]})


def test_trust_only_the_configured_repository_and_branch(access):
    (role,) = resources_of_type(access.to_json(), "AWS::IAM::Role").values()
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub":
                       ["repo:example-org/domain-services:ref:refs/heads/main",
                        *[f"repo:example-org/domain-services:environment:{d}"
                          for d in ("auth", "order", "payment", "voice")]]}}


def test_registers_only_the_platform_families(statements):
    resources = json.dumps(statements["RegisterPlatformTaskDefinitions"]["Resource"])
    assert "task-definition/bluegreen-*:*" in resources
    assert statements["TagOnlyWhileRegistering"]["Condition"] == {
        "StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}


def test_passes_only_the_domains_task_and_execution_roles(statements, default_app):
    statement = statements["PassOnlyDomainRoles"]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    rendered = json.dumps(statement["Resource"])
    assert ":role/bluegreen-*-task" in rendered and ":role/bluegreen-*-execution" in rendered
    assert len(statement["Resource"]) == 2
    # ...and the domains' roles really carry those names.
    for domain in DOMAINS:
        roles = {r["Properties"].get("RoleName") for r in resources_of_type(
            default_app.template(f"-Domain-{domain}"), "AWS::IAM::Role").values()}
        assert {f"bluegreen-{domain}-task", f"bluegreen-{domain}-execution"} <= roles


def test_starts_deployments_only_through_the_deploy_api(statements):
    resources = json.dumps(statements["FollowAndStopDeployments"]["Resource"])
    assert "deploymentgroup:bluegreen-*/bluegreen-*" in resources
    assert "codedeploy:CreateDeployment" not in all_actions(statements)
    start = statements["StartDeploymentsThroughTheDeployApi"]
    assert start["Action"] == "execute-api:Invoke"
    assert start["Resource"] == {"Fn::Join": ["", ["arn:aws:execute-api:eu-west-1:", {"Ref": "AWS::AccountId"},
                                                   ":*/v1/POST/deployments"]]}


def test_sessions_last_twelve_hours(access):
    (role,) = resources_of_type(access.to_json(), "AWS::IAM::Role").values()
    assert role["Properties"]["MaxSessionDuration"] == 43200


def test_pushes_only_to_domain_repositories(statements):
    assert "repository/bluegreen/*" in json.dumps(statements["PushDomainImages"]["Resource"])
    assert statements["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"


def test_policy_size_does_not_grow_with_domains(access):
    (policy,) = resources_of_type(access.to_json(), "AWS::IAM::ManagedPolicy").values()
    assert "auth" not in json.dumps(policy["Properties"]["PolicyDocument"])


def test_reads_published_parameters_and_audit_trail_only(statements):
    assert "parameter/bluegreen/*" in json.dumps(statements["ReadPublishedMetadata"]["Resource"])
    assert set(statements["ReadAuditTrail"]["Action"]) == {"dynamodb:BatchGetItem", "dynamodb:Query"}


def test_can_never_bypass_codedeploy_or_approve_its_own_release(statements):
    actions = all_actions(statements)
    assert not {"ecs:UpdateService", "ecs:CreateService", "codedeploy:PutLifecycleEventHookExecutionStatus",
                "codedeploy:CreateDeployment", "dynamodb:UpdateItem", "dynamodb:PutItem", "iam:*", "ecs:*",
                "codedeploy:*", "execute-api:*"} & actions


def test_role_arn_is_an_output_for_the_repository_variable_not_an_export(access):
    """Nothing imports it; an export would only pin the value against future changes."""
    outputs = [o for o in access.to_json()["Outputs"].values() if "AWS_DEPLOY_ROLE_ARN" in o["Description"]]
    assert len(outputs) == 1 and "Export" not in outputs[0]
