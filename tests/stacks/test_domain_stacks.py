"""DomainServiceStack: one test per behaviour, across all four default domains."""
from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Capture, Template

from tests.synth_support import resources_of_type

DOMAINS = ["auth", "order", "payment", "voice"]


@pytest.fixture(scope="module")
def templates(default_app) -> dict[str, Template]:
    return {name: Template.from_json(default_app.template(f"-Domain-{name}")) for name in DOMAINS}


@pytest.fixture(scope="module")
def specs(default_app):
    return {d.name: d for d in default_app.config.domains}


def only(template: Template, type_name: str) -> dict:
    found = resources_of_type(template.to_json(), type_name)
    assert len(found) == 1, f"{type_name}: {len(found)}"
    return next(iter(found.values()))["Properties"]


def logical_id(template: Template, type_name: str, predicate) -> str:
    matches = [k for k, v in resources_of_type(template.to_json(), type_name).items() if predicate(v["Properties"])]
    assert len(matches) == 1
    return matches[0]


@pytest.mark.parametrize("domain", DOMAINS)
def test_service_uses_code_deploy_and_names_only_the_family(templates, domain):
    props = only(templates[domain], "AWS::ECS::Service")
    assert props["DeploymentController"] == {"Type": "CODE_DEPLOY"}
    assert props["TaskDefinition"] == f"bluegreen-{domain}"
    assert props["LaunchType"] == "FARGATE"
    assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"


@pytest.mark.parametrize("domain", DOMAINS)
def test_task_definition(templates, specs, domain):
    spec = specs[domain]
    props = only(templates[domain], "AWS::ECS::TaskDefinition")
    assert props["Family"] == f"bluegreen-{domain}"
    assert props["Cpu"] == str(spec.cpu) and props["Memory"] == str(spec.memory_mib)
    app = next(c for c in props["ContainerDefinitions"] if c["Name"] == "app")
    assert app["Image"] == spec.image
    assert app["PortMappings"][0]["ContainerPort"] == spec.container_port
    assert app["LogConfiguration"]["LogDriver"] == "awslogs"


@pytest.mark.parametrize("domain", DOMAINS)
def test_blue_green_target_groups_drain_per_policy(templates, specs, domain):
    spec = specs[domain]
    groups = resources_of_type(templates[domain].to_json(), "AWS::ElasticLoadBalancingV2::TargetGroup")
    names = sorted(g["Properties"]["Name"] for g in groups.values())
    assert names == [f"bluegreen-{domain}-blue", f"bluegreen-{domain}-green"]
    for group in groups.values():
        props = group["Properties"]
        attributes = {a["Key"]: a["Value"] for a in props["TargetGroupAttributes"]}
        assert attributes["deregistration_delay.timeout_seconds"] == str(spec.drain.deregistration_delay_seconds)
        assert props["HealthCheckPath"] == spec.health_check_path
        assert props["TargetType"] == "ip"


def test_voice_drains_for_longer_than_its_sessions(templates, specs):
    voice = specs["voice"]
    assert voice.drain.deregistration_delay_seconds == 2400
    dg = only(templates["voice"], "AWS::CodeDeploy::DeploymentGroup")
    wait = dg["BlueGreenDeploymentConfiguration"]["TerminateBlueInstancesOnDeploymentSuccess"]
    assert wait == {"Action": "TERMINATE", "TerminationWaitTimeInMinutes": 35}
    assert specs["auth"].drain.deregistration_delay_seconds <= 60


@pytest.mark.parametrize("domain", DOMAINS)
def test_prod_and_test_listeners_forward_to_blue(templates, specs, domain):
    spec = specs[domain]
    template = templates[domain]
    blue = logical_id(template, "AWS::ElasticLoadBalancingV2::TargetGroup", lambda p: p["Name"].endswith("-blue"))
    listeners = {p["Properties"]["Port"]: p["Properties"]
                 for p in resources_of_type(template.to_json(), "AWS::ElasticLoadBalancingV2::Listener").values()}
    assert set(listeners) == {spec.port, spec.test_port}
    for listener in listeners.values():
        assert listener["Protocol"] == "HTTP"
        (action,) = listener["DefaultActions"]
        assert action["Type"] == "forward"
        targets = action.get("ForwardConfig", {}).get("TargetGroups") or [{"TargetGroupArn": action["TargetGroupArn"]}]
        assert targets[0]["TargetGroupArn"] == {"Ref": blue}


@pytest.mark.parametrize("domain", ["order", "payment", "voice"])
def test_canary_and_linear_domains_keep_users_sticky(templates, specs, domain):
    listener = next(p["Properties"] for p in resources_of_type(
        templates[domain].to_json(), "AWS::ElasticLoadBalancingV2::Listener").values()
        if p["Properties"]["Port"] == specs[domain].port)
    stickiness = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroupStickinessConfig"]
    assert stickiness == {"Enabled": True, "DurationSeconds": specs[domain].stickiness_seconds}


