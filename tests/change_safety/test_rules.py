"""Every rule of the gate on small handcrafted template pairs: verdict, change kind, properties, reason, fix."""
from __future__ import annotations

from pathlib import Path

import pytest

from bgctl.change_safety.model import Verdict
from tests.change_safety.gate_support import (DEPLOYMENT_GROUP, DOMAIN, LISTENER, SERVICE, TARGET_GROUP, TRIGGER,
                                              change, changed, classify_pair, one_stack, resource, template)

SAFE, CODEDEPLOY, DANGEROUS = Verdict.SAFE, Verdict.THROUGH_CODEDEPLOY, Verdict.DANGEROUS
DEFAULT_ACTIONS = "a listener update re-applies its template DefaultActions"


def test_identical_assemblies_have_no_changes(tmp_path: Path) -> None:
    report = one_stack(tmp_path, DOMAIN, DOMAIN)
    assert report.stacks == () and report.verdict is SAFE and report.exit_code == 0


def test_metadata_alone_is_no_change(tmp_path: Path) -> None:
    new = changed(DOMAIN, "Service")
    new["Service"]["Metadata"] = {"aws:cdk:path": "App/Service/Resource"}
    assert one_stack(tmp_path, DOMAIN, new).stacks == ()


# --------------------------------------------------------------------------------------------- listener


@pytest.mark.parametrize("properties", [
    {"Port": 8092},
    {"DefaultActions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": {"Ref": "Blue"}}],
                                                              "TargetGroupStickinessConfig": {"Enabled": True,
                                                                                              "DurationSeconds": 600}}}]},
    {"Certificates": [{"CertificateArn": "arn:aws:acm:eu-west-1:1:certificate/new"}]},
])
def test_any_listener_property_change_is_dangerous(tmp_path: Path, properties: dict) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Prod", **properties)), "Prod")
    assert (found.verdict, found.change) == (DANGEROUS, "modified")
    assert DEFAULT_ACTIONS in found.reason and "whichever colour CodeDeploy made live" in found.reason
    assert found.properties[0].split("/")[0] in properties
    assert "keep listener properties identical" in found.fix


