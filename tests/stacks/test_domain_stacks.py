"""DomainServiceStack: one test per behaviour, across all four default domains.

Expected values are literals from the seed config (docs and README) or AWS limits, never values computed by
the code under test.
"""
from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from tests.synth_support import published_ref, render, resources_of_type

DOMAINS = ["auth", "order", "payment", "voice"]
PORTS = {"auth": (8081, 9081), "order": (8082, 9082), "payment": (8083, 9083), "voice": (8443, 9443)}
ACCOUNT_REGION = "eu-west-1"
HOOK_ARN = "arn:aws:lambda:eu-west-1:${AWS::AccountId}:function:CodeDeployHook_bluegreen_"
# Seed: order 10 % canary 5 min, payment linear 20 % every 2 min, voice 10 % canary 15 min (sticky); auth all at once.
# Stickiness is capped by the blue termination wait: 6 min for HTTP domains, 35 min for voice.
STICKINESS = {"auth": ("false", "0"), "order": ("true", "360"), "payment": ("true", "360"),
              "voice": ("true", "2100")}
# Worst-case release (15 install/test + approval window + shift + termination wait + deregistration delay) over
# 50-minute waits: auth 15+0+0+6+1=22 -> 1, order 15+45+5+6+1=72 -> 2, payment 15+30+8+6+1=60 -> 2,
# voice 15+45+15+35+40=150 -> 3.
WAITING_RESOURCES = {"auth": 1, "order": 2, "payment": 2, "voice": 3}


@pytest.fixture(scope="module")
def templates(default_app) -> dict[str, dict]:
    return {name: default_app.template(f"-Domain-{name}") for name in DOMAINS}


@pytest.fixture(scope="module")
def specs(default_app):
    return {d.name: d for d in default_app.config.domains}


def only(template: dict, type_name: str) -> dict:
    found = resources_of_type(template, type_name)
    assert len(found) == 1, f"{type_name}: {len(found)}"
    return next(iter(found.values()))["Properties"]


def target_group_id(template: dict, colour: str) -> str:
    (found,) = [k for k, v in resources_of_type(template, "AWS::ElasticLoadBalancingV2::TargetGroup").items()
                if v["Properties"]["Name"].endswith(f"-{colour}")]
    return found


def listener_ids(template: dict) -> dict[int, str]:
    return {v["Properties"]["Port"]: k
            for k, v in resources_of_type(template, "AWS::ElasticLoadBalancingV2::Listener").items()}


def metadata(template: dict, domain: str) -> dict:
    (parameter,) = [r["Properties"] for r in resources_of_type(template, "AWS::SSM::Parameter").values()
                    if r["Properties"]["Name"] == f"/bluegreen/domains/{domain}/deployment"]
    return json.loads(render(parameter["Value"]))


@pytest.mark.parametrize("domain", DOMAINS)
def test_service_uses_code_deploy_and_names_only_the_family(templates, domain):
    props = only(templates[domain], "AWS::ECS::Service")
    assert props["DeploymentController"] == {"Type": "CODE_DEPLOY"}
    assert props["TaskDefinition"] == f"bluegreen-{domain}"
    assert props["Cluster"] == "bluegreen-cluster"
    assert props["LaunchType"] == "FARGATE"
    assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    (binding,) = props["LoadBalancers"]
    assert binding == {"ContainerName": "app", "ContainerPort": 8080,
                       "TargetGroupArn": {"Ref": target_group_id(templates[domain], "blue")}}


@pytest.mark.parametrize("domain", DOMAINS)
def test_task_definition_runs_the_placeholder_on_its_port(templates, domain):
    props = only(templates[domain], "AWS::ECS::TaskDefinition")
    assert props["Family"] == f"bluegreen-{domain}"
    app = next(c for c in props["ContainerDefinitions"] if c["Name"] == "app")
    assert app["Image"] == "docker.io/jmalloc/echo-server:v0.3.7"
    assert app["PortMappings"][0]["ContainerPort"] == 8080
    environment = {e["Name"]: e["Value"] for e in app["Environment"]}
    assert environment["PORT"] == "8080" and environment["DOMAIN"] == domain
    assert app["LogConfiguration"]["LogDriver"] == "awslogs"


