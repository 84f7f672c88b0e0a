"""The deploy API (registrar): every deployment starts here with a requester AWS/GitHub verified; the CLI's
decisions obey the Slack rules. moto (SSM, DynamoDB) + the CodeDeploy fake; GitHub keys on 127.0.0.1."""
from __future__ import annotations

import copy
import json

import pytest

import approval_fakes as fx
import oidc_fakes as oidc
from bgruntime.github_oidc import JwksCache

registrar = fx.load_registrar()
DEPLOY_ROLE = "arn:aws:sts::123456789012:assumed-role/bluegreen-deploy-org-app/run-1"
TRIGGER = "arn:aws:sts::123456789012:assumed-role/bluegreen-release-provider/cfn"
BOB_SSO = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0123/bob"
ALICE_SSO = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0123/alice"
CAROL_SSO = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0123/carol"
TASK_DEF = "arn:aws:ecs:eu-west-1:123456789012:task-definition/bluegreen-auth:8"
STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/Bluegreen-Domain-auth/0f0e0d0c-0b0a-0908-0706-050403020100"
KEY = oidc.SigningKey()
IDENTITY_MAP = {"github:alice": "U0ALICE", f"iam:{BOB_SSO}": "U0BOB", f"iam:{ALICE_SSO}": "U0ALICE",
                f"iam:{CAROL_SSO}": "U0CAROL"}
METADATA = {**fx.METADATA, "hooks": {
    "AfterAllowTestTraffic": "arn:aws:lambda:eu-west-1:123456789012:function:CodeDeployHook_bluegreen_smoke-tests",
    "BeforeAllowTraffic": "arn:aws:lambda:eu-west-1:123456789012:function:CodeDeployHook_bluegreen_approval-request"}}


@pytest.fixture()
def api(aws, clock):
    codedeploy = fx.FakeCodeDeploy()
    fx.put_parameters(aws.ssm, metadata=METADATA, platform_meta={
        **fx.PLATFORM_META, "slackIdentityMap": IDENTITY_MAP, "githubDeployers": ["org/app"]})
    jwks = JwksCache(fetch=lambda url, timeout: json.dumps({"keys": [KEY.jwk()]}).encode())
    ctx = registrar.Context(platform="bluegreen", table=fx.TABLE, region="eu-west-1", ssm=aws.ssm,
                            dynamodb=aws.dynamodb, codedeploy=codedeploy, jwks=jwks, clock=clock)
    return ctx


def event(body, *, arn=DEPLOY_ROLE, resource="/deployments", deployment_id=None):
    shaped = copy.deepcopy(fx.load_event("apigw_deploy_api_start.json"))
    shaped["requestContext"]["identity"]["userArn"] = arn
    shaped["body"] = body if isinstance(body, str) else json.dumps(body)
    if deployment_id is not None:
        shaped.update(resource="/deployments/{deploymentId}/decisions",
                      path=f"/deployments/{deployment_id}/decisions", pathParameters={"deploymentId": deployment_id})
    elif resource != "/deployments":
        shaped["resource"] = resource
    return shaped


def call(ctx, shaped):
    response = registrar.handle(shaped, ctx)
    return response["statusCode"], json.loads(response["body"])


def start(ctx, clock, **overrides):
    arn = overrides.pop("arn", DEPLOY_ROLE)
    body = {"domain": "auth", "taskDefinitionArn": TASK_DEF, "kind": "release", "reason": "v8",
            "source": "github-actions", "githubOidcToken": KEY.sign(oidc.claims(clock().timestamp()))}
    body.update(overrides)
    return call(ctx, event({k: v for k, v in body.items() if v is not None}, arn=arn))


