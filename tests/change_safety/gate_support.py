"""Small handcrafted cloud assemblies for the classifier's unit tests (no CDK involved)."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from bgctl.change_safety.assembly import read_assembly
from bgctl.change_safety.classify import compare
from bgctl.change_safety.model import Change, Report

from bgctl.change_safety.rules import (DEPLOYMENT_GROUP, LISTENER, SERVICE, TARGET_GROUP,  # noqa: F401 (re-exported)
                                      TASK_DEFINITION, TRIGGER)


def resource(type_name: str, properties: dict[str, Any] | None = None, **attributes: Any) -> dict[str, Any]:
    return {"Type": type_name, "Properties": properties or {}, **attributes}


def template(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Resources": resources}
    if outputs:
        body["Outputs"] = outputs
    return body


def write_assembly(directory: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}
    for name, body in stacks.items():
        (directory / f"{name}.template.json").write_text(json.dumps(body))
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/eu-west-1",
                           "properties": {"templateFile": f"{name}.template.json"}}
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return directory


def classify_pair(tmp_path: Path, base: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]],
                  **options: Any) -> Report:
    return compare(read_assembly(write_assembly(tmp_path / "base", base)),
                   read_assembly(write_assembly(tmp_path / "new", new)), **options)


def one_stack(tmp_path: Path, base: dict[str, Any], new: dict[str, Any]) -> Report:
    return classify_pair(tmp_path, {"App": template(base)}, {"App": template(new)})


def change(report: Report, logical_id: str) -> Change:
    found = [c for s in report.stacks for c in s.changes if c.logical_id == logical_id]
    assert len(found) == 1, f"{logical_id}: {[(c.logical_id, c.verdict.label) for s in report.stacks for c in s.changes]}"
    return found[0]


def changed(resources: dict[str, Any], logical_id: str, **properties: Any) -> dict[str, Any]:
    """A deep copy of `resources` with properties of one resource replaced (None removes a property)."""
    result = copy.deepcopy(resources)
    props = result[logical_id]["Properties"]
    for key, value in properties.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return result


# A domain as the platform builds it, reduced to what the rules look at.
DOMAIN: dict[str, Any] = {
    "Blue": resource(TARGET_GROUP, {"Name": "p-order-blue", "Port": 8080, "Protocol": "HTTP", "TargetType": "ip",
                                    "VpcId": "vpc-1", "HealthCheckPath": "/health",
                                    "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds",
                                                               "Value": "60"}]}),
    "Green": resource(TARGET_GROUP, {"Name": "p-order-green", "Port": 8080, "Protocol": "HTTP", "TargetType": "ip",
                                     "VpcId": "vpc-1", "HealthCheckPath": "/health"}),
    "Prod": resource(LISTENER, {"LoadBalancerArn": "arn:lb", "Port": 8082, "Protocol": "HTTP",
                                "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Blue"}}]}),
    "TaskDef": resource(TASK_DEFINITION, {"Family": "p-order", "Cpu": "512", "Memory": "1024",
                                          "ContainerDefinitions": [{"Name": "app", "Image": "nginx:1.27"}]}),
    "Service": resource(SERVICE, {"ServiceName": "p-order", "Cluster": "c", "TaskDefinition": "p-order",
                                  "DesiredCount": 2, "DeploymentController": {"Type": "CODE_DEPLOY"},
                                  "LoadBalancers": [{"ContainerName": "app", "ContainerPort": 8080,
                                                     "TargetGroupArn": {"Ref": "Blue"}}],
                                  "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ["subnet-1"]}}}),
    "Trigger": resource(TRIGGER, {"ServiceToken": "arn:fn", "TaskDefinitionArn": {"Ref": "TaskDef"},
                                  "ConfigImage": "nginx:1.27", "Hooks": {"AfterAllowTestTraffic": "arn:smoke"}}),
    "Group": resource(DEPLOYMENT_GROUP, {"ApplicationName": {"Ref": "App"}, "DeploymentGroupName": "p-order",
                                         "DeploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
                                         "LoadBalancerInfo": {"TargetGroupPairInfoList": [{"TargetGroups": [
                                             {"Name": {"Fn::GetAtt": ["Blue", "TargetGroupName"]}},
                                             {"Name": {"Fn::GetAtt": ["Green", "TargetGroupName"]}}]}]},
                                         "BlueGreenDeploymentConfiguration": {"TerminateBlueInstancesOnDeploymentSuccess": {
                                             "Action": "TERMINATE", "TerminationWaitTimeInMinutes": 6}}}),
    "App": resource("AWS::CodeDeploy::Application", {"ApplicationName": "p-order", "ComputePlatform": "ECS"}),
}