@pytest.mark.parametrize("domain", DOMAINS)
def test_replaced_task_definitions_stay_registered_for_rollback(templates, domain):
    (resource,) = resources_of_type(templates[domain], "AWS::ECS::TaskDefinition").values()
    assert resource["UpdateReplacePolicy"] == "Retain" and resource["DeletionPolicy"] == "Retain"


def test_sizes_follow_the_seed(templates):
    sizes = {d: (only(templates[d], "AWS::ECS::TaskDefinition")["Cpu"],
                 only(templates[d], "AWS::ECS::TaskDefinition")["Memory"]) for d in DOMAINS}
    assert sizes == {"auth": ("256", "512"), "order": ("512", "1024"), "payment": ("512", "1024"),
                     "voice": ("1024", "2048")}
    assert {d: only(templates[d], "AWS::ECS::Service")["DesiredCount"] for d in DOMAINS} == {
        "auth": 2, "order": 2, "payment": 3, "voice": 2}


@pytest.mark.parametrize("domain", DOMAINS)
def test_blue_green_target_groups_drain_per_policy(templates, domain):
    groups = resources_of_type(templates[domain], "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert sorted(g["Properties"]["Name"] for g in groups.values()) == [f"bluegreen-{domain}-blue",
                                                                         f"bluegreen-{domain}-green"]
    delay = "2400" if domain == "voice" else "60"
    for group in groups.values():
        props = group["Properties"]
        attributes = {a["Key"]: a["Value"] for a in props["TargetGroupAttributes"]}
        assert attributes["deregistration_delay.timeout_seconds"] == delay
        assert props["HealthCheckPath"] == "/health" and props["Port"] == 8080
        assert props["TargetType"] == "ip"


def test_voice_drains_for_longer_than_its_sessions(templates):
    dg = only(templates["voice"], "AWS::CodeDeploy::DeploymentGroup")
    wait = dg["BlueGreenDeploymentConfiguration"]["TerminateBlueInstancesOnDeploymentSuccess"]
    assert wait == {"Action": "TERMINATE", "TerminationWaitTimeInMinutes": 35}


@pytest.mark.parametrize("domain", DOMAINS)
def test_listeners_have_one_shape_whatever_the_traffic_style(templates, domain):
    """A listener update re-applies DefaultActions: every listener's properties are the same for all styles and
    stickiness values, so no config change can rewrite them (stickiness lives on a custom resource)."""
    template = templates[domain]
    blue = target_group_id(template, "blue")
    listeners = resources_of_type(template, "AWS::ElasticLoadBalancingV2::Listener")
    assert sorted(v["Properties"]["Port"] for v in listeners.values()) == sorted(PORTS[domain])
    expected_lb = published_ref(template, "bluegreen", f"alb/{'realtime' if domain == 'voice' else 'internal'}/0/arn")
    for listener in listeners.values():
        props = listener["Properties"]
        assert set(props) == {"DefaultActions", "LoadBalancerArn", "Port", "Protocol"}, "no tags, no extras"
        assert props["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": blue}}]
        assert props["Protocol"] == "HTTP" and props["LoadBalancerArn"] == expected_lb


@pytest.mark.parametrize("domain", DOMAINS)
def test_stickiness_is_set_on_the_live_action_and_bounded_by_the_blue_task_set(templates, domain):
    template = templates[domain]
    prod_listener = listener_ids(template)[PORTS[domain][0]]
    props = only(template, "Custom::ProductionListenerStickiness")
    enabled, seconds = STICKINESS[domain]
    assert props["ListenerArn"] == {"Ref": prod_listener}
    assert (props["Enabled"], props["DurationSeconds"]) == (enabled, seconds)
    assert props["DeploymentGroupName"] == f"bluegreen-{domain}"
    assert props["ServiceToken"] == published_ref(template, "bluegreen", "release-provider-service-token")


