"""DomainService: one domain's Fargate service released blue/green by CodeDeploy.

From platform handles and a `DomainSpec` it builds: ECR repository, task definition (family
`<platform>-<domain>`, container `app`), Fargate service with the CODE_DEPLOY controller that names only
the task-definition family, blue/green target groups (drain policy), production + test listeners on
the domain's ports of its ALB, CodeDeploy application + deployment group (termination wait from the
drain policy, auto-rollback on failure, alarm and stop), rollback alarms over both target groups,
a Route 53 alias, a deployment trigger for config-driven changes, and the published metadata.
"""
from __future__ import annotations

from typing import Mapping

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge, acknowledge_inline_policy
from bluegreen.config.model import DomainSpec, ListenerProtocol
from bluegreen.deployment_trigger import DeploymentTrigger
from bluegreen.feature_flags import DomainFlagsSpec, FeatureFlags, add_appconfig_agent_sidecar
from bluegreen.handles import PlatformHandles
from bluegreen.rollback_alarms import RollbackAlarms

APP_CONTAINER = "app"


def metadata_parameter_name(platform_name: str, domain: str) -> str:
    return f"/{platform_name}/domains/{domain}/deployment"


class DomainService(Construct):
    """A domain service on the platform's ALB with a CodeDeploy blue/green release path.

    Attributes: `repository`, `task_definition`, `app_container`, `service`, `blue_target_group`,
    `green_target_group`, `prod_listener`, `test_listener`, `application`, `deployment_group`,
    `rollback_alarms`, `feature_flags`, `agent_container`, `record`, `endpoint`, `test_endpoint`,
    `metadata_parameter`.
    """

    def __init__(self, scope: Construct, id: str, *, spec: DomainSpec, platform: PlatformHandles,
                 shard: int = 0, deployment_config: codedeploy.IEcsDeploymentConfig | None = None,
                 feature_flags: DomainFlagsSpec | None = None,
                 extra_environment: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        name = f"{platform.platform_name}-{spec.name}"
        self.spec = spec
        lb = platform.load_balancer(spec.alb_group, shard)
        tls = lb.group.protocol is ListenerProtocol.HTTPS
        scheme = "https" if tls else "http"

        # --- image registry (pipelines push here; scan on push, immutable tags) ---
        self.repository = ecr.Repository(
            self, "Repository", repository_name=f"{platform.platform_name}/{spec.name}",
            image_scan_on_push=True, image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.AES_256, removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[ecr.LifecycleRule(description="keep the last 50 images", max_image_count=50)])

        # --- task definition ---
        log_group = logs.LogGroup(self, "Logs", log_group_name=f"/{platform.platform_name}/{spec.name}",
                                  retention=logs.RetentionDays.THREE_MONTHS, encryption_key=platform.logs_key,
                                  removal_policy=RemovalPolicy.RETAIN)
        self.log_group = log_group
        # Named roles: the pipeline's deploy role may pass `<platform>-*-task|execution` and nothing else,
        # without listing every domain (a per-domain list outgrows IAM's policy size quota).
        task_role = iam.Role(self, "TaskRole", role_name=f"{name}-task",
                             assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                             description=f"{name}: the application's own AWS permissions")
        execution_role = iam.Role(self, "ExecutionRole", role_name=f"{name}-execution",
                                  assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                                  description=f"{name}: pulls the image and writes logs for ECS")
        self.task_definition = ecs.FargateTaskDefinition(
            self, "TaskDefinition", family=name, cpu=spec.cpu, memory_limit_mib=spec.memory_mib,
            task_role=task_role, execution_role=execution_role,
            runtime_platform=ecs.RuntimePlatform(cpu_architecture=ecs.CpuArchitecture.X86_64,
                                                 operating_system_family=ecs.OperatingSystemFamily.LINUX))
        environment = {"DOMAIN": spec.name, "PLATFORM": platform.platform_name,
                       "MAX_SESSION_SECONDS": str(spec.max_session_seconds),
                       **dict(spec.environment), **dict(extra_environment or {})}
        self.app_container = self.task_definition.add_container(
            APP_CONTAINER, container_name=APP_CONTAINER, image=ecs.ContainerImage.from_registry(spec.image),
            port_mappings=[ecs.PortMapping(container_port=spec.container_port, name="http")],
            environment=dict(sorted(environment.items())),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=spec.name, log_group=log_group),
            essential=True, stop_timeout=Duration.seconds(120))
        acknowledge(self.task_definition, Ack(
            "AwsSolutions-ECS2",
            "Environment variables carry non-secret settings (domain name, session length, flag URLs); "
            "secrets are never configured here. Production would add secrets through ecs.Secret from Secrets Manager."))
        self.repository.grant_pull(self.task_definition.obtain_execution_role())
        for role in (task_role, execution_role):
            acknowledge_inline_policy(role)
        acknowledge(self.task_definition.obtain_execution_role(), Ack(
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource-level permissions and must use '*'; image pulls and log "
            "writes are scoped to this domain's repository and log group."))

        # --- target groups (blue serves first; CodeDeploy alternates) ---
        def target_group(colour: str) -> elbv2.ApplicationTargetGroup:
            return elbv2.ApplicationTargetGroup(
                self, f"{colour.title()}TargetGroup", target_group_name=f"{name}-{colour}", vpc=platform.vpc,
                port=spec.container_port, protocol=elbv2.ApplicationProtocol.HTTP, target_type=elbv2.TargetType.IP,
                deregistration_delay=Duration.seconds(spec.drain.deregistration_delay_seconds),
                health_check=elbv2.HealthCheck(path=spec.health_check_path, interval=Duration.seconds(10),
                                               timeout=Duration.seconds(5), healthy_threshold_count=2,
                                               unhealthy_threshold_count=3, healthy_http_codes="200-299"))

        self.blue_target_group = target_group("blue")
        self.green_target_group = target_group("green")

        # --- listeners: production (sticky during canary/linear) and test, closed by default ---
        protocol = elbv2.ApplicationProtocol.HTTPS if tls else elbv2.ApplicationProtocol.HTTP
        certificates = [elbv2.ListenerCertificate.from_arn(lb.group.certificate_arn)] if tls else None
        # Pinned, not CDK's default: a listener property must never change after create (a listener update
        # re-applies DefaultActions). This is the policy the recommended flag usePostQuantumTlsPolicy selects.
        ssl_policy = elbv2.SslPolicy.TLS13_12_PQ if tls else None
        sticky = spec.traffic.style != "all_at_once"
        prod_action = elbv2.ListenerAction.forward(
            [self.blue_target_group],
            stickiness_duration=Duration.seconds(spec.stickiness_seconds) if sticky else None)
        self.prod_listener = elbv2.ApplicationListener(
            self, "ProdListener", load_balancer=lb.load_balancer, port=spec.port, protocol=protocol,
            certificates=certificates, ssl_policy=ssl_policy, open=False, default_action=prod_action)
        self.test_listener = elbv2.ApplicationListener(
            self, "TestListener", load_balancer=lb.load_balancer, port=spec.test_port, protocol=protocol,
            certificates=certificates, ssl_policy=ssl_policy, open=False,
            default_action=elbv2.ListenerAction.forward([self.blue_target_group]))
        # Rules live in this domain's stack, so adding a domain never needs a platform deployment.
        # The test listener is for the smoke-check hook inside the VPC only.
        openings = [(cidr, spec.port, "production listener") for cidr in (platform.vpc_cidr, *platform.client_cidrs)]
        openings.append((platform.vpc_cidr, spec.test_port, "test listener"))
        for index, (cidr, port, what) in enumerate(openings):
            ec2.CfnSecurityGroupIngress(
                self, f"ListenerIngress{index}", group_id=lb.security_group.security_group_id, ip_protocol="tcp",
                from_port=port, to_port=port, cidr_ip=cidr, description=f"{spec.name} {what} from {cidr}")

        # --- service: CODE_DEPLOY controller, names only the family (CFN never changes its revision) ---
        service_sg = ec2.SecurityGroup(self, "ServiceSecurityGroup", vpc=platform.vpc, allow_all_outbound=True,
                                       description=f"{name} tasks: only the ALB reaches the container port")
        service_sg.add_ingress_rule(lb.security_group, ec2.Port.tcp(spec.container_port), "from the ALB")
        self.service = ecs.FargateService(
            self, "Service", cluster=platform.cluster, service_name=name, task_definition=self.task_definition,
            task_definition_revision=ecs.TaskDefinitionRevision.LATEST, desired_count=spec.desired_count,
            deployment_controller=ecs.DeploymentController(type=ecs.DeploymentControllerType.CODE_DEPLOY),
            security_groups=[service_sg], assign_public_ip=False,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            health_check_grace_period=Duration.seconds(60), min_healthy_percent=100, max_healthy_percent=200,
            propagate_tags=ecs.PropagatedTagSource.SERVICE, enable_ecs_managed_tags=True)
        self.service.attach_to_application_target_group(self.blue_target_group)

        # --- rollback alarms over both target groups ---
        self.rollback_alarms = RollbackAlarms(self, "RollbackAlarms", name_prefix=name, spec=spec.alarms,
                                              blue=self.blue_target_group, green=self.green_target_group,
                                              load_balancer_full_name=lb.load_balancer.load_balancer_full_name)

        # --- feature flags: AppConfig + agent sidecar, rolled back on the same alarms ---
        flags_spec = feature_flags or DomainFlagsSpec()
        self.feature_flags = FeatureFlags(
            self, "FeatureFlags", application_name=name, environment_name="live", spec=flags_spec,
            rollback_alarms=self.rollback_alarms.alarms,
            deployment_strategy=platform.flag_strategies.get(flags_spec.rollout))
        self.agent_container = add_appconfig_agent_sidecar(
            task_definition=self.task_definition, app_container=self.app_container, flags=self.feature_flags,
            log_group=log_group)

        # --- CodeDeploy ---
        self.application = codedeploy.EcsApplication(self, "Application", application_name=name)
        role = iam.Role(self, "CodeDeployRole", assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
                        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                            "AWSCodeDeployRoleForECSLimited")],
                        description=f"{name}: CodeDeploy blue/green; may only invoke CodeDeployHook_* functions")
        role.add_to_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[self.task_definition.task_role.role_arn,
                                                 self.task_definition.obtain_execution_role().role_arn]))
        acknowledge_inline_policy(role)
        acknowledge(role, Ack(
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECSLimited]",
            "AWS's least-privileged CodeDeploy ECS policy: it only invokes functions named CodeDeployHook_*, "
            "which is why every hook function carries that prefix."))
        self.deployment_config = deployment_config or codedeploy.EcsDeploymentConfig.from_ecs_deployment_config_name(
            self, "DeploymentConfig", spec.traffic.config_name(platform.platform_name))
        self.deployment_group = codedeploy.EcsDeploymentGroup(
            self, "DeploymentGroup", application=self.application, deployment_group_name=name,
            # EcsDeploymentGroup would attach the broad AWSCodeDeployRoleForECS; keep only the Limited policy.
            service=self.service, role=role.without_policy_updates(), deployment_config=self.deployment_config,
            alarms=self.rollback_alarms.alarms,
            auto_rollback=codedeploy.AutoRollbackConfig(failed_deployment=True, stopped_deployment=True,
                                                        deployment_in_alarm=True),
            blue_green_deployment_config=codedeploy.EcsBlueGreenDeploymentConfig(
                blue_target_group=self.blue_target_group, green_target_group=self.green_target_group,
                listener=self.prod_listener, test_listener=self.test_listener,
                termination_wait_time=Duration.minutes(spec.drain.termination_wait_minutes)))

        # --- DNS ---
        self.record = route53.ARecord(
            self, "Record", zone=platform.zone, record_name=spec.name,
            target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(lb.load_balancer)),
            comment=f"{name} endpoint")
        host = f"{spec.name}.{platform.zone_name}"
        self.endpoint = f"{scheme}://{host}:{spec.port}"
        self.test_endpoint = f"{scheme}://{host}:{spec.test_port}"

        # --- config changes go through CodeDeploy ---
        hooks = self._hooks(platform)
        self.trigger = DeploymentTrigger(
            self, "DeploymentTrigger", application_name=name, deployment_group_name=name,
            deployment_config_name=spec.traffic.config_name(platform.platform_name),
            task_definition=self.task_definition, container_name=APP_CONTAINER,
            container_port=spec.container_port, hooks=hooks, image=spec.image)
        self.trigger.node.add_dependency(self.deployment_group)

        # --- published metadata for pipelines and hooks ---
        metadata = {
            "schemaVersion": 1, "platform": platform.platform_name, "domain": spec.name, "region": stack.region,
            "cluster": platform.cluster.cluster_name, "service": self.service.service_name,
            "taskDefinitionFamily": name, "taskDefinitionArn": self.task_definition.task_definition_arn,
            "containerName": APP_CONTAINER, "containerPort": spec.container_port,
            "codeDeployApplication": name, "deploymentGroup": name,
            "prodListenerArn": self.prod_listener.listener_arn, "testListenerArn": self.test_listener.listener_arn,
            "targetGroups": [f"{name}-blue", f"{name}-green"],
            "endpoint": self.endpoint, "testEndpoint": self.test_endpoint,
            "hooks": {"AfterAllowTestTraffic": hooks.get("AfterAllowTestTraffic"),
                      "BeforeAllowTraffic": hooks.get("BeforeAllowTraffic")},
            "ecrRepository": self.repository.repository_uri,
            "taskRoleArn": self.task_definition.task_role.role_arn,
            "executionRoleArn": self.task_definition.obtain_execution_role().role_arn,
            "auditTable": platform.audit_table_name,
            "approval": {"required": spec.approval.required, "channel": spec.approval.channel,
                         "approverUserIds": list(spec.approval.approvers.user_ids),
                         "approverGroupIds": list(spec.approval.approvers.group_ids),
                         "expiryMinutes": spec.approval.expiry_minutes},
            "smokeChecks": [check.to_metadata() for check in spec.smoke_checks],
            "drain": {"policy": spec.drain.name, "deregistrationDelaySeconds": spec.drain.deregistration_delay_seconds,
                      "terminationWaitMinutes": spec.drain.termination_wait_minutes,
                      "maxSessionSeconds": spec.max_session_seconds},
            "featureFlags": {"application": self.feature_flags.application_id,
                             "environment": self.feature_flags.environment_id,
                             "profile": self.feature_flags.configuration_profile_id,
                             "agentPath": self.feature_flags.agent_path},
            "traffic": {"style": spec.traffic.style, "deploymentConfig": spec.traffic.config_name(platform.platform_name)},
        }
        self.metadata_parameter = ssm.StringParameter(
            self, "DeploymentMetadata", parameter_name=metadata_parameter_name(platform.platform_name, spec.name),
            string_value=stack.to_json_string(metadata), tier=ssm.ParameterTier.STANDARD,
            description=f"{name}: everything a CodeDeploy deployment of this domain needs (schemaVersion 1)")
        for key, value, description in (
            ("Endpoint", self.endpoint, "production endpoint"),
            ("TestEndpoint", self.test_endpoint, "test-listener endpoint (green during a deployment)"),
            ("CodeDeployApplication", name, "CodeDeploy application"),
            ("DeploymentGroup", name, "CodeDeploy deployment group"),
            ("TaskDefinitionFamily", name, "ECS task-definition family"),
            ("MetadataParameter", self.metadata_parameter.parameter_name, "SSM parameter with deployment metadata"),
            ("EcrRepositoryUri", self.repository.repository_uri, "ECR repository for this domain's images"),
        ):
            CfnOutput(self, f"Output{key}", value=value, description=f"{spec.name} {description}")

    def _hooks(self, platform: PlatformHandles) -> dict[str, str]:
        hooks = {}
        after = platform.hook_function_arns.get("AfterAllowTestTraffic")
        if after and self.spec.smoke_checks:
            hooks["AfterAllowTestTraffic"] = after
        before = platform.hook_function_arns.get("BeforeAllowTraffic")
        if before and self.spec.approval.required:
            hooks["BeforeAllowTraffic"] = before
        return hooks
