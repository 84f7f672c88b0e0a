"""What a domain publishes for pipelines, hooks and operators: one JSON SSM parameter and stack outputs.

Its shape is the contract in docs/contracts.md (`schemaVersion` 1); `deployment_metadata` builds it as a plain
dict so producer/consumer tests feed the very same document to the hooks and `bgctl`.
"""
from __future__ import annotations

from typing import Any, Mapping

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from bluegreen.config.model import DomainSpec
from bluegreen.domain.task import APP_CONTAINER
from bluegreen.published import audit_table_name, cluster_name
from bluegreen.release_timing import worst_case_release_minutes

SCHEMA_VERSION = 1


def metadata_parameter_name(platform_name: str, domain: str) -> str:
    return f"/{platform_name}/domains/{domain}/deployment"


def deployment_metadata(*, platform_name: str, spec: DomainSpec, region: str, task_definition_arn: str,
                        prod_listener_arn: str, test_listener_arn: str, endpoint: str, test_endpoint: str,
                        hooks: Mapping[str, str], ecr_repository: str, task_role_arn: str, execution_role_arn: str,
                        feature_flags: Mapping[str, str]) -> dict[str, Any]:
    name = f"{platform_name}-{spec.name}"
    return {
        "schemaVersion": SCHEMA_VERSION, "platform": platform_name, "domain": spec.name, "region": region,
        "cluster": cluster_name(platform_name), "service": name, "taskDefinitionFamily": name,
        "taskDefinitionArn": task_definition_arn, "containerName": APP_CONTAINER,
        "containerPort": spec.container_port, "codeDeployApplication": name, "deploymentGroup": name,
        "prodListenerArn": prod_listener_arn, "testListenerArn": test_listener_arn,
        "targetGroups": [f"{name}-blue", f"{name}-green"], "endpoint": endpoint, "testEndpoint": test_endpoint,
        "hooks": {"AfterAllowTestTraffic": hooks.get("AfterAllowTestTraffic"),
                  "BeforeAllowTraffic": hooks.get("BeforeAllowTraffic")},
        "ecrRepository": ecr_repository, "taskRoleArn": task_role_arn, "executionRoleArn": execution_role_arn,
        "auditTable": audit_table_name(platform_name),
        "approval": {"required": spec.approval.required, "channel": spec.approval.channel,
                     "approverUserIds": list(spec.approval.approvers.user_ids),
                     "approverGroupIds": list(spec.approval.approvers.group_ids),
                     "expiryMinutes": spec.approval.expiry_minutes},
        "smokeChecks": [check.to_metadata() for check in spec.smoke_checks],
        "drain": {"policy": spec.drain.name, "deregistrationDelaySeconds": spec.drain.deregistration_delay_seconds,
                  "terminationWaitMinutes": spec.drain.termination_wait_minutes,
                  "maxSessionSeconds": spec.max_session_seconds},
        "featureFlags": dict(feature_flags),
        "traffic": {"style": spec.traffic.style, "deploymentConfig": spec.traffic.config_name(platform_name),
                    "shiftMinutes": spec.traffic.total_shift_minutes},
        "releaseBudgetMinutes": worst_case_release_minutes(spec),
    }


class DomainMetadata(Construct):
    """Attributes: `parameter` (SSM `/<platform>/domains/<domain>/deployment`), `document` (the dict)."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, spec: DomainSpec,
                 document: Mapping[str, Any], outputs: Mapping[str, tuple[str, str]]) -> None:
        super().__init__(scope, id)
        self.document = dict(document)
        self.parameter = ssm.StringParameter(
            self, "Parameter", parameter_name=metadata_parameter_name(platform_name, spec.name),
            string_value=Stack.of(self).to_json_string(self.document), tier=ssm.ParameterTier.STANDARD,
            description=f"{platform_name}-{spec.name}: everything a CodeDeploy deployment of this domain needs "
                        f"(schemaVersion {SCHEMA_VERSION})")
        for key, (value, description) in outputs.items():
            CfnOutput(self, key, value=value, description=f"{spec.name} {description}")