@pytest.mark.parametrize("domain", DOMAINS)
def test_production_port_open_to_the_vpc_and_test_port_only_to_the_smoke_hook(templates, domain):
    template = templates[domain]
    prod, test = PORTS[domain]
    rules = [r["Properties"] for r in resources_of_type(template, "AWS::EC2::SecurityGroupIngress").values()]
    alb_sg = published_ref(template, "bluegreen", f"alb/{'realtime' if domain == 'voice' else 'internal'}/0/"
                                                  "security-group-id")
    on_alb = sorted(((r["FromPort"], r.get("CidrIp"), r.get("SourceSecurityGroupId") is not None)
                     for r in rules if r["GroupId"] == alb_sg), key=str)
    vpc_cidr = published_ref(template, "bluegreen", "vpc-cidr")
    assert on_alb == sorted([(prod, vpc_cidr, False), (test, None, True)], key=str)
    (test_rule,) = [r for r in rules if r["GroupId"] == alb_sg and r["FromPort"] == test]
    assert test_rule["SourceSecurityGroupId"] == published_ref(template, "bluegreen", "hooks-security-group-id")
    assert all(r.get("CidrIp") != "0.0.0.0/0" for r in rules)
    task_rules = [r for r in rules if r["GroupId"] != alb_sg]
    assert [(r["FromPort"], r["SourceSecurityGroupId"]) for r in task_rules] == [(8080, alb_sg)]


@pytest.mark.parametrize("domain", DOMAINS)
def test_deployment_group_switches_between_these_listeners_and_target_groups(templates, domain):
    template = templates[domain]
    dg = only(template, "AWS::CodeDeploy::DeploymentGroup")
    assert dg["DeploymentGroupName"] == f"bluegreen-{domain}"
    assert dg["DeploymentStyle"] == {"DeploymentOption": "WITH_TRAFFIC_CONTROL", "DeploymentType": "BLUE_GREEN"}
    assert dg["AutoRollbackConfiguration"] == {"Enabled": True, "Events": [
        "DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"]}
    (pair,) = dg["LoadBalancerInfo"]["TargetGroupPairInfoList"]
    listeners = listener_ids(template)
    prod, test = PORTS[domain]
    assert pair["ProdTrafficRoute"] == {"ListenerArns": [{"Ref": listeners[prod]}]}
    assert pair["TestTrafficRoute"] == {"ListenerArns": [{"Ref": listeners[test]}]}
    # The first (blue) target group is the one both listeners forward to at create.
    assert pair["TargetGroups"] == [
        {"Name": {"Fn::GetAtt": [target_group_id(template, "blue"), "TargetGroupName"]}},
        {"Name": {"Fn::GetAtt": [target_group_id(template, "green"), "TargetGroupName"]}}]
    bg = dg["BlueGreenDeploymentConfiguration"]
    assert bg["DeploymentReadyOption"]["ActionOnTimeout"] == "CONTINUE_DEPLOYMENT"
    assert bg["TerminateBlueInstancesOnDeploymentSuccess"]["TerminationWaitTimeInMinutes"] == (
        35 if domain == "voice" else 6)


def test_deployment_configs_per_style(templates):
    expect = {"auth": "CodeDeployDefault.ECSAllAtOnce", "order": "CodeDeployDefault.ECSCanary10Percent5Minutes",
              "voice": "CodeDeployDefault.ECSCanary10Percent15Minutes",
              "payment": "bluegreen-ECSLinear20PercentEvery2Minutes"}
    for domain, name in expect.items():
        assert only(templates[domain], "AWS::CodeDeploy::DeploymentGroup")["DeploymentConfigName"] == name


@pytest.mark.parametrize("domain", DOMAINS)
def test_codedeploy_role_is_least_privileged(templates, domain):
    roles = [r["Properties"] for r in resources_of_type(templates[domain], "AWS::IAM::Role").values()
             if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
             == "codedeploy.amazonaws.com"]
    (role,) = roles
    assert [render(arn) for arn in role["ManagedPolicyArns"]] == [
        "arn:${AWS::Partition}:iam::aws:policy/AWSCodeDeployRoleForECSLimited"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_rollback_alarms_watch_both_target_groups_and_the_load_balancer(templates, domain):
    template = templates[domain]
    blue, green = target_group_id(template, "blue"), target_group_id(template, "green")
    alarms = {a["Properties"]["AlarmName"]: a["Properties"]
              for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()}
    for suffix in ("5xx-rate", "p99-latency", "unhealthy-hosts"):
        rendered = json.dumps(alarms[f"bluegreen-{domain}-{suffix}"]["Metrics"])
        assert rendered.count(blue) >= 1 and rendered.count(green) >= 1, suffix
        assert rendered.count(blue) == rendered.count(green), f"{suffix} must watch blue and green alike"
    elb = alarms[f"bluegreen-{domain}-elb-5xx-rate"]
    names = sorted(m["MetricStat"]["Metric"]["MetricName"] for m in elb["Metrics"] if "MetricStat" in m)
    assert names == ["HTTPCode_ELB_5XX_Count", "RequestCount"]
    dimensions = [m["MetricStat"]["Metric"]["Dimensions"] for m in elb["Metrics"] if "MetricStat" in m]
    group = "realtime" if domain == "voice" else "internal"
    assert dimensions == [[{"Name": "LoadBalancer",
                            "Value": published_ref(template, "bluegreen", f"alb/{group}/0/full-name")}]] * 2
    assert elb["Threshold"] == 5 and elb["TreatMissingData"] == "notBreaching"
    dg = only(template, "AWS::CodeDeploy::DeploymentGroup")
    watched = sorted(a["Name"]["Ref"] for a in dg["AlarmConfiguration"]["Alarms"])
    assert len(watched) == (5 if domain == "payment" else 4)  # payment adds failed-payments


def test_payment_business_alarm_rolls_back(templates):
    Template.from_json(templates["payment"]).has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "bluegreen-payment-failed-payments", "Namespace": "Payments", "MetricName": "FailedPayments"})


