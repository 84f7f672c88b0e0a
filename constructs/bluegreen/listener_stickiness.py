"""Target-group stickiness on a production listener, set on its live forward action (never via the listener).

Listener properties in the template never change after create (an update would re-apply the forward-to-blue
action whichever colour is live). This custom resource of the platform's release provider reads the live
forward action and writes it back with the stickiness, keeping CodeDeploy's target groups and weights; it
refuses while a deployment shifts traffic (`lambdas/release_provider/release/stickiness.py`).
"""
from __future__ import annotations

from aws_cdk import CustomResource
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

RESOURCE_TYPE = "Custom::ProductionListenerStickiness"


class ListenerStickiness(Construct):
    """`seconds` None disables stickiness. Attribute `resource`."""

    def __init__(self, scope: Construct, id: str, *, service_token: str, listener: elbv2.IApplicationListener,
                 application_name: str, deployment_group_name: str, seconds: int | None) -> None:
        super().__init__(scope, id)
        self.resource = CustomResource(
            self, "Resource", service_token=service_token, resource_type=RESOURCE_TYPE,
            properties={"ListenerArn": listener.listener_arn, "ApplicationName": application_name,
                        "DeploymentGroupName": deployment_group_name,
                        "Enabled": "true" if seconds else "false", "DurationSeconds": str(seconds or 0)})