def test_start_creates_the_deployment_and_records_the_verified_requester(api, aws, clock):
    status, body = start(api, clock)
    assert status == 201 and body["deploymentId"] == "d-NEW000001" and body["registered"] is True
    assert body["requester"] == {"principalArn": DEPLOY_ROLE, "githubActor": "alice", "verifiedBy": ["iam", "github-oidc"]}
    [create] = api.codedeploy.create_calls
    assert (create["applicationName"], create["deploymentGroupName"]) == ("bluegreen-auth", "bluegreen-auth")
    assert "deploymentConfigName" not in create
    spec = json.loads(create["revision"]["appSpecContent"]["content"])
    assert spec["Resources"][0]["TargetService"]["Properties"] == {
        "TaskDefinition": TASK_DEF, "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080}}
    assert spec["Hooks"] == [{"AfterAllowTestTraffic": METADATA["hooks"]["AfterAllowTestTraffic"]},
                             {"BeforeAllowTraffic": METADATA["hooks"]["BeforeAllowTraffic"]}]
    [record] = fx.all_records(aws.dynamodb, "d-NEW000001")
    assert record["sk"] == "REGISTERED" and record["kind"] == "release" and record["source"] == "github-actions"
    assert record["requester"] == {"principalArn": DEPLOY_ROLE, "caller": "AROAEXAMPLEROLEID:run-1",
                                   "accountId": "123456789012", "verifiedBy": ["iam", "github-oidc"],
                                   "githubActor": "alice", "githubRepository": "org/app", "githubRunId": "42",
                                   "githubRef": "refs/heads/main"}


def test_rollback_forces_all_at_once(api, aws, clock):
    status, body = start(api, clock, kind="rollback", githubOidcToken=None, arn=BOB_SSO, source="bgctl")
    assert status == 201
    assert api.codedeploy.create_calls[0]["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    [record] = fx.all_records(aws.dynamodb, body["deploymentId"])
    assert (record["kind"], record["deploymentConfigName"], record["requester"]["verifiedBy"]) == \
        ("rollback", "CodeDeployDefault.ECSAllAtOnce", ["iam"])


@pytest.mark.parametrize(("overrides", "status", "code"), [
    ({"domain": "Auth"}, 400, "bad_request"),
    ({"domain": "billing", "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/bluegreen-billing:1"},
     404, "unknown_domain"),
    ({"taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/bluegreen-order:3"}, 400, "bad_request"),
    ({"taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/bluegreen-auth:latest"}, 400,
     "bad_request"),
    ({"kind": "hotfix"}, 400, "bad_request"),
    ({"source": "console"}, 400, "bad_request"),
    ({"reason": "x" * 301}, 400, "bad_request"),
    ({"reason": "two\nlines"}, 400, "bad_request"),
    ({"hooks": {"BeforeAllowTraffic": "arn:evil"}}, 400, "bad_request"),
    ({"githubOidcToken": ""}, 400, "bad_request"),
    ({"stackId": STACK_ID}, 400, "bad_request"),  # only with source cloudformation
    ({"source": "cloudformation"}, 403, "forbidden"),  # not the trigger role
    ({"githubOidcToken": "not.a.jwt"}, 403, "bad_attestation"),
    ({"requester": "github:mallory"}, 400, "bad_request"),  # the requester is the verified caller, never the body
])
def test_bad_input_is_a_4xx_that_changes_nothing(api, aws, clock, overrides, status, code):
    answer_status, body = start(api, clock, **overrides)
    assert (answer_status, body["error"]["code"]) == (status, code)
    assert api.codedeploy.create_calls == []
    assert aws.dynamodb.scan(TableName=fx.TABLE)["Items"] == []


def test_token_of_another_repository_cannot_speak_for_this_role(api, aws, clock):
    fx.put_parameters(aws.ssm, metadata=METADATA, platform_meta={
        **fx.PLATFORM_META, "githubDeployers": ["org/app", "org/other"]})
    token = KEY.sign(oidc.claims(clock().timestamp(), repository="org/other"))
    status, body = start(api, clock, githubOidcToken=token)
    assert (status, body["error"]["code"]) == (403, "bad_attestation") and api.codedeploy.create_calls == []


@pytest.mark.parametrize("raw", ["", "[1]", "not json", "{" * 5000, json.dumps({"pad": "x" * 17000})])
def test_malformed_bodies(api, raw):
    status, body = call(api, event(raw))
    assert status == 400 and body["error"]["code"] == "bad_request"


@pytest.mark.parametrize("arn", [None, "", "anonymous", "arn:aws:iam::123:user/short-account"])
def test_no_verified_caller_is_forbidden(api, arn):
    shaped = event({"domain": "auth"})
    shaped["requestContext"]["identity"]["userArn"] = arn
    status, body = call(api, shaped)
    assert (status, body["error"]["code"]) == (403, "forbidden")


def test_in_flight_deployment_is_a_409(api, clock):
    api.codedeploy.add("d-RUNNING01", status="InProgress")
    status, body = start(api, clock)
    assert (status, body["error"]["code"], body["deploymentId"]) == (409, "deployment_in_flight", "d-RUNNING01")


def test_codedeploy_refusal_is_a_502_without_a_record(api, aws, clock, monkeypatch):
    def refuse(**_):
        raise fx.client_error("InvalidRevisionException", "CreateDeployment")

    monkeypatch.setattr(api.codedeploy, "create_deployment", refuse)
    status, body = start(api, clock)
    assert (status, body["error"]["code"]) == (502, "codedeploy_error")
    assert aws.dynamodb.scan(TableName=fx.TABLE)["Items"] == []


def test_cdk_deploy_trigger_registers_its_stack(api, aws, clock):
    status, body = start(api, clock, source="cloudformation", stackId=STACK_ID, githubOidcToken=None, arn=TRIGGER)
    assert status == 201
    [record] = fx.all_records(aws.dynamodb, body["deploymentId"])
    assert (record["source"], record["stackId"], record["requester"]["principalArn"]) == \
        ("cloudformation", STACK_ID, TRIGGER)


def test_unexpected_failure_is_a_500_json_answer(api, clock, monkeypatch, caplog):
    monkeypatch.setattr(registrar, "start_deployment", lambda *a: 1 / 0)
    status, body = start(api, clock)
    assert (status, body["error"]["code"]) == (500, "internal_error")


def test_unknown_route(api):
    status, body = call(api, event({}, resource="/admin"))
    assert (status, body["error"]["code"]) == (404, "not_found")


# ---------------------------------------------------------------------------------------------
# POST /deployments/{id}/decisions (bgctl approve|reject)


def decide(ctx, arn, decision="APPROVED", reason="release window", resend=False, deployment_id=fx.DEPLOYMENT_ID):
    return call(ctx, event({"decision": decision, "reason": reason, "resend": resend}, arn=arn,
                           deployment_id=deployment_id))


@pytest.fixture()
def requested(api, aws, clock):
    api.codedeploy.add()
    fx.seed_request(aws.dynamodb, clock)
    return api


def test_cli_approval_by_a_mapped_approver(requested, aws, clock):
    status, body = decide(requested, BOB_SSO)
    assert status == 200 and (body["code"], body["status"], body["codeDeployResult"], body["partial"]) == \
        ("decided", "APPROVED", "OK", False)
    assert requested.codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID,
                                               "status": "Succeeded"}]
    [decision] = fx.records_of(aws.dynamodb, "DECISION")
    assert decision["decidedBy"] == {"slackUserId": "U0BOB", "iamArn": BOB_SSO, "name": "bob"}
    assert (decision["decidedVia"], decision["deliveredBy"], decision["reason"]) == ("cli", "writer", "release window")