def test_listener_replacement_cites_the_schema(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Prod", LoadBalancerArn="arn:other-lb")), "Prod")
    assert (found.verdict, found.change) == (DANGEROUS, "replaced")
    assert ("LoadBalancerArn in createOnlyProperties of the CloudFormation resource schema for "
            "AWS::ElasticLoadBalancingV2::Listener") in found.reason


def test_a_replaced_target_group_rewrites_the_listener_at_deploy_time(tmp_path: Path) -> None:
    report = one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Blue", Port=8081))
    assert change(report, "Blue").change == "replaced"
    listener = change(report, "Prod")  # its template text is unchanged: Ref Blue resolves to a new ARN
    assert listener.verdict is DANGEROUS and listener.properties == ("DefaultActions/0/TargetGroupArn",)


def test_removing_a_listener_is_dangerous(tmp_path: Path) -> None:
    new = {k: v for k, v in DOMAIN.items() if k != "Prod"}
    found = change(one_stack(tmp_path, DOMAIN, new), "Prod")
    assert (found.verdict, found.change) == (DANGEROUS, "removed") and "closes its port" in found.reason


# ----------------------------------------------------------------------------------------- target group


@pytest.mark.parametrize("properties", [
    {"HealthCheckPath": "/ready"},
    {"TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "2400"}]},
])
def test_target_group_health_check_and_attributes_are_safe(tmp_path: Path, properties: dict) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Blue", **properties)), "Blue")
    assert (found.verdict, found.change) == (SAFE, "modified") and "in-place update" in found.reason


@pytest.mark.parametrize("prop, value", [("Port", 8081), ("Protocol", "HTTPS"), ("VpcId", "vpc-2"),
                                         ("Name", "p-order-blue2")])
def test_target_group_replacement_is_dangerous(tmp_path: Path, prop: str, value: object) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Blue", **{prop: value})), "Blue")
    assert (found.verdict, found.change) == (DANGEROUS, "replaced")
    assert (f"{prop} in createOnlyProperties of the CloudFormation resource schema for "
            "AWS::ElasticLoadBalancingV2::TargetGroup") in found.reason
    assert "CodeDeploy's deployment group" in found.reason


# ------------------------------------------------------------------------------------------ ECS service


def test_desired_count_is_safe(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Service", DesiredCount=4)), "Service")
    assert (found.verdict, found.reason) == (SAFE, "in-place update of DesiredCount")


def test_load_balancers_change_is_dangerous(tmp_path: Path) -> None:
    balancers = [{"ContainerName": "app", "ContainerPort": 8081, "TargetGroupArn": {"Ref": "Blue"}}]
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Service", LoadBalancers=balancers)), "Service")
    assert found.verdict is DANGEROUS and "ECS refuses LoadBalancers changes" in found.reason


def test_task_definition_change_on_the_service_is_dangerous(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Service", TaskDefinition={"Ref": "TaskDef"})),
                   "Service")
    assert found.verdict is DANGEROUS
    assert "CloudFormation must never change the task definition of a CODE_DEPLOY service" in found.reason


def test_network_configuration_of_a_code_deploy_service_is_dangerous(tmp_path: Path) -> None:
    network = {"AwsvpcConfiguration": {"Subnets": ["subnet-2"]}}
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Service", NetworkConfiguration=network)), "Service")
    assert found.verdict is DANGEROUS and "UpdateService" in found.reason and "NetworkConfiguration" in found.reason


def test_network_configuration_of_a_rolling_service_is_safe(tmp_path: Path) -> None:
    base = changed(DOMAIN, "Service", DeploymentController={"Type": "ECS"})
    new = changed(base, "Service", NetworkConfiguration={"AwsvpcConfiguration": {"Subnets": ["subnet-2"]}})
    assert change(one_stack(tmp_path, base, new), "Service").verdict is SAFE


@pytest.mark.parametrize("prop, value, schema_list", [
    ("ServiceName", "p-order-2", "createOnlyProperties"),
    ("LaunchType", "FARGATE", "conditionalCreateOnlyProperties"),
])
def test_service_replacement_is_dangerous(tmp_path: Path, prop: str, value: str, schema_list: str) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Service", **{prop: value})), "Service")
    assert (found.verdict, found.change) == (DANGEROUS, "replaced")
    assert f"{prop} in {schema_list} of the CloudFormation resource schema for AWS::ECS::Service" in found.reason


def test_removing_the_service_is_dangerous(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, DOMAIN, {k: v for k, v in DOMAIN.items() if k != "Service"}), "Service")
    assert found.verdict is DANGEROUS and "stops the domain" in found.reason


# ---------------------------------------------------------------------------------- task definition


def test_new_revision_with_the_trigger_goes_through_codedeploy(tmp_path: Path) -> None:
    new = changed(DOMAIN, "TaskDef", ContainerDefinitions=[{"Name": "app", "Image": "nginx:1.27",
                                                            "Environment": [{"Name": "X", "Value": "1"}]}])
    report = one_stack(tmp_path, DOMAIN, new)
    task = change(report, "TaskDef")
    assert (task.verdict, task.change) == (CODEDEPLOY, "replaced")
    assert task.properties == ("ContainerDefinitions/0/Environment",)
    assert "deployment trigger Trigger starts a CodeDeploy deployment" in task.reason
    assert "ContainerDefinitions in createOnlyProperties of the CloudFormation resource schema for " \
           "AWS::ECS::TaskDefinition" in task.reason
    # the trigger's text did not change; the Ref to the new revision did
    trigger = change(report, "Trigger")
    assert (trigger.verdict, trigger.properties) == (CODEDEPLOY, ("TaskDefinitionArn",))
    assert report.verdict is CODEDEPLOY and report.exit_code == 10


def test_new_revision_without_a_trigger_is_silent_drift(tmp_path: Path) -> None:
    base = {k: v for k, v in DOMAIN.items() if k != "Trigger"}
    new = changed(base, "TaskDef", Cpu="1024", Memory="2048")
    found = change(one_stack(tmp_path, base, new), "TaskDef")
    assert found.verdict is DANGEROUS and found.reason.startswith("silent drift: a new revision nobody deploys")
    assert "bgctl deploy" in found.fix


def test_a_trigger_that_names_another_revision_does_not_count(tmp_path: Path) -> None:
    base = changed(DOMAIN, "Trigger", TaskDefinitionArn="arn:static:1")
    new = changed(changed(base, "TaskDef", Cpu="1024"), "Trigger", TaskDefinitionArn="arn:static:2")
    report = one_stack(tmp_path, base, new)
    assert change(report, "TaskDef").verdict is DANGEROUS
    assert change(report, "Trigger").verdict is CODEDEPLOY


def test_task_definition_tags_are_in_place(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "TaskDef", Tags=[{"Key": "a", "Value": "b"}])),
                   "TaskDef")
    assert (found.verdict, found.change) == (SAFE, "modified")


