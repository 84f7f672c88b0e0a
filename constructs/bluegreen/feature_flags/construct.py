"""AppConfig feature flags for one domain, and the AppConfig agent sidecar that serves them to the app.

`FeatureFlags` creates the AppConfig application, environment (monitors = the domain's rollback
alarms), `AWS.AppConfig.FeatureFlags` profile, hosted version, deployment strategy and deployment.
`add_appconfig_agent_sidecar` puts the agent next to the app container and hands the app the URL.

No custom validator is attached to the profile: AppConfig validates every `AWS.AppConfig.FeatureFlags`
version against its built-in type schema itself (profile validators can only be JSON_SCHEMA or
LAMBDA), and `spec.py` enforces the same rules at synth time.
"""
from __future__ import annotations

from typing import Sequence
from urllib.parse import quote

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_appconfig as appconfig
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge
from bluegreen.feature_flags.hosted_content import CONTENT_TYPE, feature_flags_document, feature_flags_json
from bluegreen.feature_flags.spec import DomainFlagsSpec, FlagRolloutSpec, GrowthType

# Pinned agent release (>= 2.0.4416 is required for multi-variant flags). Bump on purpose, never `2.x`.
DEFAULT_AGENT_IMAGE = "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.0.13147"
AGENT_CONTAINER_NAME = "appconfig-agent"
AGENT_PORT = 2772
AGENT_HOST = "localhost"
DEFAULT_PROFILE_NAME = "feature-flags"
MAX_MONITORS_PER_ENVIRONMENT = 5  # AppConfig CreateEnvironment: at most 5 monitors
APPCONFIG_READ_ACTIONS = ("appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration")
_UNPINNED_TAGS = frozenset({"latest", "2.x", "2", "2.0"})


def _check_name(value: str, what: str, maximum: int) -> str:
    if not isinstance(value, str) or Token.is_unresolved(value) or not 1 <= len(value) <= maximum:
        raise ValueError(f"{what} must be a plain string of 1..{maximum} characters, got {value!r}")
    return value