def test_all_at_once_domain_has_no_stickiness(templates, specs):
    listener = next(p["Properties"] for p in resources_of_type(
        templates["auth"].to_json(), "AWS::ElasticLoadBalancingV2::Listener").values()
        if p["Properties"]["Port"] == specs["auth"].port)
    assert "TargetGroupStickinessConfig" not in json.dumps(listener)


@pytest.mark.parametrize("domain", DOMAINS)
def test_ports_open_only_to_the_vpc_and_clients(templates, specs, domain):
    spec = specs[domain]
    rules = [r["Properties"] for r in resources_of_type(templates[domain].to_json(),
                                                        "AWS::EC2::SecurityGroupIngress").values()]
    alb_rules = [r for r in rules if r.get("CidrIp")]
    assert {(r["FromPort"], r["CidrIp"]) for r in alb_rules} == {(spec.port, "10.40.0.0/16"),
                                                                  (spec.test_port, "10.40.0.0/16")}
    assert all(r["CidrIp"] != "0.0.0.0/0" for r in alb_rules)
    task_rules = [r for r in rules if r.get("SourceSecurityGroupId")]
    assert [r["FromPort"] for r in task_rules] == [spec.container_port]


@pytest.mark.parametrize("domain", DOMAINS)
def test_deployment_group_blue_green_with_rollback(templates, specs, domain):
    spec = specs[domain]
    template = templates[domain]
    template.has_resource_properties("AWS::CodeDeploy::Application", {
        "ApplicationName": f"bluegreen-{domain}", "ComputePlatform": "ECS"})
    dg = only(template, "AWS::CodeDeploy::DeploymentGroup")
    assert dg["DeploymentGroupName"] == f"bluegreen-{domain}"
    assert dg["DeploymentStyle"] == {"DeploymentOption": "WITH_TRAFFIC_CONTROL", "DeploymentType": "BLUE_GREEN"}
    assert dg["AutoRollbackConfiguration"]["Enabled"] is True
    assert set(dg["AutoRollbackConfiguration"]["Events"]) == {
        "DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"}
    assert dg["AlarmConfiguration"]["Enabled"] is True
    assert len(dg["AlarmConfiguration"]["Alarms"]) == spec.alarms.count
    (pair,) = dg["LoadBalancerInfo"]["TargetGroupPairInfoList"]
    assert len(pair["TargetGroups"]) == 2
    assert "ProdTrafficRoute" in pair and "TestTrafficRoute" in pair
    bg = dg["BlueGreenDeploymentConfiguration"]
    assert bg["TerminateBlueInstancesOnDeploymentSuccess"]["TerminationWaitTimeInMinutes"] == \
        spec.drain.termination_wait_minutes
    assert bg["DeploymentReadyOption"]["ActionOnTimeout"] == "CONTINUE_DEPLOYMENT"


def test_deployment_configs_per_style(templates):
    expect = {"auth": "CodeDeployDefault.ECSAllAtOnce", "order": "CodeDeployDefault.ECSCanary10Percent5Minutes",
              "voice": "CodeDeployDefault.ECSCanary10Percent15Minutes"}
    for domain, name in expect.items():
        assert only(templates[domain], "AWS::CodeDeploy::DeploymentGroup")["DeploymentConfigName"] == name
    payment = only(templates["payment"], "AWS::CodeDeploy::DeploymentGroup")["DeploymentConfigName"]
    assert "Fn::ImportValue" in json.dumps(payment) or payment == "bluegreen-ECSLinear20PercentEvery2Minutes"


@pytest.mark.parametrize("domain", DOMAINS)
def test_codedeploy_role_is_least_privileged(templates, domain):
    roles = [r["Properties"] for r in resources_of_type(templates[domain].to_json(), "AWS::IAM::Role").values()
             if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
             == "codedeploy.amazonaws.com"]
    (role,) = roles
    assert json.dumps(role["ManagedPolicyArns"]).count("AWSCodeDeployRoleForECSLimited") == 1
    assert "AWSCodeDeployRoleForECS\"" not in json.dumps(role["ManagedPolicyArns"])


@pytest.mark.parametrize("domain", DOMAINS)
def test_rollback_alarms_watch_both_target_groups(templates, domain):
    template = templates[domain]
    tg_ids = set(resources_of_type(template.to_json(), "AWS::ElasticLoadBalancingV2::TargetGroup"))
    alarms = resources_of_type(template.to_json(), "AWS::CloudWatch::Alarm")
    builtin = [a["Properties"] for a in alarms.values() if "Metrics" in a["Properties"]]
    assert len(builtin) == 3
    for alarm in builtin:
        referenced = {tg for tg in tg_ids if tg in json.dumps(alarm["Metrics"])}
        assert referenced == tg_ids, alarm["AlarmName"]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_payment_business_alarm_rolls_back(templates):
    templates["payment"].has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "bluegreen-payment-failed-payments", "Namespace": "Payments", "MetricName": "FailedPayments"})