def test_a_new_config_image_goes_through_codedeploy(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Trigger", ConfigImage="nginx:1.28")), "Trigger")
    assert (found.verdict, found.change) == (CODEDEPLOY, "modified") and "starts a CodeDeploy" in found.reason


def test_trigger_settings_without_a_new_revision_deploy_nothing(tmp_path: Path) -> None:
    """E.g. approval turned on: a new hook in the trigger's properties, the same task definition."""
    new = changed(DOMAIN, "Trigger", Hooks={"AfterAllowTestTraffic": "arn:smoke", "BeforeAllowTraffic": "arn:ok"})
    found = change(one_stack(tmp_path, DOMAIN, new), "Trigger")
    assert (found.verdict, found.change) == (SAFE, "modified") and "nothing is deployed" in found.reason


# ---------------------------------------------------------------------------------- deployment group


@pytest.mark.parametrize("properties", [
    {"DeploymentConfigName": "CodeDeployDefault.ECSCanary10Percent5Minutes"},
    {"AlarmConfiguration": {"Enabled": True, "Alarms": [{"Name": "p-order-5xx"}]}},
    {"AutoRollbackConfiguration": {"Enabled": True, "Events": ["DEPLOYMENT_FAILURE"]}},
    {"BlueGreenDeploymentConfiguration": {"TerminateBlueInstancesOnDeploymentSuccess": {
        "Action": "TERMINATE", "TerminationWaitTimeInMinutes": 35}}},
])
def test_deployment_group_settings_are_safe(tmp_path: Path, properties: dict) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Group", **properties)), "Group")
    assert (found.verdict, found.change) == (SAFE, "modified") and "next deployment" in found.reason


def test_deployment_group_target_groups_are_dangerous(tmp_path: Path) -> None:
    info = {"TargetGroupPairInfoList": [{"TargetGroups": [{"Name": "other-blue"}, {"Name": "other-green"}]}]}
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Group", LoadBalancerInfo=info)), "Group")
    assert found.verdict is DANGEROUS and "target groups, listeners or service change" in found.reason


def test_deployment_group_rename_is_a_dangerous_replacement(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Group", DeploymentGroupName="p-order-2")), "Group")
    assert (found.verdict, found.change) == (DANGEROUS, "replaced")
    assert "CloudFormation cannot replace a custom-named resource" in found.reason


# ---------------------------------------------------------------------------- shared configs by name


CONFIG = resource("AWS::CodeDeploy::DeploymentConfig", {
    "DeploymentConfigName": "p-ECSLinear10PercentEvery3Minutes", "ComputePlatform": "ECS",
    "TrafficRoutingConfig": {"Type": "TimeBasedLinear", "TimeBasedLinear": {"LinearPercentage": 10,
                                                                            "LinearInterval": 3}}})
USER = resource(DEPLOYMENT_GROUP, {"ApplicationName": "x", "DeploymentConfigName": "p-ECSLinear10PercentEvery3Minutes"})


def test_removing_a_shared_deployment_config_names_its_users(tmp_path: Path) -> None:
    base = {"Platform": template({"Config": CONFIG}), "Domain": template({"Group": USER})}
    new = {"Platform": template({}), "Domain": template({"Group": USER})}
    found = change(classify_pair(tmp_path, base, new), "Config")
    assert (found.verdict, found.change) == (DANGEROUS, "removed")
    assert "p-ECSLinear10PercentEvery3Minutes" in found.reason and "used by Domain" in found.reason


def test_replacing_a_rollout_strategy_is_dangerous(tmp_path: Path) -> None:
    strategy = resource("AWS::AppConfig::DeploymentStrategy", {"Name": "p-flags-linear", "ReplicateTo": "NONE",
                                                              "DeploymentDurationInMinutes": 10, "GrowthFactor": 20})
    new = changed({"S": strategy}, "S", ReplicateTo="SSM_DOCUMENT")
    found = change(one_stack(tmp_path, {"S": strategy}, new), "S")
    assert (found.verdict, found.change) == (DANGEROUS, "replaced")
    assert "ReplicateTo in createOnlyProperties" in found.reason and "p-flags-linear" in found.reason


def test_a_rollout_strategy_tuned_in_place_is_safe(tmp_path: Path) -> None:
    strategy = resource("AWS::AppConfig::DeploymentStrategy", {"Name": "p-flags", "ReplicateTo": "NONE",
                                                              "DeploymentDurationInMinutes": 10})
    found = change(one_stack(tmp_path, {"S": strategy}, changed({"S": strategy}, "S", DeploymentDurationInMinutes=20)),
                   "S")
    assert found.verdict is SAFE


# ------------------------------------------------------------------------------------ generic resources


ROLE = resource("AWS::IAM::Role", {"RoleName": "p-order-task", "Path": "/", "Description": "task role"})


def test_in_place_update_is_safe(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, {"Role": ROLE}, changed({"Role": ROLE}, "Role", Description="new")), "Role")
    assert (found.verdict, found.change, found.reason) == (SAFE, "modified", "in-place update of Description")


def test_replacing_a_custom_named_resource_is_dangerous(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, {"Role": ROLE}, changed({"Role": ROLE}, "Role", Path="/app/")), "Role")
    assert (found.verdict, found.change) == (DANGEROUS, "replaced")
    assert "Path in createOnlyProperties of the CloudFormation resource schema for AWS::IAM::Role" in found.reason
    assert "CloudFormation cannot replace a custom-named resource" in found.reason and "p-order-task" in found.reason


