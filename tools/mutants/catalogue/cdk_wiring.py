"""Mutations of the CDK wiring: what CloudFormation and CodeDeploy would do wrong, not what a snapshot shows."""
from __future__ import annotations

from tools.mutants.model import Mutation

DOMAIN_TESTS = "tests/stacks/test_domain_stacks.py"
PLATFORM_TESTS = "tests/stacks/test_platform_stack.py"
SERVICES_TESTS = "tests/stacks/test_platform_services.py"
ALARM_WIRING = "tests/safety/test_rollback_alarm_wiring.py"
RELEASE_ORDER = "tests/safety/test_release_order.py"
BARE = "tests/library/test_constructs_bare.py"
LIBRARY_DOMAIN = "tests/library/test_domain_service_construct.py"

MUTATIONS: list[Mutation] = [
    # ----------------------------------------------------------------------------- listeners and target groups
    Mutation(
        id="listeners-forward-to-green-at-create",
        file="constructs/bluegreen/domain/traffic.py",
        original="default_action=elbv2.ListenerAction.forward([self.blue_target_group]))",
        replacement="default_action=elbv2.ListenerAction.forward([self.green_target_group]))",
        tests=(f"{DOMAIN_TESTS}::test_listeners_have_one_shape_whatever_the_traffic_style",),
        why="CodeDeploy's first target group must be the one production serves at create; otherwise the first "
            "deployment replaces the tasks that serve nobody"),
    Mutation(
        id="prod-and-test-listener-ports-swapped",
        file="constructs/bluegreen/domain/traffic.py",
        original='self.prod_listener = listener("ProdListener", spec.port)\n'
                 '        self.test_listener = listener("TestListener", spec.test_port)',
        replacement='self.prod_listener = listener("ProdListener", spec.test_port)\n'
                    '        self.test_listener = listener("TestListener", spec.port)',
        tests=(f"{DOMAIN_TESTS}::test_deployment_group_switches_between_these_listeners_and_target_groups",),
        why="production traffic would reach green before approval (the test route would be the production port)"),
    Mutation(
        id="test-listener-open-to-the-vpc",
        file="constructs/bluegreen/domain/traffic.py",
        original="to_port=spec.test_port, source_security_group_id=hooks_security_group_id,",
        replacement="to_port=spec.test_port, cidr_ip=vpc_cidr,",
        tests=(f"{DOMAIN_TESTS}::test_production_port_open_to_the_vpc_and_test_port_only_to_the_smoke_hook",),
        why="the test listener serves unapproved green; only the smoke hook (and test ranges) may reach it"),
    Mutation(
        id="target-groups-ignore-the-drain-policy",
        file="constructs/bluegreen/domain/traffic.py",
        original="deregistration_delay=Duration.seconds(spec.drain.deregistration_delay_seconds),",
        replacement="deregistration_delay=Duration.seconds(30),",
        tests=(f"{DOMAIN_TESTS}::test_blue_green_target_groups_drain_per_policy",),
        why="voice's 30-minute calls would be cut 30 s after blue is deregistered"),
    Mutation(
        id="health-check-path-not-from-config",
        file="constructs/bluegreen/domain/traffic.py",
        original="health_check=elbv2.HealthCheck(path=spec.health_check_path, **HEALTH_CHECK))",
        replacement='health_check=elbv2.HealthCheck(path="/", **HEALTH_CHECK))',
        tests=(f"{DOMAIN_TESTS}::test_blue_green_target_groups_drain_per_policy",),
        why="the target groups would probe a path the service does not declare healthy"),
    Mutation(
        id="tls-policy-not-pinned",
        file="constructs/bluegreen/domain/traffic.py",
        original="TLS_POLICY = elbv2.SslPolicy.TLS13_12_PQ",
        replacement="TLS_POLICY = elbv2.SslPolicy.RECOMMENDED_TLS",
        tests=("tests/stacks/test_compliance.py::test_tls_listeners_use_the_pinned_post_quantum_policy",),
        why="a TLS policy that follows CDK's default changes the listener on an upgrade, re-pointing it at blue"),
    # ----------------------------------------------------------------------------- the deployment group
    Mutation(
        id="deployment-group-target-groups-swapped",
        file="constructs/bluegreen/domain/release.py",
        original="blue_target_group=blue_target_group, green_target_group=green_target_group,",
        replacement="blue_target_group=green_target_group, green_target_group=blue_target_group,",
        tests=(f"{DOMAIN_TESTS}::test_deployment_group_switches_between_these_listeners_and_target_groups",),
        why="CodeDeploy would install green into the target group production already serves"),
    Mutation(
        id="deployment-group-listeners-swapped",
        file="constructs/bluegreen/domain/release.py",
        original="listener=prod_listener, test_listener=test_listener,",
        replacement="listener=test_listener, test_listener=prod_listener,",
        tests=(f"{DOMAIN_TESTS}::test_deployment_group_switches_between_these_listeners_and_target_groups",),
        why="test traffic would go to production's port: users get the untested version before the smoke hook"),
    Mutation(
        id="no-rollback-on-alarm",
        file="constructs/bluegreen/domain/release.py",
        original="deployment_in_alarm=True),",
        replacement="deployment_in_alarm=False),",
        tests=(f"{DOMAIN_TESTS}::test_deployment_group_switches_between_these_listeners_and_target_groups",),
        why="a release that breaks its alarms would keep shifting traffic"),
    Mutation(
        id="blue-terminated-immediately",
        file="constructs/bluegreen/domain/release.py",
        original="termination_wait_time=Duration.minutes(spec.drain.termination_wait_minutes)))",
        replacement="termination_wait_time=Duration.minutes(0)))",
        tests=(f"{DOMAIN_TESTS}::test_voice_drains_for_longer_than_its_sessions",),
        why="blue would be terminated under voice's live 30-minute sessions"),
    Mutation(
        id="only-the-first-rollback-alarm-watched",
        file="constructs/bluegreen/domain/release.py",
        original="            alarms=alarms,\n",
        replacement="            alarms=alarms[:1],\n",
        tests=(f"{DOMAIN_TESTS}::test_rollback_alarms_watch_both_target_groups_and_the_load_balancer",),
        why="latency, unhealthy hosts, ELB 5xx and business alarms would never roll back a release"),
    Mutation(
        id="trigger-waits-one-hour-only",
        file="constructs/bluegreen/domain/release.py",
        original="waiting_resources=waiting_resources(spec))",
        replacement="waiting_resources=1)",
        tests=(f"{DOMAIN_TESTS}::test_config_changes_are_released_through_codedeploy_and_waited_for",
               f"{RELEASE_ORDER}::test_each_waiter_takes_over_from_the_previous_one"),
        why="a release with a 45-minute approval window would outlive the stack update that started it"),
    Mutation(
        id="trigger-runs-before-the-deployment-group-exists",
        file="constructs/bluegreen/domain/release.py",
        original="        self.trigger.node.add_dependency(self.deployment_group)\n",
        replacement="",
        tests=(f"{RELEASE_ORDER}::test_each_waiter_takes_over_from_the_previous_one",),
        why="on create the trigger would call CreateDeployment for a group CloudFormation has not made yet"),
    Mutation(
        id="stickiness-before-the-deployment-group",
        file="constructs/bluegreen/domain/release.py",
        original="        self.stickiness.node.add_dependency(self.deployment_group)",
        replacement="",
        tests=(f"{RELEASE_ORDER}::test_stickiness_is_written_after_the_deployment_group_exists",),
        why="stickiness could be written while the first deployment is being set up"),
    Mutation(
        id="stickiness-on-the-test-listener",
        file="constructs/bluegreen/domain/release.py",
        original='"ProdListenerStickiness", service_token=service_token, listener=prod_listener,',
        replacement='"ProdListenerStickiness", service_token=service_token, listener=test_listener,',
        tests=(f"{DOMAIN_TESTS}::test_stickiness_is_set_on_the_live_action_and_bounded_by_the_blue_task_set",),
        why="canary users would bounce between versions on every request"),
    Mutation(
        id="trigger-gets-no-hooks",
        file="constructs/bluegreen/domain/release.py",
        original="hooks=hooks, config_image=spec.image,",
        replacement="hooks={}, config_image=spec.image,",
        tests=(f"{DOMAIN_TESTS}::test_each_hook_is_the_right_function",),
        why="a config change released by cdk deploy would skip smoke checks and approval"),
    # ----------------------------------------------------------------------------- gates and hooks
    Mutation(
        id="approval-gate-dropped-for-required-domains",
        file="constructs/bluegreen/domain_service.py",
        original='    if spec.approval.required:\n        needed["BeforeAllowTraffic"] = "approval"',
        replacement='    if spec.approval.required and False:\n        needed["BeforeAllowTraffic"] = "approval"',
        tests=(f"{DOMAIN_TESTS}::test_each_hook_is_the_right_function",),
        why="payment, order and voice would release without approval"),
    Mutation(
        id="missing-hook-function-silently-ignored",
        file="constructs/bluegreen/domain_service.py",
        original="    if missing:\n        raise MissingGate(",
        replacement="    if missing and False:\n        raise MissingGate(",
        tests=(f"{LIBRARY_DOMAIN}::test_a_missing_hook_function_is_an_error_naming_the_gate",),
        why="another team's app with incomplete handles would deploy with no gate at all"),
    Mutation(
        id="approval-hook-points-at-the-smoke-function",
        file="constructs/bluegreen/handles.py",
        original='HOOK_PURPOSES = {"AfterAllowTestTraffic": "smoke-tests", "BeforeAllowTraffic": "approval-request"}',
        replacement='HOOK_PURPOSES = {"AfterAllowTestTraffic": "smoke-tests", "BeforeAllowTraffic": "smoke-tests"}',
        tests=(f"{DOMAIN_TESTS}::test_each_hook_is_the_right_function",),
        why="BeforeAllowTraffic would run the smoke checks again instead of asking a human"),
    Mutation(
        id="metadata-published-before-the-release-ends",
        file="constructs/bluegreen/domain_service.py",
        original="self.metadata.node.add_dependency(self.trigger.completion)",
        replacement="self.metadata.node.add_dependency(self.trigger.resource)",
        tests=(f"{DOMAIN_TESTS}::test_metadata_is_published_only_after_the_whole_release",),
        why="pipelines would read a revision as current while CodeDeploy may still roll it back"),
    # ----------------------------------------------------------------------------- rollback alarms
    Mutation(
        id="rollback-alarms-watch-blue-twice",
        file="constructs/bluegreen/domain_service.py",
        original="blue=self.blue_target_group, green=self.green_target_group,",
        replacement="blue=self.blue_target_group, green=self.blue_target_group,",
        tests=(f"{DOMAIN_TESTS}::test_rollback_alarms_watch_both_target_groups_and_the_load_balancer",
               f"{ALARM_WIRING}::test_every_built_in_alarm_reads_blue_and_green_alike"),
        why="after an odd number of releases the alarms would watch the idle colour"),
    Mutation(
        id="p99-expression-reads-blue-twice",
        file="constructs/bluegreen/rollback_alarms.py",
        original='expression="MAX([bP99, gP99])"',
        replacement='expression="MAX([bP99, bP99])"',
        tests=(f"{ALARM_WIRING}::test_every_built_in_alarm_reads_blue_and_green_alike",),
        why="a slow green would never roll back while blue is idle"),
    Mutation(
        id="error-rate-expression-reads-blue-twice",
        file="constructs/bluegreen/rollback_alarms.py",
        original="IF(gReq > 0, 100 * FILL(g5xx, 0) / gReq, 0)])",
        replacement="IF(bReq > 0, 100 * FILL(b5xx, 0) / bReq, 0)])",
        tests=(f"{ALARM_WIRING}::test_every_built_in_alarm_reads_blue_and_green_alike",),
        why="green's 5xx would never roll back a release"),
    Mutation(
        id="unhealthy-hosts-expression-reads-blue-twice",
        file="constructs/bluegreen/rollback_alarms.py",
        original='expression="MAX([bUnhealthy, gUnhealthy])"',
        replacement='expression="MAX([bUnhealthy, bUnhealthy])"',
        tests=(f"{ALARM_WIRING}::test_every_built_in_alarm_reads_blue_and_green_alike",),
        why="crash-looping green tasks would never roll back a release"),
    Mutation(
        id="missing-data-breaches",
        file="constructs/bluegreen/rollback_alarms.py",
        original="treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING, alarm_description=description)",
        replacement="treat_missing_data=cloudwatch.TreatMissingData.BREACHING, alarm_description=description)",
        tests=(f"{ALARM_WIRING}::test_alarms_fire_on_two_bad_minutes_and_never_on_missing_data",),
        why="every release would roll back: green has no requests before traffic moves"),
    Mutation(
        id="alarms-fire-on-one-datapoint",
        file="constructs/bluegreen/rollback_alarms.py",
        original="evaluation_periods=spec.evaluation_periods, datapoints_to_alarm=spec.evaluation_periods,",
        replacement="evaluation_periods=spec.evaluation_periods, datapoints_to_alarm=1,",
        tests=(f"{ALARM_WIRING}::test_alarms_fire_on_two_bad_minutes_and_never_on_missing_data",),
        why="one noisy minute would roll back a healthy release"),
    Mutation(
        id="elb-5xx-alarm-threshold-ignores-config",
        file="constructs/bluegreen/rollback_alarms.py",
        original='"LoadBalancerErrorRate", "elb-5xx-rate", elb_error_rate, spec.error_rate_percent,',
        replacement='"LoadBalancerErrorRate", "elb-5xx-rate", elb_error_rate, 100,',
        tests=(f"{DOMAIN_TESTS}::test_rollback_alarms_watch_both_target_groups_and_the_load_balancer",),
        why="users stuck on an empty target group would never trigger a rollback"),
    Mutation(
        id="custom-business-alarms-not-watched",
        file="constructs/bluegreen/rollback_alarms.py",
        original="for custom in spec.custom:",
        replacement="for custom in spec.custom[:0]:",
        tests=(f"{DOMAIN_TESTS}::test_payment_business_alarm_rolls_back",
               f"{BARE}::test_alarm_count_thresholds_and_periods"),
        why="failed payments would not roll back a payment release"),
    Mutation(
        id="existing-alarms-not-watched",
        file="constructs/bluegreen/rollback_alarms.py",
        original="for name in spec.existing_alarm_names:",
        replacement="for name in spec.existing_alarm_names[:0]:",
        tests=(f"{BARE}::test_alarm_count_thresholds_and_periods",),
        why="a team's own alarms, named in config, would never roll back its releases"),
    # ----------------------------------------------------------------------------- service and task definition
    Mutation(
        id="service-deployed-by-ecs-not-codedeploy",
        file="constructs/bluegreen/domain/runtime.py",
        original="deployment_controller=ecs.DeploymentController(type=ecs.DeploymentControllerType.CODE_DEPLOY),",
        replacement="deployment_controller=ecs.DeploymentController(type=ecs.DeploymentControllerType.ECS),",
        tests=(f"{DOMAIN_TESTS}::test_service_uses_code_deploy_and_names_only_the_family",),
        why="ECS would roll tasks in place: no test traffic, no approval, no instant rollback"),
    Mutation(
        id="tasks-get-public-ips",
        file="constructs/bluegreen/domain/runtime.py",
        original="security_groups=[self.security_group], assign_public_ip=False,",
        replacement="security_groups=[self.security_group], assign_public_ip=True,",
        tests=(f"{DOMAIN_TESTS}::test_service_uses_code_deploy_and_names_only_the_family",),
        why="tasks would be reachable around the load balancer"),
    Mutation(
        id="replaced-task-definitions-deregistered",
        file="constructs/bluegreen/domain/task.py",
        original="self.task_definition.apply_removal_policy(RemovalPolicy.RETAIN)",
        replacement="self.task_definition.apply_removal_policy(RemovalPolicy.DESTROY)",
        tests=(f"{DOMAIN_TESTS}::test_replaced_task_definitions_stay_registered_for_rollback",),
        why="a rollback to the revision before a config change would find it INACTIVE"),
    Mutation(
        id="app-not-told-its-port",
        file="constructs/bluegreen/domain/task.py",
        original='"PORT": str(spec.container_port),',
        replacement='"PORT": "80",',
        tests=(f"{DOMAIN_TESTS}::test_task_definition_runs_the_placeholder_on_its_port",),
        why="the default image would listen on a port the target groups never probe: no first deploy"),
    # ----------------------------------------------------------------------------- published metadata
    Mutation(
        id="metadata-says-approval-not-required",
        file="constructs/bluegreen/domain/metadata.py",
        original='"approval": {"required": spec.approval.required,',
        replacement='"approval": {"required": False,',
        tests=(f"{DOMAIN_TESTS}::test_deployment_metadata_values",),
        why="bgctl and the hooks read this to decide whether a human must approve"),
    Mutation(
        id="metadata-smoke-hook-is-the-approval-hook",
        file="constructs/bluegreen/domain/metadata.py",
        original='"hooks": {"AfterAllowTestTraffic": hooks.get("AfterAllowTestTraffic"),',
        replacement='"hooks": {"AfterAllowTestTraffic": hooks.get("BeforeAllowTraffic"),',
        tests=(f"{DOMAIN_TESTS}::test_deployment_metadata_values",),
        why="pipeline deployments (bgctl builds the AppSpec from this) would skip the smoke checks"),
    Mutation(
        id="metadata-test-endpoint-is-production",
        file="constructs/bluegreen/domain/metadata.py",
        original='"testEndpoint": test_endpoint,',
        replacement='"testEndpoint": endpoint,',
        tests=(f"{DOMAIN_TESTS}::test_deployment_metadata_values",),
        why="the smoke hook would test blue (production) and pass any green"),
    # ----------------------------------------------------------------------------- drain policy and timing
    Mutation(
        id="websocket-deregistration-without-margin",
        file="constructs/bluegreen/drain.py",
        original="margin = max(300, _round_up(max_session_seconds / 3, 60))",
        replacement="margin = 0",
        tests=(f"{DOMAIN_TESTS}::test_blue_green_target_groups_drain_per_policy",),
        why="a call that started just before deregistration would have no slack before the ALB cuts it"),
    Mutation(
        id="websocket-termination-wait-without-margin",
        file="constructs/bluegreen/drain.py",
        original="termination_wait_minutes=math.ceil(max_session_seconds / 60) + 5,\n"
                 "            # A muted caller",
        replacement="termination_wait_minutes=math.ceil(max_session_seconds / 60) + 0,\n"
                    "            # A muted caller",
        tests=(f"{DOMAIN_TESTS}::test_voice_drains_for_longer_than_its_sessions",),
        why="blue would be terminated the minute the longest session could still be running"),
    Mutation(
        id="realtime-idle-timeout-shorter-than-sessions",
        file="constructs/bluegreen/drain.py",
        original="min_idle_timeout_seconds=min(MAX_ALB_IDLE_TIMEOUT_SECONDS, max_session_seconds + 60),",
        replacement="min_idle_timeout_seconds=1,",
        tests=("tests/config/test_loader.py::test_idle_timeout_too_short_for_websocket_sessions",),
        why="a muted caller's socket would be closed by the ALB mid-call"),
    Mutation(
        id="release-budget-without-install-time",
        file="constructs/bluegreen/release_timing.py",
        original="INSTALL_AND_TEST_MINUTES = 15",
        replacement="INSTALL_AND_TEST_MINUTES = 5",
        tests=(f"{DOMAIN_TESTS}::test_config_changes_are_released_through_codedeploy_and_waited_for",),
        why="payment's release would outlive its waiters: the stack would report success mid-release"),
    Mutation(
        id="release-budget-without-approval-window",
        file="constructs/bluegreen/release_timing.py",
        original="approval = spec.approval.expiry_minutes if spec.approval.required else 0",
        replacement="approval = 0",
        tests=(f"{DOMAIN_TESTS}::test_config_changes_are_released_through_codedeploy_and_waited_for",),
        why="a release waiting for approval would outlive the stack update"),
    Mutation(
        id="waits-longer-than-cloudformation-allows",
        file="constructs/bluegreen/release_timing.py",
        original="WAIT_BUDGET_MINUTES = 50",
        replacement="WAIT_BUDGET_MINUTES = 60",
        tests=(f"{DOMAIN_TESTS}::test_config_changes_are_released_through_codedeploy_and_waited_for",
               f"{BARE}::test_trigger_chain_waits_in_one_hour_steps"),
        why="a waiter would hit CloudFormation's one-hour custom-resource limit and fail the stack"),
    Mutation(
        id="waiters-run-in-parallel",
        file="constructs/bluegreen/deployment_trigger.py",
        original="waiter.node.add_dependency(previous)",
        replacement="waiter.node.add_dependency(self.resource)",
        tests=(f"{RELEASE_ORDER}::test_each_waiter_takes_over_from_the_previous_one",),
        why="all waiters would time out together after one hour: the stack would give up mid-release"),
    Mutation(
        id="first-resource-claims-to-be-last",
        file="constructs/bluegreen/deployment_trigger.py",
        original='"Last": _flag(waiting_resources == 1)})',
        replacement='"Last": _flag(True)})',
        tests=(f"{DOMAIN_TESTS}::test_config_changes_are_released_through_codedeploy_and_waited_for",),
        why="the trigger would fail the stack at its budget instead of handing over to the waiters"),
    Mutation(
        id="trigger-timeout-below-the-hour",
        file="constructs/bluegreen/deployment_trigger.py",
        original="SERVICE_TIMEOUT = Duration.hours(1)",
        replacement="SERVICE_TIMEOUT = Duration.minutes(10)",
        tests=(f"{DOMAIN_TESTS}::test_config_changes_are_released_through_codedeploy_and_waited_for",),
        why="CloudFormation would give up on the trigger long before its 50-minute wait ends"),
    Mutation(
        id="stickiness-always-on",
        file="constructs/bluegreen/listener_stickiness.py",
        original='"Enabled": "true" if seconds else "false"',
        replacement='"Enabled": "true"',
        tests=(f"{DOMAIN_TESTS}::test_stickiness_is_set_on_the_live_action_and_bounded_by_the_blue_task_set",),
        why="all-at-once domains would pin users to a target group CodeDeploy is about to empty"),
    Mutation(
        id="stickiness-outlives-blue",
        file="constructs/bluegreen/config/model.py",
        original="return max(1, min(3600, self.max_stickiness_seconds))",
        replacement="return 3600",
        tests=(f"{DOMAIN_TESTS}::test_stickiness_is_set_on_the_live_action_and_bounded_by_the_blue_task_set",),
        why="clients stuck to blue after it is terminated get load-balancer 5xx"),
    # ----------------------------------------------------------------------------- platform
    Mutation(
        id="deploy-api-start-without-iam",
        file="constructs/bluegreen/deploy_api.py",
        original='deployments.add_method("POST", integration, authorization_type=apigw.AuthorizationType.IAM)',
        replacement='deployments.add_method("POST", integration, authorization_type=apigw.AuthorizationType.NONE)',
        tests=(f"{SERVICES_TESTS}::test_deploy_api_requires_iam_on_every_method",),
        why="anyone in the network could start a deployment with no verified requester"),
    Mutation(
        id="deploy-api-decisions-without-iam",
        file="constructs/bluegreen/deploy_api.py",
        original='decisions.add_method("POST", integration, authorization_type=apigw.AuthorizationType.IAM)',
        replacement='decisions.add_method("POST", integration, authorization_type=apigw.AuthorizationType.NONE)',
        tests=(f"{SERVICES_TESTS}::test_deploy_api_requires_iam_on_every_method",),
        why="anyone could approve a release with no identity to check against the requester"),
    Mutation(
        id="alb-accepts-invalid-headers",
        file="constructs/bluegreen/alb_group.py",
        original="drop_invalid_header_fields=True,",
        replacement="drop_invalid_header_fields=False,",
        tests=(f"{PLATFORM_TESTS}::test_one_internal_alb_per_group_with_hardening",),
        why="request smuggling through malformed headers"),
    Mutation(
        id="audit-table-without-point-in-time-recovery",
        file="constructs/bluegreen/audit_table.py",
        original="point_in_time_recovery_enabled=True),",
        replacement="point_in_time_recovery_enabled=False),",
        tests=(f"{SERVICES_TESTS}::test_audit_table_is_durable_and_queryable_by_domain",),
        why="the approval audit trail could be lost to one bad write"),
]