@pytest.mark.parametrize("domain", DOMAINS)
def test_route53_alias_to_the_alb(templates, domain):
    record = only(templates[domain], "AWS::Route53::RecordSet")
    assert record["Name"] == f"{domain}.bluegreen.internal."
    assert record["HostedZoneId"] == published_ref(templates[domain], "bluegreen", "hosted-zone-id")
    assert record["Type"] == "A" and "AliasTarget" in record


@pytest.mark.parametrize("domain", DOMAINS)
def test_ecr_repository_scans_and_is_immutable(templates, domain):
    Template.from_json(templates[domain]).has_resource_properties("AWS::ECR::Repository", {
        "RepositoryName": f"bluegreen/{domain}", "ImageTagMutability": "IMMUTABLE",
        "ImageScanningConfiguration": {"ScanOnPush": True}})


@pytest.mark.parametrize("domain", DOMAINS)
def test_deployment_metadata_values(templates, domain):
    template = templates[domain]
    document = metadata(template, domain)
    prod, test = PORTS[domain]
    listeners = listener_ids(template)
    approval_required = domain != "auth"
    assert document["schemaVersion"] == 1 and document["domain"] == domain and document["platform"] == "bluegreen"
    assert document["cluster"] == "bluegreen-cluster" and document["service"] == f"bluegreen-{domain}"
    assert document["containerName"] == "app" and document["containerPort"] == 8080
    assert document["codeDeployApplication"] == document["deploymentGroup"] == f"bluegreen-{domain}"
    assert document["prodListenerArn"] == "${" + listeners[prod] + "}"
    assert document["testListenerArn"] == "${" + listeners[test] + "}"
    assert document["endpoint"] == f"http://{domain}.bluegreen.internal:{prod}"
    assert document["testEndpoint"] == f"http://{domain}.bluegreen.internal:{test}"
    # CDK's JSON rendering drops nulls: a domain without approval has no BeforeAllowTraffic key.
    expected_hooks = {"AfterAllowTestTraffic": HOOK_ARN + "smoke-tests"}
    if approval_required:
        expected_hooks["BeforeAllowTraffic"] = HOOK_ARN + "approval-request"
    assert document["hooks"] == expected_hooks
    assert document["approval"]["required"] is approval_required
    assert document["auditTable"] == "bluegreen-deployments"
    (trigger_id,) = resources_of_type(template, "Custom::CodeDeployBlueGreenDeployment")
    assert document["taskDefinitionArn"] == "${" + trigger_id + ".TaskDefinitionArn}"
    outputs = template["Outputs"]
    assert any(o.get("Value") == f"http://{domain}.bluegreen.internal:{prod}" for o in outputs.values())