def test_a_name_built_from_pseudo_parameters_is_still_fixed(tmp_path: Path) -> None:
    role = resource("AWS::IAM::Role", {"RoleName": {"Fn::Join": ["-", ["p", {"Ref": "AWS::Region"}]]}, "Path": "/"})
    found = change(one_stack(tmp_path, {"Role": role}, changed({"Role": role}, "Role", Path="/x/")), "Role")
    assert found.verdict is DANGEROUS and "p-${AWS::Region} (RoleName)" in found.reason


def test_replacing_an_unnamed_resource_is_safe(tmp_path: Path) -> None:
    role = resource("AWS::IAM::Role", {"Path": "/"})
    found = change(one_stack(tmp_path, {"Role": role}, changed({"Role": role}, "Role", Path="/app/")), "Role")
    assert (found.verdict, found.change) == (SAFE, "replaced")
    assert found.reason.startswith("replacement of an unnamed resource (Path in createOnlyProperties")


def test_replacing_a_retained_resource_leaves_an_orphan(tmp_path: Path) -> None:
    group = resource("AWS::EC2::SecurityGroup", {"GroupDescription": "a", "VpcId": "vpc-1"},
                     DeletionPolicy="Retain", UpdateReplacePolicy="Retain")
    found = change(one_stack(tmp_path, {"G": group}, changed({"G": group}, "G", GroupDescription="b")), "G")
    assert (found.verdict, found.change) == (DANGEROUS, "replaced") and "orphan" in found.reason


