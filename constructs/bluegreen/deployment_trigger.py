"""Start a CodeDeploy blue/green deployment when CloudFormation registers a new task-definition revision.

With the CODE_DEPLOY controller the ECS service names only the task-definition family, so a changed
image/env/cpu in config registers a new revision and would otherwise do nothing. This custom
resource calls CreateDeployment with an AppSpec naming the new revision (and the domain's hooks)
whenever that revision changes. It does nothing on create: the new service already runs revision 1.
It returns once CodeDeploy accepted the deployment; the deployment itself (test checks, approval,
shift, drain) continues after the stack update finishes, as with `bgctl deploy`.
"""
from __future__ import annotations

from typing import Mapping

from aws_cdk import Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge, acknowledge_inline_policy

PROVIDER_LAMBDA_HIPAA_ACKS = (
    Ack("HIPAA.Security-LambdaConcurrency",
        "CloudFormation invokes this provider once per stack operation; reserving concurrency would only take "
        "capacity from the account pool."),
    Ack("HIPAA.Security-LambdaDLQ",
        "Invoked synchronously by CloudFormation, which records and surfaces every failure as a stack event; "
        "there is no asynchronous event to dead-letter."),
    Ack("HIPAA.Security-CloudWatchLogGroupEncrypted",
        "The provider's CDK-managed log group holds only CodeDeploy request/response summaries (application, "
        "group and deployment ids), no health data; it is encrypted at rest by CloudWatch Logs' service key."),
    Ack("HIPAA.Security-LambdaInsideVPC",
        "Calls only the CodeDeploy API and handles no health data; placing it in the VPC adds NAT dependency "
        "without reducing exposure."),
)

# The construct id CDK gives the AwsCustomResource singleton provider function in each stack.
_SINGLETON_ID = "AWS679f53fac002430cb0da5b7982bd2287"


def appspec(*, task_definition_arn: str, container_name: str, container_port: int,
            hooks: Mapping[str, str]) -> dict:
    """The ECS AppSpec CodeDeploy needs (hooks are Lambda ARNs keyed by lifecycle event)."""
    return {
        "version": 0.0,
        "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
            "TaskDefinition": task_definition_arn,
            "LoadBalancerInfo": {"ContainerName": container_name, "ContainerPort": container_port},
        }}}],
        "Hooks": [{event: arn} for event, arn in sorted(hooks.items())],
    }


class DeploymentTrigger(Construct):
    """Calls CreateDeployment on every change of `task_definition`'s revision (not on create)."""

    def __init__(self, scope: Construct, id: str, *, application_name: str, deployment_group_name: str,
                 deployment_config_name: str, task_definition: ecs.TaskDefinition, container_name: str,
                 container_port: int, hooks: Mapping[str, str], image: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        content = stack.to_json_string(appspec(task_definition_arn=task_definition.task_definition_arn,
                                               container_name=container_name, container_port=container_port,
                                               hooks=hooks))
        arn = f"arn:{stack.partition}:codedeploy:{stack.region}:{stack.account}"
        self.resource = cr.AwsCustomResource(
            self, "CreateDeployment",
            resource_type="Custom::CodeDeployBlueGreenDeployment",
            # Create: the new service already runs this revision; only read the group (no deployment).
            on_create=cr.AwsSdkCall(
                service="CodeDeploy", action="getDeploymentGroup",
                parameters={"applicationName": application_name, "deploymentGroupName": deployment_group_name},
                physical_resource_id=cr.PhysicalResourceId.of(f"{application_name}/{deployment_group_name}/initial"),
                output_paths=["deploymentGroupInfo.deploymentGroupName"],
            ),
            on_update=cr.AwsSdkCall(
                service="CodeDeploy", action="createDeployment",
                parameters={
                    "applicationName": application_name,
                    "deploymentGroupName": deployment_group_name,
                    "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}},
                    "description": f"cdk deploy of {image} | requester=cloudformation:{stack.stack_name} "
                                   f"image={image} source=cdk",
                },
                physical_resource_id=cr.PhysicalResourceId.from_response("deploymentId"),
                output_paths=["deploymentId"],
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements([
                iam.PolicyStatement(actions=["codedeploy:CreateDeployment", "codedeploy:GetDeploymentGroup"],
                                    resources=[f"{arn}:deploymentgroup:{application_name}/{deployment_group_name}"]),
                iam.PolicyStatement(actions=["codedeploy:GetApplicationRevision",
                                             "codedeploy:RegisterApplicationRevision"],
                                    resources=[f"{arn}:application:{application_name}"]),
                iam.PolicyStatement(actions=["codedeploy:GetDeploymentConfig"],
                                    resources=[f"{arn}:deploymentconfig:{deployment_config_name}"]),
            ]),
            install_latest_aws_sdk=False,
        )
        acknowledge_inline_policy(self.resource)
        provider = stack.node.try_find_child(_SINGLETON_ID)
        if provider is not None:
            acknowledge(provider, *PROVIDER_LAMBDA_HIPAA_ACKS, Ack(
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "CDK's AwsCustomResource provider only needs to write its own logs; the managed basic-execution "
                "policy grants exactly that. Its CodeDeploy permissions are scoped to this deployment group."))