@pytest.mark.parametrize(("arn", "status", "code"), [
    (ALICE_SSO, 403, "self_approval"),      # the requester (github:alice) through the CLI
    ("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0123/mallory", 403, "unauthorized"),  # unmapped
    (CAROL_SSO, 403, "authorization_unavailable"),  # only in a user group the hook could not resolve
])
def test_cli_obeys_the_slack_rules(requested, aws, arn, status, code):
    answer_status, body = decide(requested, arn)
    assert (answer_status, body["error"]["code"]) == (status, code)
    assert requested.codedeploy.put_calls == [] and fx.records_of(aws.dynamodb, "DECISION") == []
    [event_record] = fx.records_of(aws.dynamodb, "EVENT#")
    assert (event_record["code"], event_record["via"], event_record["actor"]["iamArn"]) == (code, "cli", arn)


def test_two_person_rule_spans_slack_and_cli(api, aws, clock):
    api.codedeploy.add()
    fx.seed_request(aws.dynamodb, clock, requiredApprovals=2, approverMembers=["U0CAROL"])
    assert decide(api, BOB_SSO)[1]["code"] == "vote_recorded"
    assert decide(api, BOB_SSO)[1]["error"]["code"] == "already_voted"
    status, body = decide(api, CAROL_SSO)
    assert (status, body["code"], body["status"]) == (200, "decided", "APPROVED")
    assert len(api.codedeploy.put_calls) == 1


def test_partial_then_resend(requested, aws):
    requested.codedeploy.put_error, requested.codedeploy.put_errors_remaining = "ThrottlingException", 1
    status, body = decide(requested, BOB_SSO)
    assert status == 200 and body["partial"] is True and body["codeDeployResult"] == "ERROR:ThrottlingException"
    status, body = decide(requested, BOB_SSO, resend=True)
    assert (status, body["code"], body["codeDeployResult"], body["partial"]) == (200, "resent", "OK", False)
    status, body = decide(requested, BOB_SSO, resend=True)
    assert body["code"] == "already_delivered" and len(requested.codedeploy.put_calls) == 2


def test_resend_refuses_what_was_not_decided(requested):
    assert decide(requested, BOB_SSO, resend=True)[1]["error"]["code"] == "no_decision"
    decide(requested, BOB_SSO, decision="REJECTED")
    assert decide(requested, BOB_SSO, decision="APPROVED", resend=True)[1]["error"]["code"] == "different_decision"


@pytest.mark.parametrize("body", [{"decision": "MAYBE", "reason": "x"}, {"decision": "APPROVED"},
                                  {"decision": "APPROVED", "reason": " "}, {"decision": "APPROVED", "reason": "x",
                                                                          "resend": "yes"},
                                  {"decision": "APPROVED", "reason": "x", "as": "U0BOB"}])
def test_bad_decision_bodies(requested, aws, body):
    status, answer = call(requested, event(body, arn=BOB_SSO, deployment_id=fx.DEPLOYMENT_ID))
    assert (status, answer["error"]["code"]) == (400, "bad_request")
    assert fx.records_of(aws.dynamodb, "EVENT#") == [] and requested.codedeploy.put_calls == []


def test_decisions_after_expiry_or_on_unknown_deployments(requested, clock):
    assert decide(requested, BOB_SSO, deployment_id="d-UNKNOWN00")[0] == 404
    assert decide(requested, BOB_SSO, deployment_id="DEPLOYMENT#x")[0] == 400
    clock.advance(minutes=46)
    status, body = decide(requested, BOB_SSO)
    assert (status, body["error"]["code"]) == (409, "expired")