def test_a_new_immutable_version_is_safe_despite_retain(tmp_path: Path) -> None:
    version = resource("AWS::AppConfig::HostedConfigurationVersion",
                       {"ApplicationId": "a", "ConfigurationProfileId": "p", "Content": "{}",
                        "ContentType": "application/json"}, DeletionPolicy="Retain", UpdateReplacePolicy="Retain")
    found = change(one_stack(tmp_path, {"V": version}, changed({"V": version}, "V", Content='{"flag": true}')), "V")
    assert (found.verdict, found.change) == (SAFE, "replaced") and "new immutable version" in found.reason


def test_only_attributes_changed(tmp_path: Path) -> None:
    new = changed({"Role": ROLE}, "Role")
    new["Role"]["DependsOn"] = ["Other"]
    found = change(one_stack(tmp_path, {"Role": ROLE}, new), "Role")
    assert (found.verdict, found.properties, found.reason) == (SAFE, ("DependsOn",),
                                                               "only DependsOn changed: no resource update")


def test_a_type_change_under_the_same_logical_id_is_dangerous(tmp_path: Path) -> None:
    new = {"Role": resource("AWS::IAM::User", {"Path": "/"})}
    found = change(one_stack(tmp_path, {"Role": ROLE}, new), "Role")
    assert found.verdict is DANGEROUS and "CloudFormation refuses the update" in found.reason


def test_a_type_without_a_vendored_schema_is_treated_conservatively(tmp_path: Path) -> None:
    thing = resource("AWS::Example::Thing", {"Size": 1})
    report = one_stack(tmp_path, {"T": thing}, changed({"T": thing}, "T", Size=2))
    found = change(report, "T")
    assert (found.verdict, found.change) == (DANGEROUS, "replaced")
    assert "no CloudFormation resource schema is vendored for AWS::Example::Thing" in found.reason
    assert "refresh_schemas --type AWS::Example::Thing" in found.fix
    assert change(one_stack(tmp_path / "added", {}, {"T": thing}), "T").verdict is SAFE


def test_any_custom_resource_uses_the_custom_resource_schema(tmp_path: Path) -> None:
    custom = resource("Custom::Thing", {"ServiceToken": "arn:fn:1", "Value": 1})
    report = one_stack(tmp_path, {"C": custom}, changed({"C": custom}, "C", ServiceToken="arn:fn:2"))
    found = change(report, "C")
    assert (found.verdict, found.change) == (SAFE, "replaced")
    assert "ServiceToken in createOnlyProperties of the CloudFormation resource schema for " \
           "AWS::CloudFormation::CustomResource" in found.reason
    in_place = change(one_stack(tmp_path / "b", {"C": custom}, changed({"C": custom}, "C", Value=2)), "C")
    assert (in_place.verdict, in_place.change) == (SAFE, "modified")


# ---------------------------------------------------------------------------------- added and removed


def test_added_resource_is_safe(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, {}, {"Role": ROLE}), "Role")
    assert (found.verdict, found.change, found.reason) == (SAFE, "added", "new resource: CloudFormation creates it")


def test_a_renamed_logical_id_of_a_named_resource_clashes(tmp_path: Path) -> None:
    report = one_stack(tmp_path, {"Role": ROLE}, {"TaskRole": ROLE})
    added = change(report, "TaskRole")
    assert added.verdict is DANGEROUS and "App/Role still holds that name" in added.reason
    assert change(report, "Role").verdict is DANGEROUS  # and the removal deletes a named resource


def test_removed_unnamed_resource_is_safe(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, {"Role": resource("AWS::IAM::Role", {"Path": "/"})}, {}), "Role")
    assert (found.verdict, found.change) == (SAFE, "removed")


def test_removed_named_resource_is_dangerous(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, {"Role": ROLE}, {}), "Role")
    assert found.verdict is DANGEROUS and found.reason.startswith("deletes p-order-task (RoleName)")