class FeatureFlags(Construct):
    """A domain's AppConfig feature flags, rolled out gradually and rolled back on its alarms.

    Attributes: `application`, `environment`, `deployment_strategy`, `configuration` (hosted profile +
    version), `deployment`, `monitor_role` and `watched_alarms` (None/empty without alarms),
    `application_id`, `environment_id`, `configuration_profile_id`, `configuration_arn` (the one
    resource the agent may read), `agent_path`, `agent_url` and `document` (the hosted content).
    More than 5 rollback alarms (AppConfig's monitor limit) are combined into one composite alarm.
    `deployment_strategy` replaces the strategy built from `spec.rollout` (e.g. one shared by all
    domains, since AppConfig allows only 20 deployment strategies per account and region).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        application_name: str,
        environment_name: str,
        spec: DomainFlagsSpec,
        rollback_alarms: Sequence[cloudwatch.IAlarm],
        profile_name: str = DEFAULT_PROFILE_NAME,
        deployment_strategy: appconfig.IDeploymentStrategy | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not isinstance(spec, DomainFlagsSpec):
            raise TypeError(f"spec must be a DomainFlagsSpec (parse config with parse_domain_flags), got {spec!r}")
        self.application_name = _check_name(application_name, "application_name", 64)
        self.environment_name = _check_name(environment_name, "environment_name", 64)
        self.profile_name = _check_name(profile_name, "profile_name", 128)
        self.spec = spec
        self.document = feature_flags_document(spec)

        alarms = list(rollback_alarms)
        self.composite_alarm: cloudwatch.CompositeAlarm | None = None
        if len(alarms) > MAX_MONITORS_PER_ENVIRONMENT:
            self.composite_alarm = cloudwatch.CompositeAlarm(
                self, "AnyRollbackAlarm",
                alarm_description=f"Any rollback alarm of {application_name} is in ALARM "
                                  "(AppConfig watches at most 5 alarms per environment)",
                alarm_rule=cloudwatch.AlarmRule.any_of(
                    *(cloudwatch.AlarmRule.from_alarm(alarm, cloudwatch.AlarmState.ALARM) for alarm in alarms)),
            )
            alarms = [self.composite_alarm]
        self.watched_alarms: tuple[cloudwatch.IAlarm, ...] = tuple(alarms)

        self.monitor_role: iam.Role | None = None
        self.monitor_policy: iam.ManagedPolicy | None = None
        monitors: list[appconfig.Monitor] = []
        if alarms:
            self.monitor_role = iam.Role(
                self, "MonitorRole",
                assumed_by=iam.ServicePrincipal("appconfig.amazonaws.com"),
                description=f"Lets AppConfig read the rollback alarms of {application_name} during flag rollouts",
            )
            # A customer-managed policy (not inline) keeps HIPAA.Security-IAMNoInlinePolicy quiet.
            self.monitor_policy = iam.ManagedPolicy(
                self, "DescribeRollbackAlarms",
                description=f"Read the state of the rollback alarms of {application_name}, nothing else",
                statements=[iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"],
                                                resources=[alarm.alarm_arn for alarm in alarms])],
                roles=[self.monitor_role],
            )
            monitors = [appconfig.Monitor.from_cloud_watch_alarm(alarm, self.monitor_role) for alarm in alarms]

        self.application = appconfig.Application(
            self, "Application", application_name=application_name,
            description=f"Feature flags of {application_name}")
        self.environment = appconfig.Environment(
            self, "Environment", application=self.application, environment_name=environment_name,
            monitors=monitors, description="Flag rollouts roll back automatically when a rollback alarm fires")
        if self.monitor_policy is not None:  # the role can read the alarms before any rollout starts
            self.environment.node.add_dependency(self.monitor_policy)

        if deployment_strategy is not None:  # shared strategy (AppConfig allows 20 per account and region)
            self.deployment_strategy: appconfig.IDeploymentStrategy = deployment_strategy
        else:
            self.deployment_strategy = flag_rollout_strategy(
                self, "RolloutStrategy", name=f"{application_name}-{environment_name}-flags", rollout=spec.rollout)

        self.configuration = appconfig.HostedConfiguration(
            self, "Flags",
            application=self.application,
            name=profile_name,
            description=f"Feature flags of {application_name} (generated from the platform config)",
            type=appconfig.ConfigurationType.FEATURE_FLAGS,
            content=appconfig.ConfigurationContent.from_inline_json(feature_flags_json(spec), CONTENT_TYPE),
            deployment_strategy=self.deployment_strategy,
            deploy_to=[self.environment],
        )
        deployments = [child for child in self.configuration.node.children
                       if isinstance(child, appconfig.CfnDeployment)]
        self.deployment: appconfig.CfnDeployment = deployments[0]

        self.application_id = self.application.application_id
        self.environment_id = self.environment.environment_id
        self.configuration_profile_id = self.configuration.configuration_profile_id
        self.configuration_arn = f"{self.environment.environment_arn}/configuration/{self.configuration_profile_id}"
        self.agent_path = "/applications/{}/environments/{}/configurations/{}".format(
            *(quote(name, safe="") for name in (application_name, environment_name, profile_name)))

    @property
    def agent_url(self) -> str:
        """What the app container calls: the agent on the task's loopback interface."""
        return f"http://{AGENT_HOST}:{AGENT_PORT}{self.agent_path}"


def flag_rollout_strategy(scope: Construct, construct_id: str, *, name: str,
                          rollout: FlagRolloutSpec) -> appconfig.DeploymentStrategy:
    """An AppConfig deployment strategy for flag changes (share one per distinct rollout: 20 per account)."""
    growth = appconfig.RolloutStrategy.linear if rollout.growth_type is GrowthType.LINEAR \
        else appconfig.RolloutStrategy.exponential
    return appconfig.DeploymentStrategy(
        scope, construct_id, deployment_strategy_name=name[:64],
        description=f"{rollout.growth_type.value} {rollout.growth_factor:g}% over "
                    f"{rollout.duration_minutes} min, bake {rollout.final_bake_minutes} min",
        rollout_strategy=growth(
            growth_factor=rollout.growth_factor,
            deployment_duration=Duration.minutes(rollout.duration_minutes),
            final_bake_time=Duration.minutes(rollout.final_bake_minutes),
        ),
    )


