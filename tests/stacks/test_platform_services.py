"""Platform services: approval gate, smoke-check hook, deployment timeline, audit table, published metadata."""
from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Capture, Match, Template

from tests.synth_support import resources_of_type


@pytest.fixture(scope="module")
def platform(default_app) -> Template:
    return Template.from_json(default_app.template("-Platform"))


def functions(platform: Template) -> dict[str, dict]:
    return {f["Properties"]["FunctionName"]: f["Properties"]
            for f in resources_of_type(platform.to_json(), "AWS::Lambda::Function").values()
            if isinstance(f["Properties"].get("FunctionName"), str)}


def policy_statements(platform: Template, function_name: str) -> list[dict]:
    template = platform.to_json()
    role_ref = functions(platform)[function_name]["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in resources_of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_ref} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def actions_of(statements: list[dict]) -> set[str]:
    found = set()
    for statement in statements:
        action = statement["Action"]
        found |= set(action if isinstance(action, list) else [action])
    return found


def test_hook_functions_carry_the_codedeploy_prefix(platform):
    names = set(functions(platform))
    assert {"CodeDeployHook_bluegreen_approval-request", "CodeDeployHook_bluegreen_smoke-tests",
            "bluegreen-approval-callback", "bluegreen-approval-worker", "bluegreen-approval-expiry",
            "bluegreen-deploy-api", "bluegreen-deployment-notifier"} <= names


def test_functions_run_latest_python_in_the_vpc_with_the_runtime_layer(platform):
    for name, props in functions(platform).items():
        assert props["Runtime"].startswith("python3."), name
        assert props["Architectures"] == ["arm64"]
        assert "VpcConfig" in props and props["TracingConfig"] == {"Mode": "Active"}
        assert len(props["Layers"]) == 1


def test_secrets_never_reach_templates_or_env_in_clear(platform):
    for name, props in functions(platform).items():
        env = props.get("Environment", {}).get("Variables", {})
        for key, value in env.items():
            assert "TOKEN" not in key or key.endswith("_ARN"), (name, key)
            assert not (isinstance(value, str) and value.startswith("xox")), (name, key)
    secrets = resources_of_type(platform.to_json(), "AWS::SecretsManager::Secret")
    assert sorted(s["Properties"]["Name"] for s in secrets.values()) == [
        "bluegreen/slack/bot-token", "bluegreen/slack/signing-secret"]
    for secret in secrets.values():
        assert secret["Properties"]["SecretString"].startswith("PLACEHOLDER")
        assert "KmsKeyId" in secret["Properties"]


def test_audit_table_is_durable_and_queryable_by_domain(platform):
    platform.has_resource_properties("AWS::DynamoDB::GlobalTable", {
        "TableName": "bluegreen-deployments",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [Match.object_like({"IndexName": "byDomain", "KeySchema": [
            {"AttributeName": "domain", "KeyType": "HASH"}, {"AttributeName": "requestedAt", "KeyType": "RANGE"}]})],
        "SSESpecification": {"SSEEnabled": True},
        "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
        "DeletionProtectionEnabled": Match.absent(),
        "Replicas": [Match.object_like({"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                                        "DeletionProtectionEnabled": True})]})
    tables = {t["Properties"]["TableName"]: t for t in resources_of_type(platform.to_json(),
                                                                          "AWS::DynamoDB::GlobalTable").values()}
    assert sorted(tables) == ["bluegreen-deployments", "bluegreen-timeline"]
    table = tables["bluegreen-deployments"]
    assert table["DeletionPolicy"] == "Retain"
    assert "TimeToLiveSpecification" not in table["Properties"]


def test_callback_api_is_throttled_traced_and_requires_slack_headers(platform):
    # Default api_gateway_logging is off: no stage logs, and never the account-wide API Gateway role
    # (tests/library/test_api_gateway_logging.py covers the other modes).
    platform.has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": "v1", "TracingEnabled": True, "AccessLogSetting": Match.absent(),
        "MethodSettings": [Match.object_like({"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20,
                                              "LoggingLevel": Match.absent()})]})
    platform.resource_count_is("AWS::ApiGateway::Account", 0)
    platform.has_resource_properties("AWS::ApiGateway::Method", {
        "HttpMethod": "POST", "AuthorizationType": "NONE",
        "RequestParameters": {"method.request.header.X-Slack-Signature": True,
                              "method.request.header.X-Slack-Request-Timestamp": True},
        "Integration": Match.object_like({"Type": "AWS_PROXY"})})
    outputs = platform.to_json()["Outputs"]
    assert any("ApprovalCallbackUrl" in key for key in outputs)


def test_lifecycle_answers_are_scoped_to_the_platforms_deployment_groups(platform):
    for name in ("CodeDeployHook_bluegreen_approval-request", "bluegreen-approval-worker",
                 "bluegreen-approval-expiry", "bluegreen-deploy-api", "CodeDeployHook_bluegreen_smoke-tests"):
        statements = policy_statements(platform, name)
        answers = [s for s in statements if "codedeploy:PutLifecycleEventHookExecutionStatus" in json.dumps(s["Action"])]
        assert answers, name
        for statement in answers:
            assert "deploymentgroup:bluegreen-*/bluegreen-*" in json.dumps(statement["Resource"]), name
    # The notifier only reads and the callback only records: neither answers a hook.
    for name in ("bluegreen-deployment-notifier", "bluegreen-approval-callback"):
        assert "codedeploy:PutLifecycleEventHookExecutionStatus" not in actions_of(policy_statements(platform, name))


def test_only_the_callback_reads_the_signing_secret(platform):
    signing = next(k for k, v in resources_of_type(platform.to_json(), "AWS::SecretsManager::Secret").items()
                   if v["Properties"]["Name"].endswith("signing-secret"))
    readers = [name for name in functions(platform)
               if signing in json.dumps(policy_statements(platform, name))]
    assert readers == ["bluegreen-approval-callback"]


def test_expiry_is_scheduled_through_eventbridge_scheduler(platform):
    platform.has_resource_properties("AWS::Scheduler::ScheduleGroup", {"Name": "bluegreen-approvals"})
    request = functions(platform)["CodeDeployHook_bluegreen_approval-request"]
    assert set(request["Environment"]["Variables"]) >= {"SCHEDULE_GROUP", "EXPIRY_FUNCTION_ARN", "SCHEDULER_ROLE_ARN"}
    assert {"scheduler:CreateSchedule", "iam:PassRole"} <= actions_of(
        policy_statements(platform, "CodeDeployHook_bluegreen_approval-request"))


def test_timeline_rules_match_codedeploy_and_platform_events(platform):
    platform.has_resource_properties("AWS::Events::Rule", {"EventPattern": {
        "source": ["aws.codedeploy"], "detail-type": ["CodeDeploy Deployment State-change Notification"],
        "detail": {"application": [{"prefix": "bluegreen-"}]}}})
    platform.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_like({
        "source": ["bluegreen.platform"],
        "detail-type": ["Smoke Checks Completed", "Approval Requested", "Approval Decided"]})})


def test_platform_parameter_lists_domains_and_identity_map(platform):
    value = Capture()
    platform.has_resource_properties("AWS::SSM::Parameter", {"Name": "/bluegreen/platform", "Value": value})
    rendered = json.dumps(value.as_object())
    for text in ("auth", "order", "payment", "voice", "github:alice", "U0ALICE", "auditTable", "deployApiUrl",
                 "approvalRules", "githubDeployers", "example-org/domain-services"):
        assert text in rendered, text


def test_deploy_api_requires_iam_on_every_method(platform):
    apis = {k: v["Properties"]["Name"] for k, v in resources_of_type(platform.to_json(),
                                                                      "AWS::ApiGateway::RestApi").items()}
    deploy_api = next(k for k, name in apis.items() if name == "bluegreen-deploy-api")
    methods = [m["Properties"] for m in resources_of_type(platform.to_json(), "AWS::ApiGateway::Method").values()
               if m["Properties"]["RestApiId"] == {"Ref": deploy_api}]
    assert sorted(m["HttpMethod"] for m in methods) == ["POST", "POST"]
    assert {m["AuthorizationType"] for m in methods} == {"AWS_IAM"}


def test_worker_consumes_only_new_decisions_votes_and_slack_refusals_with_a_dlq(platform):
    (mapping,) = resources_of_type(platform.to_json(), "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True and props["MaximumRecordAgeInSeconds"] == 3600
    assert props["StartingPosition"] == "TRIM_HORIZON" and "OnFailure" in json.dumps(props["DestinationConfig"])
    patterns = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert patterns == [
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"sk": {"S": ["DECISION", {"prefix": "VOTE#"}]}}}},
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"via": {"S": ["slack"]}, "recordType": {"S": ["event"]}}}}]
    platform.has_resource_properties("AWS::SQS::Queue", {"QueueName": "bluegreen-approval-worker-dlq",
                                                         "SqsManagedSseEnabled": True})


def test_flag_strategies_are_shared_per_rollout_shape(platform):
    names = sorted(s["Properties"]["Name"] for s in resources_of_type(
        platform.to_json(), "AWS::AppConfig::DeploymentStrategy").values())
    assert names == ["bluegreen-flags-exponential-10pct-20m-bake15m", "bluegreen-flags-linear-20pct-10m-bake10m"]