def test_removed_retained_named_resource_keeps_its_name_taken(tmp_path: Path) -> None:
    repository = resource("AWS::ECR::Repository", {"RepositoryName": "p/order"}, DeletionPolicy="Retain",
                          UpdateReplacePolicy="Retain")
    found = change(one_stack(tmp_path, {"Repo": repository}, {}), "Repo")
    assert found.verdict is DANGEROUS
    assert "DeletionPolicy Retain keeps p/order (RepositoryName)" in found.reason and "the name stays taken" in found.reason


def test_removed_retained_unnamed_resource_is_an_orphan(tmp_path: Path) -> None:
    key = resource("AWS::KMS::Key", {"Description": "logs"}, DeletionPolicy="Retain")
    found = change(one_stack(tmp_path, {"Key": key}, {}), "Key")
    assert found.verdict is DANGEROUS and "an orphan" in found.reason


# ----------------------------------------------------------------------------------------- foundations


@pytest.mark.parametrize("type_name, properties, new, words", [
    ("AWS::EC2::VPC", {"CidrBlock": "10.40.0.0/16"}, {"CidrBlock": "10.41.0.0/16"}, "cannot be deleted while"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internal"}, {"Scheme": "internet-facing"},
     "a new DNS name"),
    ("AWS::ECS::Cluster", {"ClusterName": "c"}, {"ClusterName": "d"}, "none of the running services"),
    ("AWS::Route53::HostedZone", {"Name": "a.internal."}, {"Name": "b.internal."}, "starts empty"),
])
def test_replacing_a_foundation_is_dangerous(tmp_path: Path, type_name: str, properties: dict, new: dict,
                                             words: str) -> None:
    found = change(one_stack(tmp_path, {"F": resource(type_name, properties)}, {"F": resource(type_name, new)}), "F")
    assert (found.verdict, found.change) == (DANGEROUS, "replaced") and words in found.reason


