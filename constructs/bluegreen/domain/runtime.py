"""The domain's Fargate service, under CodeDeploy's control."""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from bluegreen.config.model import DomainSpec


class DomainRuntime(Construct):
    """A Fargate service with the CODE_DEPLOY deployment controller that names only the task-definition family
    (`TaskDefinition: <family>`, latest revision at create): CloudFormation never changes what it runs; only
    CodeDeploy creates task sets. Tasks sit in private subnets; only the ALB reaches the container port.

    Its `LoadBalancers` (container, port, blue target group) are fixed at create: ECS refuses to change them for
    a CODE_DEPLOY service. Attributes: `service`, `security_group`.
    """

    def __init__(self, scope: Construct, id: str, *, platform_name: str, spec: DomainSpec, cluster: ecs.ICluster,
                 vpc: ec2.IVpc, task_definition: ecs.FargateTaskDefinition,
                 blue_target_group: elbv2.IApplicationTargetGroup) -> None:
        super().__init__(scope, id)
        name = f"{platform_name}-{spec.name}"
        self.security_group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=True,
                                                description=f"{name} tasks: only the ALB reaches the container port")
        self.service = ecs.FargateService(
            self, "Service", cluster=cluster, service_name=name, task_definition=task_definition,
            task_definition_revision=ecs.TaskDefinitionRevision.LATEST, desired_count=spec.desired_count,
            deployment_controller=ecs.DeploymentController(type=ecs.DeploymentControllerType.CODE_DEPLOY),
            security_groups=[self.security_group], assign_public_ip=False,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            health_check_grace_period=Duration.seconds(60), min_healthy_percent=100, max_healthy_percent=200,
            propagate_tags=ecs.PropagatedTagSource.SERVICE, enable_ecs_managed_tags=True)
        # Also opens the container port to the load balancer's security group (and only to it).
        self.service.attach_to_application_target_group(blue_target_group)
