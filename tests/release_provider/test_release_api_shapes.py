"""The release provider's AWS calls, checked against the real botocore service models (Stubber validates every
request parameter and response shape), so a renamed or misspelled field fails here and not in CloudFormation."""
from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from fakes import FakeCodeDeploy, FakeDeployApi
from release import resources

REGION = "eu-west-1"
ACCOUNT = "111122223333"
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/p-shop"
LISTENER = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/p-internal/0123456789abcdef/0123456789abcdef"
GREEN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/p-shop-green/0123456789abcdef"


def client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def task_definition(revision: int, image: str) -> dict:
    return {"taskDefinitionArn": f"{TD}:{revision}", "family": "p-shop", "revision": revision, "cpu": "256",
            "memory": "512", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/p-shop-task",
            "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/p-shop-execution",
            "containerDefinitions": [{"name": "app", "image": image, "essential": True,
                                      "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                                      "environment": [{"name": "FEATURE_X", "value": "on"}]}]}


def trigger_props(revision: int) -> dict:
    return {"Domain": "shop", "StackName": "P-Domain-shop", "ApplicationName": "p-shop",
            "DeploymentGroupName": "p-shop", "ClusterName": "p-cluster", "ServiceName": "p-shop",
            "TaskDefinitionArn": f"{TD}:{revision}", "ContainerName": "app", "ContainerPort": "8080",
            "ConfigImage": "repo/shop:1", "Hooks": {}, "WaitBudgetMinutes": "50", "Last": "true"}


def test_trigger_calls_match_the_service_models():
    codedeploy, ecs = client("codedeploy"), client("ecs")
    with Stubber(codedeploy) as cd, Stubber(ecs) as es:
        cd.add_response("list_deployments", {"deployments": []},
                        {"applicationName": "p-shop", "deploymentGroupName": "p-shop"})
        cd.add_response("list_deployments", {"deployments": []},
                        {"applicationName": "p-shop", "deploymentGroupName": "p-shop",
                         "includeOnlyStatuses": ["Created", "Queued", "InProgress", "Baking", "Ready"]})
        es.add_response("describe_services", {"services": [{"serviceName": "p-shop", "taskDefinition": "p-shop",
                                                            "taskSets": [{"status": "PRIMARY",
                                                                          "taskDefinition": f"{TD}:5"}]}]},
                        {"cluster": "p-cluster", "services": ["p-shop"]})
        es.add_response("describe_task_definition", {"taskDefinition": task_definition(5, "repo/shop:9")},
                        {"taskDefinition": f"{TD}:5"})
        running = task_definition(6, "repo/shop:1")
        running["containerDefinitions"][0]["environment"] = [{"name": "FEATURE_X", "value": "off"}]
        es.add_response("describe_task_definition", {"taskDefinition": running}, {"taskDefinition": f"{TD}:6"})
        registered = task_definition(6, "repo/shop:9")
        registered["containerDefinitions"][0]["environment"] = [{"name": "FEATURE_X", "value": "off"}]
        es.add_response("register_task_definition", {"taskDefinition": task_definition(7, "repo/shop:9")},
                        {key: registered[key] for key in ("family", "taskRoleArn", "executionRoleArn", "networkMode",
                                                         "containerDefinitions", "requiresCompatibilities", "cpu",
                                                         "memory")})
        event = {"RequestType": "Update", "ResourceType": "Custom::CodeDeployBlueGreenDeployment",
                 "ResourceProperties": trigger_props(6), "OldResourceProperties": trigger_props(1),
                 "PhysicalResourceId": "p-shop/p-shop"}
        api = FakeDeployApi(FakeCodeDeploy())
        result = resources.on_event(event, {"codedeploy": codedeploy, "ecs": ecs, "deploy_api": api}.__getitem__, 0.0)
        cd.assert_no_pending_responses()
        es.assert_no_pending_responses()
    assert result["Data"]["DeploymentId"] == "d-000000001" and result["Data"]["TaskDefinitionArn"] == f"{TD}:7"
    assert [c["task_definition_arn"] for c in api.calls] == [f"{TD}:7"]


def test_stickiness_and_config_calls_match_the_service_models():
    elbv2, codedeploy = client("elbv2"), client("codedeploy")
    with Stubber(elbv2) as elb, Stubber(codedeploy) as cd:
        elb.add_response("describe_listeners", {"Listeners": [{"ListenerArn": LISTENER, "DefaultActions": [
            {"Type": "forward", "TargetGroupArn": GREEN}]}]}, {"ListenerArns": [LISTENER]})
        cd.add_response("list_deployments", {"deployments": []}, {
            "applicationName": "p-shop", "deploymentGroupName": "p-shop",
            "includeOnlyStatuses": ["Created", "Queued", "InProgress", "Baking", "Ready"]})
        elb.add_response("modify_listener", {"Listeners": []}, {"ListenerArn": LISTENER, "DefaultActions": [
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": GREEN, "Weight": 1}],
                                                  "TargetGroupStickinessConfig": {"Enabled": True,
                                                                                  "DurationSeconds": 360}}}]})
        resources.on_event({"RequestType": "Create", "ResourceType": "Custom::ProductionListenerStickiness",
                            "ResourceProperties": {"ListenerArn": LISTENER, "ApplicationName": "p-shop",
                                                   "DeploymentGroupName": "p-shop", "Enabled": "true",
                                                   "DurationSeconds": "360"}},
                           {"elbv2": elbv2, "codedeploy": codedeploy}.__getitem__, 0.0)
        cd.add_client_error("get_deployment_config", "DeploymentConfigDoesNotExistException",
                            expected_params={"deploymentConfigName": "p-ECSCanary25Percent3Minutes"})
        cd.add_response("create_deployment_config", {"deploymentConfigId": "abc"}, {
            "deploymentConfigName": "p-ECSCanary25Percent3Minutes", "computePlatform": "ECS",
            "trafficRoutingConfig": {"type": "TimeBasedCanary",
                                     "timeBasedCanary": {"canaryPercentage": 25, "canaryInterval": 3}}})
        resources.on_event({"RequestType": "Create", "ResourceType": "Custom::SharedEcsDeploymentConfig",
                            "ResourceProperties": {"Name": "p-ECSCanary25Percent3Minutes", "Style": "canary",
                                                   "Percentage": "25", "IntervalMinutes": "3"}},
                           {"codedeploy": codedeploy}.__getitem__, 0.0)
        elb.assert_no_pending_responses()
        cd.assert_no_pending_responses()


def test_the_registrar_writes_the_appspec_version_as_aws_documents_it():
    """The deploy API builds every AppSpec (the release trigger never does): version "0.0" is a string."""
    import importlib.util
    import json
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "lambdas" / "deploy_api" / "registrar.py"
    spec = importlib.util.spec_from_file_location("registrar_for_appspec", path)
    registrar = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = registrar  # dataclasses look their module up while the class is built
    spec.loader.exec_module(registrar)
    content = json.loads(registrar.appspec({"containerName": "app", "containerPort": 8080,
                                            "hooks": {"BeforeAllowTraffic": "arn:b", "AfterAllowTestTraffic": "arn:a"}},
                                           f"{TD}:7"))
    assert content["version"] == "0.0"
    assert content["Hooks"] == [{"AfterAllowTestTraffic": "arn:a"}, {"BeforeAllowTraffic": "arn:b"}]
    assert content["Resources"][0]["TargetService"]["Properties"] == {
        "TaskDefinition": f"{TD}:7", "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080}}