def test_a_replaced_vpc_replaces_what_lives_in_it(tmp_path: Path) -> None:
    base = {"Vpc": resource("AWS::EC2::VPC", {"CidrBlock": "10.40.0.0/16"}),
            "Subnet": resource("AWS::EC2::Subnet", {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.40.0.0/24"}),
            "Sg": resource("AWS::EC2::SecurityGroup", {"GroupDescription": "x", "VpcId": {"Ref": "Vpc"}}),
            "Fn": resource("AWS::Lambda::Function", {"VpcConfig": {"SubnetIds": [{"Ref": "Subnet"}]}})}
    report = one_stack(tmp_path, base, changed(base, "Vpc", CidrBlock="10.41.0.0/16"))
    assert change(report, "Subnet").change == "replaced"  # VpcId (text unchanged) resolves to the new VPC
    assert change(report, "Sg").change == "replaced"
    function = change(report, "Fn")
    assert (function.verdict, function.change, function.properties) == (SAFE, "modified", ("VpcConfig/SubnetIds/0",))


# ---------------------------------------------------------------------------------- duplicates by content


def test_a_security_group_rule_moving_to_another_logical_id_is_a_duplicate(tmp_path: Path) -> None:
    def rule(port: int, cidr: str) -> dict:
        return resource("AWS::EC2::SecurityGroupIngress", {"GroupId": "sg-1", "IpProtocol": "tcp", "FromPort": port,
                                                           "ToPort": port, "CidrIp": cidr})
    base = {"Ingress0": rule(8082, "10.40.0.0/16"), "Ingress1": rule(9082, "10.40.0.0/16")}
    new = {"Ingress0": rule(8082, "10.40.0.0/16"), "Ingress1": rule(8082, "10.60.0.0/16"),
           "Ingress2": rule(9082, "10.40.0.0/16")}
    report = one_stack(tmp_path, base, new)
    duplicate = change(report, "Ingress2")
    assert (duplicate.verdict, duplicate.change) == (DANGEROUS, "added")
    assert "same SecurityGroupIngress as Ingress1" in duplicate.reason and "keep logical ids stable" in duplicate.fix
    assert change(report, "Ingress1").verdict is SAFE  # replaced by a rule nobody else holds


# ----------------------------------------------------------------------------------------------- exports


def _exporter(value: object, export: str = "Platform:VpcId") -> dict:
    return template({"Vpc": resource("AWS::EC2::VPC", {"CidrBlock": value})},
                    {"VpcExport": {"Value": {"Ref": "Vpc"}, "Export": {"Name": export}}})


def _importer(export: str = "Platform:VpcId") -> dict:
    return template({"Tg": resource(TARGET_GROUP, {"VpcId": {"Fn::ImportValue": export}, "Port": 80})})


def test_an_export_that_changes_value_while_imported_is_dangerous(tmp_path: Path) -> None:
    base = {"Platform": _exporter("10.40.0.0/16"), "Domain": _importer()}
    report = classify_pair(tmp_path, base, {"Platform": _exporter("10.41.0.0/16"), "Domain": _importer()})
    export = change(report, "VpcExport")
    assert (export.verdict, export.type, export.change) == (DANGEROUS, "Output", "modified")
    assert "export Platform:VpcId changes value while Domain imports it (Fn::ImportValue)" in export.reason
    assert "the exporting stack's update fails" in export.reason
    # and the importer's target group, whose text is unchanged, is replaced by the new VPC id
    target_group = change(report, "Tg")
    assert (target_group.change, target_group.properties) == ("replaced", ("VpcId",))


def test_removing_an_export_that_only_the_old_assembly_imports_is_dangerous(tmp_path: Path) -> None:
    base = {"Platform": _exporter("10.40.0.0/16"), "Domain": _importer()}
    new = {"Platform": template({"Vpc": resource("AWS::EC2::VPC", {"CidrBlock": "10.40.0.0/16"})}),
           "Domain": template({})}
    export = change(classify_pair(tmp_path, base, new), "VpcExport")
    assert (export.verdict, export.change) == (DANGEROUS, "removed") and "is removed while Domain imports it" in export.reason


def test_an_export_renamed_while_imported_in_the_new_assembly_is_dangerous(tmp_path: Path) -> None:
    base = {"Platform": _exporter("10.40.0.0/16"), "Domain": template({})}
    new = {"Platform": _exporter("10.40.0.0/16", export="Platform:Vpc2"), "Domain": _importer("Platform:VpcId")}
    assert change(classify_pair(tmp_path, base, new), "VpcExport").verdict is DANGEROUS


def test_an_export_nobody_imports_may_change(tmp_path: Path) -> None:
    report = classify_pair(tmp_path, {"Platform": _exporter("10.40.0.0/16")}, {"Platform": _exporter("10.41.0.0/16")})
    export = change(report, "VpcExport")
    assert export.verdict is SAFE and "no stack of either assembly imports it" in export.reason


def test_a_stack_output_read_with_get_stack_output(tmp_path: Path) -> None:
    producer = template({"Topic": resource("AWS::SNS::Topic", {})}, {"TopicArn": {"Value": {"Ref": "Topic"}}})
    reader = template({"P": resource("AWS::SSM::Parameter", {"Type": "String", "Value": {
        "Fn::GetStackOutput": {"StackName": "Producer", "OutputName": "TopicArn"}}})})
    gone = classify_pair(tmp_path / "gone", {"Producer": producer, "Reader": reader},
                         {"Producer": template({"Topic": resource("AWS::SNS::Topic", {})}), "Reader": reader})
    found = change(gone, "TopicArn")
    assert found.verdict is DANGEROUS and "Reader reads it (Fn::GetStackOutput)" in found.reason
    moved = template({"Topic": resource("AWS::SNS::Topic", {})}, {"TopicArn": {"Value": "arn:static"}})
    found = change(classify_pair(tmp_path / "moved", {"Producer": producer, "Reader": reader},
                                 {"Producer": moved, "Reader": reader}), "TopicArn")
    assert found.verdict is SAFE and "next update" in found.reason


# --------------------------------------------------------------------------------------------- stacks


def test_an_added_stack_is_safe(tmp_path: Path) -> None:
    report = classify_pair(tmp_path, {}, {"New": template({"Role": ROLE})})
    (stack,) = report.stacks
    assert (stack.stack, stack.status, stack.verdict) == ("New", "added", SAFE)
    assert stack.changes[0].reason == "new stack: CloudFormation creates its 1 resources"


def test_a_renamed_stack_clashes_with_the_names_the_old_one_holds(tmp_path: Path) -> None:
    report = classify_pair(tmp_path, {"Old": template({"Role": ROLE})}, {"New": template({"Role": ROLE})})
    added = change(report, "New")
    assert added.verdict is DANGEROUS and "p-order-task (Role, held by Old/Role)" in added.reason


def test_a_removed_stack_lists_what_it_retains(tmp_path: Path) -> None:
    repository = resource("AWS::ECR::Repository", {"RepositoryName": "p/order"}, DeletionPolicy="Retain")
    report = classify_pair(tmp_path, {"Domain": template({"Repo": repository, "Role": ROLE})}, {})
    found = change(report, "Domain")
    assert (found.verdict, found.type, found.change) == (DANGEROUS, "AWS::CloudFormation::Stack", "removed")
    assert "deletes its 2 resources" in found.reason
    assert "DeletionPolicy Retain keeps 1: AWS::ECR::Repository p/order (fixed name)" in found.reason
    assert "removing-a-domain-or-a-stack" in found.fix


def test_the_verdict_is_the_worst_change(tmp_path: Path) -> None:
    base = {"A": template(DOMAIN), "B": template(DOMAIN)}
    new = {"A": template(changed(DOMAIN, "Service", DesiredCount=3)),
           "B": template(changed(DOMAIN, "TaskDef", Cpu="1024"))}
    report = classify_pair(tmp_path, base, new)
    assert [(s.stack, s.verdict) for s in report.stacks] == [("A", SAFE), ("B", CODEDEPLOY)]
    assert report.verdict is CODEDEPLOY and report.counts() == {"safe": 1, "through-codedeploy": 2, "dangerous": 0}
    worse = classify_pair(tmp_path / "worse", base, {**new, "A": template(changed(DOMAIN, "Prod", Port=1))})
    assert worse.verdict is DANGEROUS and worse.exit_code == 20


def test_changes_are_ordered_worst_first(tmp_path: Path) -> None:
    new = changed(changed(DOMAIN, "Service", DesiredCount=3), "Prod", Port=1)
    (stack,) = one_stack(tmp_path, DOMAIN, new).stacks
    assert [c.logical_id for c in stack.changes] == ["Prod", "Service"]


def test_stack_selection(tmp_path: Path) -> None:
    base = {"P-Domain-a": template(DOMAIN), "P-Domain-b": template(DOMAIN), "P-Platform": template({})}
    new = {"P-Domain-a": template(changed(DOMAIN, "Prod", Port=1)),
           "P-Domain-b": template(changed(DOMAIN, "Service", DesiredCount=3)), "P-Platform": template({})}
    report = classify_pair(tmp_path, base, new, select=["P-Domain-b"])
    assert [s.stack for s in report.stacks] == ["P-Domain-b"] and report.verdict is SAFE
    both = classify_pair(tmp_path / "glob", base, new, select=["P-Domain-*"])
    assert [s.stack for s in both.stacks] == ["P-Domain-a", "P-Domain-b"]


def test_a_replaced_trigger_still_counts_as_a_deployment(tmp_path: Path) -> None:
    found = change(one_stack(tmp_path, DOMAIN, changed(DOMAIN, "Trigger", ServiceToken="arn:provider")), "Trigger")
    assert (found.verdict, found.change) == (CODEDEPLOY, "replaced")
    assert "ServiceToken in createOnlyProperties of the CloudFormation resource schema for " \
           "AWS::CloudFormation::CustomResource" in found.reason