@pytest.mark.parametrize("domain", DOMAINS)
def test_config_changes_are_released_through_codedeploy_and_waited_for(templates, domain):
    template = templates[domain]
    (trigger_id, trigger), = resources_of_type(template, "Custom::CodeDeployBlueGreenDeployment").items()
    props = trigger["Properties"]
    (task_id,) = resources_of_type(template, "AWS::ECS::TaskDefinition")
    assert props["TaskDefinitionArn"] == {"Ref": task_id}
    assert props["ServiceToken"] == published_ref(template, "bluegreen", "release-provider-service-token")
    assert props["ServiceTimeout"] == "3600"  # CloudFormation's maximum for one custom resource
    assert (props["ApplicationName"], props["DeploymentGroupName"], props["ClusterName"], props["ServiceName"]) == (
        f"bluegreen-{domain}", f"bluegreen-{domain}", "bluegreen-cluster", f"bluegreen-{domain}")
    assert (props["ContainerName"], props["ContainerPort"]) == ("app", "8080")
    assert props["ConfigImage"] == "docker.io/jmalloc/echo-server:v0.3.7"
    assert props["StackName"] == f"Bluegreen-Domain-{domain}"
    waiters = resources_of_type(template, "Custom::CodeDeployDeploymentWaiter")
    assert 1 + len(waiters) == WAITING_RESOURCES[domain]
    assert props["Last"] == ("true" if not waiters else "false")
    for waiter in waiters.values():
        assert waiter["Properties"]["DeploymentId"] == {"Fn::GetAtt": [trigger_id, "DeploymentId"]}
    assert [w["Properties"]["Last"] for w in waiters.values()] == ["false"] * (len(waiters) - 1) + ["true"] * bool(
        waiters)


@pytest.mark.parametrize("domain", DOMAINS)
def test_metadata_is_published_only_after_the_whole_release(templates, domain):
    template = templates[domain]
    chain = list(resources_of_type(template, "Custom::CodeDeployBlueGreenDeployment")) + list(
        resources_of_type(template, "Custom::CodeDeployDeploymentWaiter"))
    (parameter,) = [r for r in resources_of_type(template, "AWS::SSM::Parameter").values()
                    if r["Properties"]["Name"] == f"/bluegreen/domains/{domain}/deployment"]
    assert chain[-1] in parameter["DependsOn"]


def test_list_shows_platform_and_each_domain(default_app):
    assert sorted(default_app.templates) == sorted(
        ["Bluegreen-DeployAccess", "Bluegreen-Platform",
         *[f"Bluegreen-Domain-{d.name}" for d in default_app.config.domains]])


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_hook_is_the_right_function(templates, domain):
    (trigger,) = resources_of_type(templates[domain], "Custom::CodeDeployBlueGreenDeployment").values()
    hooks = {event: render(arn) for event, arn in trigger["Properties"]["Hooks"].items()}
    expected = {"AfterAllowTestTraffic": HOOK_ARN + "smoke-tests"}
    if domain != "auth":
        expected["BeforeAllowTraffic"] = HOOK_ARN + "approval-request"
    assert hooks == expected


@pytest.mark.parametrize("domain", DOMAINS)
def test_appconfig_agent_sidecar_never_blocks_the_app(templates, domain):
    template = templates[domain]
    props = only(template, "AWS::ECS::TaskDefinition")
    containers = {c["Name"]: c for c in props["ContainerDefinitions"]}
    agent = containers["appconfig-agent"]
    assert agent["Image"] == "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.0.13147"
    assert agent["Essential"] is False and "HealthCheck" not in agent
    app_env = {e["Name"] for e in containers["app"]["Environment"]}
    assert "FEATURE_FLAGS_URL" in app_env
    assert containers["app"]["DependsOn"] == [{"Condition": "START", "ContainerName": "appconfig-agent"}]
    flag_statements = [s for p in resources_of_type(template, "AWS::IAM::Policy").values()
                       for s in p["Properties"]["PolicyDocument"]["Statement"] if "appconfig:" in json.dumps(s)]
    assert len(flag_statements) == 1
    assert sorted(flag_statements[0]["Action"]) == ["appconfig:GetLatestConfiguration",
                                                    "appconfig:StartConfigurationSession"]


def test_flags_declared_in_config_are_hosted_exactly(templates):
    (version,) = resources_of_type(templates["order"], "AWS::AppConfig::HostedConfigurationVersion").values()
    document = json.loads(version["Properties"]["Content"])
    assert set(document["flags"]) == {"one_page_checkout", "order_history_v2"}
    assert document["values"]["order_history_v2"] == {"enabled": True}
    variants = document["values"]["one_page_checkout"]["_variants"]
    assert '(eq $userId "customer-1001")' in variants[0]["rule"] and variants[0]["enabled"] is True
    assert variants[-1]["enabled"] is False
