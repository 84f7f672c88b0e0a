"""bgruntime.deployments: description tokens, GetDeployment (+ ECS image), hook reporting."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

import approval_fakes as fx
from bgruntime.deployments import console_url, in_flight_deployments, load_deployment, \
    parse_description_tokens, report_hook_status


@pytest.mark.parametrize(("description", "tokens"), [
    ("Deploy auth image=x:v1 | requester=github:alice image=repo/auth:v2 source=bgctl",
     {"requester": "github:alice", "image": "repo/auth:v2", "source": "bgctl"}),
    ("| requester=ci", {"requester": "ci"}),
    ("fix a|b | requester=bob", {"requester": "bob"}),
    ("no tokens at all", {}),
    ("trailing |", {}),
    ("x | =novalue key= good=1 9bad=2 a=b=c", {"good": "1", "a": "b=c"}),
    ("", {}), (None, {}), (42, {}),
])
def test_parse_description_tokens(description, tokens):
    assert parse_description_tokens(description) == tokens


token_keys = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
token_values = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="|"),
                       min_size=1, max_size=30).filter(lambda v: not any(c.isspace() for c in v))


@given(free=st.text(max_size=60), tokens=st.dictionaries(token_keys, token_values, max_size=5))
def test_property_tokens_round_trip(free, tokens):
    description = free + " | " + " ".join(f"{k}={v}" for k, v in tokens.items())
    assert parse_description_tokens(description) == tokens


@given(st.text(max_size=300))
def test_property_parse_never_raises(text):
    assert isinstance(parse_description_tokens(text), dict)


def test_console_url():
    assert console_url("eu-west-1", "d-ABCDEFGHI") == (
        "https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABCDEFGHI?region=eu-west-1")


APPSPEC = {"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
    "TaskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/bluegreen-auth:1",
    "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080}}}}],
    "Hooks": [{"BeforeAllowTraffic": "CodeDeployHook_bluegreen_approval-request"}]}


def _deployment_info(**overrides):
    info = {"deploymentId": fx.DEPLOYMENT_ID, "applicationName": "bluegreen-auth", "deploymentGroupName": "bluegreen-auth",
            "status": "InProgress", "creator": "user", "createTime": datetime(2030, 5, 1, 11, 53, tzinfo=timezone.utc),
            "description": "Deploy auth | requester=github:alice image=repo/auth:token source=bgctl",
            "computePlatform": "ECS"}
    info.update(overrides)
    return {"deploymentInfo": info}


def test_load_deployment_takes_the_image_from_the_appspec_task_definition(aws):
    task_def = aws.ecs.register_task_definition(family="bluegreen-auth", containerDefinitions=[
        {"name": "appconfig-agent", "image": "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x", "memory": 128},
        {"name": "app", "image": fx.IMAGE, "memory": 512}])["taskDefinition"]["taskDefinitionArn"]
    appspec = json.loads(json.dumps(APPSPEC))
    appspec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"] = task_def
    codedeploy = boto3.client("codedeploy", region_name="eu-west-1")
    with Stubber(codedeploy) as stubber:
        stubber.add_response("get_deployment", _deployment_info(revision={
            "revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(appspec)}}),
            {"deploymentId": fx.DEPLOYMENT_ID})
        deployment = load_deployment(fx.DEPLOYMENT_ID, platform="bluegreen", codedeploy=codedeploy, ecs=aws.ecs)
    assert deployment.domain == "auth" and deployment.group == "bluegreen-auth"
    assert deployment.image == fx.IMAGE and deployment.task_definition_arn == task_def
    assert deployment.requester == "github:alice" and deployment.tokens["source"] == "bgctl"
    assert deployment.create_time == datetime(2030, 5, 1, 11, 53, tzinfo=timezone.utc)
    assert not deployment.finished


def test_load_deployment_yaml_appspec_and_fallbacks(aws):
    yaml_appspec = ("version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n"
                    "        TaskDefinition: \"arn:aws:ecs:eu-west-1:123456789012:task-definition/missing:9\"\n"
                    "        LoadBalancerInfo:\n          ContainerName: \"app\"\n          ContainerPort: 8080\n")
    codedeploy = boto3.client("codedeploy", region_name="eu-west-1")
    with Stubber(codedeploy) as stubber:
        stubber.add_response("get_deployment", _deployment_info(
            status="Stopped", description="rollback", creator="codeDeployRollback",
            revision={"revisionType": "String", "string": {"content": yaml_appspec}}))
        deployment = load_deployment(fx.DEPLOYMENT_ID, platform="bluegreen", codedeploy=codedeploy, ecs=aws.ecs)
    # the task definition does not exist in ECS: no image, no token -> None; requester falls back to creator
    assert deployment.task_definition_arn.endswith("task-definition/missing:9")
    assert deployment.image is None and deployment.requester == "codeDeployRollback" and deployment.finished


def test_load_deployment_without_appspec_uses_the_token(aws):
    codedeploy = boto3.client("codedeploy", region_name="eu-west-1")
    with Stubber(codedeploy) as stubber:
        stubber.add_response("get_deployment", _deployment_info(applicationName="other-app"))
        deployment = load_deployment(fx.DEPLOYMENT_ID, platform="bluegreen", codedeploy=codedeploy, ecs=aws.ecs)
    assert deployment.image == "repo/auth:token" and deployment.domain == "other-app"


@pytest.mark.parametrize(("error", "result"), [
    (None, "OK"),
    ("LifecycleEventAlreadyCompletedException", "LifecycleEventAlreadyCompleted"),
    ("DeploymentDoesNotExistException", "DeploymentDoesNotExist"),
    ("InvalidLifecycleEventHookExecutionIdException", "ERROR:InvalidLifecycleEventHookExecutionIdException"),
])
def test_report_hook_status(error, result):
    codedeploy = boto3.client("codedeploy", region_name="eu-west-1")
    with Stubber(codedeploy) as stubber:
        expected = {"deploymentId": fx.DEPLOYMENT_ID, "lifecycleEventHookExecutionId": fx.HOOK_ID, "status": "Succeeded"}
        if error:
            stubber.add_client_error("put_lifecycle_event_hook_execution_status", error, expected_params=expected)
        else:
            stubber.add_response("put_lifecycle_event_hook_execution_status",
                                 {"lifecycleEventHookExecutionId": fx.HOOK_ID}, expected)
        assert report_hook_status(codedeploy, fx.DEPLOYMENT_ID, fx.HOOK_ID, "Succeeded") == result


def test_report_hook_status_network_error_and_bad_status():
    class Down:
        def put_lifecycle_event_hook_execution_status(self, **_):
            raise TimeoutError("read timed out")

    assert report_hook_status(Down(), fx.DEPLOYMENT_ID, fx.HOOK_ID, "Failed") == "ERROR:TimeoutError"
    assert report_hook_status(Down(), fx.DEPLOYMENT_ID, "", "Failed") == "ERROR:MissingHookExecutionId"
    with pytest.raises(ValueError):
        report_hook_status(Down(), fx.DEPLOYMENT_ID, fx.HOOK_ID, "Approved")


def test_in_flight_deployments_lists_other_domains():
    fake = fx.FakeCodeDeploy()
    fake.add(fx.DEPLOYMENT_ID)
    fake.add("d-ORDER0001", domain="order", status="InProgress")
    fake.add("d-ORDER0002", domain="order", status="Succeeded")
    fake.add("d-PAYMENT01", domain="payment", status="Ready")
    found = in_flight_deployments(fake, platform="bluegreen", domains=["auth", "order", "payment", "voice"],
                                  exclude=fx.DEPLOYMENT_ID)
    assert [(d.domain, d.deployment_id, d.status) for d in found] == [
        ("order", "d-ORDER0001", "InProgress"), ("payment", "d-PAYMENT01", "Ready")]