def _check_pinned(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@sha256:" in image:
        return image
    if ":" not in name or name.split(":", 1)[1] in _UNPINNED_TAGS:
        raise ValueError(f"agent image {image!r} is not pinned: use an exact version tag or a digest "
                         f"(for example {DEFAULT_AGENT_IMAGE})")
    return image


def add_appconfig_agent_sidecar(
    *,
    task_definition: ecs.FargateTaskDefinition,
    app_container: ecs.ContainerDefinition,
    flags: FeatureFlags,
    log_group: logs.ILogGroup | None = None,
    image: str = DEFAULT_AGENT_IMAGE,
    health_check: ecs.HealthCheck | None = None,
) -> ecs.ContainerDefinition:
    """Add the `appconfig-agent` container and wire `app_container` to it; returns the agent container.

    - Not essential, with an in-place restart policy: the flag client falls back to safe defaults
      while the agent is away, so an agent crash must not stop the task and cut long-lived
      (WebSocket) sessions. ECS restarts the agent instead of replacing the task.
    - The app never waits for the agent to be healthy: it starts once the agent container has started
      (`START`), and serves with safe defaults until the agent answers (the flag client's 0.2 s bound), so
      neither an agent nor an AppConfig outage can keep a task from starting. No health check is added by
      default: whether the agent image ships a probe tool (curl, wget) is not documented; pass
      `health_check` when you have verified one.
    - Local only: `HTTP_HOST=localhost` binds the agent to the task's loopback interface and it has
      no port mapping; in awsvpc mode the app reaches it on localhost:2772, nothing else can.
    - The task role may call exactly StartConfigurationSession and GetLatestConfiguration on this
      domain's configuration, nothing else.
    """
    agent = task_definition.add_container(
        "AppConfigAgent",
        container_name=AGENT_CONTAINER_NAME,
        image=ecs.ContainerImage.from_registry(_check_pinned(image)),
        essential=False,
        enable_restart_policy=True,
        restart_attempt_period=Duration.seconds(60),
        environment={
            "SERVICE_REGION": Stack.of(task_definition).region,
            "HTTP_HOST": AGENT_HOST,
            "HTTP_PORT": str(AGENT_PORT),
            "LOG_LEVEL": "info",
        },
        health_check=health_check,
        logging=ecs.LogDrivers.aws_logs(
            stream_prefix=AGENT_CONTAINER_NAME,
            log_group=log_group,
            log_retention=None if log_group is not None else logs.RetentionDays.ONE_MONTH,
            mode=ecs.AwsLogDriverMode.NON_BLOCKING,
        ),
    )
    task_definition.add_to_task_role_policy(iam.PolicyStatement(
        sid="ReadOwnFeatureFlags",
        actions=list(APPCONFIG_READ_ACTIONS),
        resources=[flags.configuration_arn],
    ))
    for name, value in (("FEATURE_FLAGS_URL", flags.agent_url),
                        ("FEATURE_FLAGS_APPLICATION", flags.application_name),
                        ("FEATURE_FLAGS_ENVIRONMENT", flags.environment_name),
                        ("FEATURE_FLAGS_PROFILE", flags.profile_name)):
        app_container.add_environment(name, value)
    app_container.add_container_dependencies(
        ecs.ContainerDependency(container=agent, condition=ecs.ContainerDependencyCondition.START))
    acknowledge(task_definition, Ack(
        rule="AwsSolutions-ECS2",
        reason="The AppConfig agent sidecar and the FEATURE_FLAGS_* variables carry only non-secret values "
               "(AppConfig names, a region, a localhost URL); secrets go through ECS `secrets` from Secrets Manager.",
    ))
    return agent