@pytest.mark.parametrize("domain", DOMAINS)
def test_route53_alias_to_the_alb(templates, domain):
    record = only(templates[domain], "AWS::Route53::RecordSet")
    assert record["Name"] == f"{domain}.bluegreen.internal."
    assert record["Type"] == "A" and "AliasTarget" in record


@pytest.mark.parametrize("domain", DOMAINS)
def test_ecr_repository_scans_and_is_immutable(templates, domain):
    templates[domain].has_resource_properties("AWS::ECR::Repository", {
        "RepositoryName": f"bluegreen/{domain}", "ImageTagMutability": "IMMUTABLE",
        "ImageScanningConfiguration": {"ScanOnPush": True}})


@pytest.mark.parametrize("domain", DOMAINS)
def test_deployment_metadata_is_published(templates, specs, domain):
    template = templates[domain]
    value = Capture()
    template.has_resource_properties("AWS::SSM::Parameter", {
        "Name": f"/bluegreen/domains/{domain}/deployment", "Type": "String", "Value": value})
    rendered = json.dumps(value.as_object())
    for key in ("schemaVersion", "cluster", "service", "taskDefinitionFamily", "containerName", "containerPort",
                "codeDeployApplication", "deploymentGroup", "prodListenerArn", "testListenerArn", "targetGroups",
                "endpoint", "testEndpoint", "hooks", "ecrRepository", "approval", "smokeChecks"):
        assert f'\\"{key}\\"' in rendered, key
    assert f"{domain}.bluegreen.internal:{specs[domain].port}" in rendered
    outputs = template.to_json()["Outputs"]
    assert any(o.get("Value") == f"http://{domain}.bluegreen.internal:{specs[domain].port}" for o in outputs.values())


@pytest.mark.parametrize("domain", DOMAINS)
def test_config_changes_start_a_codedeploy_deployment(templates, domain):
    (trigger,) = resources_of_type(templates[domain].to_json(), "Custom::CodeDeployBlueGreenDeployment").values()
    rendered = json.dumps(trigger["Properties"])
    assert "createDeployment" in rendered and "AppSpecContent" in rendered
    assert "getDeploymentGroup" in rendered  # create: read only, the new service already runs revision 1


def test_list_shows_platform_and_each_domain(default_app):
    assert sorted(default_app.templates) == [
        "Bluegreen-DeployAccess", "Bluegreen-Domain-auth", "Bluegreen-Domain-order", "Bluegreen-Domain-payment", "Bluegreen-Domain-voice",
        "Bluegreen-Platform"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_hooks_in_the_appspec_follow_the_domain_config(templates, specs, domain):
    (trigger,) = resources_of_type(templates[domain].to_json(), "Custom::CodeDeployBlueGreenDeployment").values()
    rendered = json.dumps(trigger["Properties"]["Update"])
    assert ("AfterAllowTestTraffic" in rendered) == bool(specs[domain].smoke_checks)
    assert ("BeforeAllowTraffic" in rendered) == specs[domain].approval.required


@pytest.mark.parametrize("domain", DOMAINS)
def test_appconfig_agent_sidecar_and_scoped_permissions(templates, domain):
    template = templates[domain]
    props = only(template, "AWS::ECS::TaskDefinition")
    containers = {c["Name"]: c for c in props["ContainerDefinitions"]}
    agent = containers["appconfig-agent"]
    assert agent["Image"].startswith("public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.")
    assert agent["Essential"] is False and "HealthCheck" in agent
    app_env = {e["Name"] for e in containers["app"]["Environment"]}
    assert "FEATURE_FLAGS_URL" in app_env
    assert {"Condition": "HEALTHY", "ContainerName": "appconfig-agent"} in containers["app"]["DependsOn"]
    flag_statements = [s for p in resources_of_type(template.to_json(), "AWS::IAM::Policy").values()
                       for s in p["Properties"]["PolicyDocument"]["Statement"] if "appconfig:" in json.dumps(s)]
    assert len(flag_statements) == 1
    assert sorted(flag_statements[0]["Action"]) == ["appconfig:GetLatestConfiguration",
                                                    "appconfig:StartConfigurationSession"]


def test_flags_declared_in_config_are_hosted_exactly(templates):
    content = Capture()
    templates["order"].has_resource_properties("AWS::AppConfig::HostedConfigurationVersion", {"Content": content})
    document = json.loads(content.as_string())
    assert set(document["flags"]) == {"one_page_checkout", "order_history_v2"}
    assert document["values"]["order_history_v2"] == {"enabled": True}
    variants = document["values"]["one_page_checkout"]["_variants"]
    assert '(eq $userId "customer-1001")' in variants[0]["rule"] and variants[0]["enabled"] is True
    assert variants[-1]["enabled"] is False
