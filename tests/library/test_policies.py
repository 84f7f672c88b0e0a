"""Drain policy and traffic-shift rules as pure values."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluegreen.drain import DrainPolicy
from bluegreen.traffic import TrafficShift


def test_seed_numbers_for_thirty_minute_sessions():
    policy = DrainPolicy.for_websocket(1800)
    assert policy.deregistration_delay_seconds == 2400
    assert policy.termination_wait_minutes == 35
    assert policy.min_idle_timeout_seconds >= 1800
    assert policy.problems() == []


def test_http_domains_drain_fast():
    policy = DrainPolicy.for_http(30)
    assert policy.deregistration_delay_seconds == 60
    assert policy.termination_wait_minutes <= 6


@given(st.integers(min_value=1, max_value=3300), st.booleans())
def test_derived_policies_never_cut_a_session(max_session, websocket):
    policy = DrainPolicy.for_websocket(max_session) if websocket else DrainPolicy.for_http(max_session)
    assert policy.problems() == []
    assert policy.deregistration_delay_seconds >= max_session
    assert policy.termination_wait_minutes * 60 >= max_session


def test_overrides_that_would_cut_sessions_are_reported():
    policy = DrainPolicy.for_websocket(1800).with_overrides(deregistration_delay_seconds=2000,
                                                            termination_wait_minutes=20)
    fields = [field for field, _, _ in policy.problems()]
    assert fields == ["drain.termination_wait_minutes"]


@pytest.mark.parametrize("shift,name", [
    (TrafficShift.all_at_once(), "CodeDeployDefault.ECSAllAtOnce"),
    (TrafficShift.canary(10, 5), "CodeDeployDefault.ECSCanary10Percent5Minutes"),
    (TrafficShift.linear(10, 3), "CodeDeployDefault.ECSLinear10PercentEvery3Minutes"),
    (TrafficShift.canary(25, 3), "p-ECSCanary25Percent3Minutes"),
    (TrafficShift.linear(20, 2), "p-ECSLinear20PercentEvery2Minutes"),
])
def test_predefined_configs_are_used_when_they_match(shift, name):
    assert shift.config_name("p") == name


def test_shift_durations():
    assert TrafficShift.linear(20, 2).total_shift_minutes == 8
    assert TrafficShift.canary(10, 15).total_shift_minutes == 15
    assert TrafficShift.all_at_once().total_shift_minutes == 0


# ---------------------------------------------------------------------------------------------
# IAM and the audit table, proven on the synthesized default app (every stack, every policy)

import fnmatch  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402

from bgruntime.identities import trigger_role_name  # noqa: E402
from tests.library.iam_grants import as_list as _as_list, function_role, role_statements  # noqa: E402
from tests.synth_support import resources_of_type  # noqa: E402

MUTATIONS = {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate",
             "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert", "dynamodb:DeleteTable"}


@pytest.fixture(scope="module")
def app(default_app):
    """The default app (one synth per worker, tests/conftest.py). Every role's exact grants are in
    tests/library/iam_allowlist.py; the tests here name the safety properties those grants add up to."""
    return default_app


def dynamodb_grants(statements: list[dict]) -> set[tuple[str, tuple[str, ...]]]:
    """{(action, leading keys)} of the Allow statements on DynamoDB tables."""
    grants = set()
    for statement in statements:
        if statement.get("Effect", "Allow") != "Allow":
            continue
        keys = tuple(statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys", ()))
        for action in _as_list(statement["Action"]):
            if action.startswith("dynamodb:"):
                grants.add((action, keys))
    return grants


def audit_table(app) -> dict:
    (table,) = [t for t in resources_of_type(app.template("-Platform"), "AWS::DynamoDB::GlobalTable").values()
                if t["Properties"]["TableName"] == "bluegreen-deployments"]
    return table


def test_no_role_in_any_template_can_update_or_delete_an_audit_record(app):
    table_id = next(k for k, t in resources_of_type(app.template("-Platform"), "AWS::DynamoDB::GlobalTable").items()
                    if t["Properties"]["TableName"] == "bluegreen-deployments")
    for (stack, role), statements in role_statements(app).items():
        for statement in statements:
            if statement.get("Effect", "Allow") != "Allow":
                continue
            actions = set(_as_list(statement["Action"]))
            wildcard = {a for a in actions if "*" in a and fnmatch.fnmatch("dynamodb:UpdateItem", a)}
            assert not wildcard, (stack, role, wildcard)
            mutating = actions & MUTATIONS
            if mutating:  # only the timeline bookkeeping table, never the audit table
                rendered = json.dumps(statement["Resource"])
                assert table_id not in rendered and "bluegreen-deployments" not in rendered, (stack, role, mutating)
                assert "TimelineState" in rendered, (stack, role, statement)


def test_audit_table_resource_policy_denies_rewrites_to_all_but_the_breakglass_role(app):
    table = audit_table(app)
    (replica,) = table["Properties"]["Replicas"]
    document = replica["ResourcePolicy"]["PolicyDocument"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    breakglass = json.dumps(statements["AppendOnlyNoUpdateOrDelete"]["Condition"])
    assert statements["AppendOnlyNoUpdateOrDelete"]["Effect"] == "Deny"
    assert statements["AppendOnlyNoUpdateOrDelete"]["Principal"] == {"AWS": "*"}
    assert MUTATIONS <= set(statements["AppendOnlyNoUpdateOrDelete"]["Action"])
    assert "aws:PrincipalArn" in breakglass and ":role/bluegreen-audit-breakglass" in breakglass
    writers = statements["OnlyPlatformWritersAppend"]
    assert writers["Effect"] == "Deny" and set(writers["Action"]) == {"dynamodb:PutItem", "dynamodb:ConditionCheckItem"}
    assert writers["Condition"]["StringNotEquals"] == {"aws:PrincipalTag/bluegreen-audit-writer": "bluegreen"}
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    # every role that may append carries the writer tag (else the resource policy denies it)
    for stack, template in app.templates.items():
        for logical_id, role in resources_of_type(template, "AWS::IAM::Role").items():
            statements_of_role = role_statements(app)[(stack, logical_id)]
            appends = any(a == "dynamodb:PutItem" for a, _ in dynamodb_grants(statements_of_role)) and \
                "TimelineState" not in json.dumps(statements_of_role)
            tags = {t["Key"]: t["Value"] for t in role["Properties"].get("Tags", [])}
            assert (tags.get("bluegreen-audit-writer") == "bluegreen") == appends, (stack, logical_id)


APPEND = {"dynamodb:PutItem", "dynamodb:ConditionCheckItem"}
READ = {"dynamodb:GetItem", "dynamodb:Query"}
EXPECTED_DYNAMODB = {
    "CodeDeployHook_bluegreen_approval-request": {*((a, ("DEPLOYMENT#*", "SMOKE#*")) for a in READ),
                                                  *((a, ("DEPLOYMENT#*",)) for a in APPEND)},
    "bluegreen-approval-callback": {*((a, ("DEPLOYMENT#*",)) for a in READ | APPEND)},
    "bluegreen-approval-worker": {*((a, ("DEPLOYMENT#*",)) for a in READ | APPEND),
                                  ("dynamodb:DescribeStream", ()), ("dynamodb:GetRecords", ()),
                                  ("dynamodb:GetShardIterator", ()), ("dynamodb:ListStreams", ())},
    "bluegreen-approval-expiry": {*((a, ("DEPLOYMENT#*",)) for a in READ | APPEND)},
    "bluegreen-deploy-api": {*((a, ("DEPLOYMENT#*",)) for a in READ | APPEND)},
    "CodeDeployHook_bluegreen_smoke-tests": {*((a, ("SMOKE#*",)) for a in APPEND)},
    "bluegreen-deployment-notifier": {("dynamodb:GetItem", ()), ("dynamodb:PutItem", ()),
                                      ("dynamodb:UpdateItem", ())},  # the timeline table only (test above)
}


@pytest.mark.parametrize("function_name", sorted(EXPECTED_DYNAMODB))
def test_each_function_reaches_only_its_own_key_space(app, function_name):
    assert dynamodb_grants(function_role(app, function_name)) == EXPECTED_DYNAMODB[function_name]


def test_the_smoke_role_cannot_read_approvals_nor_learn_the_approval_hook_id(app):
    statements = function_role(app, "CodeDeployHook_bluegreen_smoke-tests")
    actions = {a for s in statements for a in _as_list(s["Action"])}
    # (its exact grants: tests/library/iam_allowlist.py) No way to the approval's hook execution id: no approval records (leading keys SMOKE#* only), no deployment
    # targets (CodeDeploy's lifecycle event details), no other function's logs or invocation.
    assert not actions & {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "codedeploy:GetDeploymentTarget",
                          "codedeploy:ListDeploymentTargets", "logs:GetLogEvents", "logs:FilterLogEvents",
                          "lambda:InvokeFunction"}


def _create_deployment_holders(app, stacks):
    holders = []
    for (stack, role), statements in role_statements(app).items():
        if not stack.endswith(stacks):
            continue
        for statement in statements:
            if statement.get("Effect", "Allow") == "Allow" and any(
                    fnmatch.fnmatch("codedeploy:CreateDeployment", a) for a in _as_list(statement["Action"])):
                holders.append((stack, role))
    return holders


def test_only_the_registrar_may_create_deployments(app):
    holders = _create_deployment_holders(app, ("-Platform", "-DeployAccess"))
    registrar_role = next(fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in resources_of_type(
        app.template("-Platform"), "AWS::Lambda::Function").values()
        if fn["Properties"].get("FunctionName") == "bluegreen-deploy-api")
    assert holders == [("Bluegreen-Platform", registrar_role)]


def test_the_release_trigger_starts_deployments_as_a_named_requester_through_the_deploy_api(app):
    """`cdk deploy` of a domain stack starts its deployment as `<P>-release-provider` (the name the deploy API's
    requester check recognises), by POST /deployments only: no CreateDeployment, no decisions path."""
    platform = app.template("-Platform")
    function = next(fn["Properties"] for fn in resources_of_type(platform, "AWS::Lambda::Function").values()
                    if fn["Properties"].get("FunctionName") == "bluegreen-release-provider")
    role = platform["Resources"][function["Role"]["Fn::GetAtt"][0]]["Properties"]
    assert role["RoleName"] == "bluegreen-release-provider" == trigger_role_name("bluegreen")
    statements = function_role(app, "bluegreen-release-provider")
    (invoke,) = [s for s in statements if "execute-api:Invoke" in _as_list(s["Action"])]
    assert invoke["Sid"] == "StartThroughTheDeployApi"
    parts = invoke["Resource"]["Fn::Join"][1]
    assert parts[0] == "arn:aws:execute-api:eu-west-1:" and parts[-1] == "/v1/POST/deployments"
    actions = {a for s in statements if s.get("Effect", "Allow") == "Allow" for a in _as_list(s["Action"])}
    assert not {a for a in actions if fnmatch.fnmatch("codedeploy:CreateDeployment", a)
                or fnmatch.fnmatch("codedeploy:PutLifecycleEventHookExecutionStatus", a)}
    assert function["Environment"]["Variables"]["DEPLOY_API_URL"]


def test_domain_stacks_start_deployments_only_through_the_deploy_api(app):
    assert _create_deployment_holders(app, tuple(f"-Domain-{d}" for d in ("auth", "order", "payment", "voice"))) == []


def test_only_the_callback_reads_the_signing_secret_and_it_never_calls_codedeploy(app):
    callback = {a for s in function_role(app, "bluegreen-approval-callback") for a in _as_list(s["Action"])}
    assert not {a for a in callback if a.startswith(("codedeploy:", "events:", "lambda:"))}


def _wildcard_patterns(app) -> list[str]:
    patterns = []
    for statements in role_statements(app).values():
        for statement in statements:
            for resource in _as_list(statement.get("Resource", [])):
                text = json.dumps(resource)
                if "*" in text:
                    patterns.append(text)
    return patterns


def test_platform_patterns_are_delimited_so_another_platform_never_matches(app):
    """`bluegreen-*`, `/bluegreen/*`, `CodeDeployHook_bluegreen_*`: the platform name is always followed by a
    delimiter, and platform names contain none (config rule), so `bluegreenstg-auth` never matches."""
    for pattern in _wildcard_patterns(app):
        for match in re.finditer("bluegreen", pattern):
            after = pattern[match.end():match.end() + 1]
            assert after in ("-", "/", "_", '"'), pattern


platform_names = st.from_regex(r"[a-z][a-z0-9]{1,11}", fullmatch=True)
suffixes = st.from_regex(r"[a-z0-9-]{0,20}", fullmatch=True)


@given(platform_names, platform_names, suffixes)
def test_property_a_platform_prefix_never_matches_another_platform(mine, other, suffix):
    from bluegreen.config.loader import PLATFORM_NAME_RE

    assert PLATFORM_NAME_RE.match(mine) and PLATFORM_NAME_RE.match(other)
    for template in ("{p}-{s}", "/{p}/{s}", "CodeDeployHook_{p}_{s}", "{p}-{s}/{p}-{s}"):
        name = template.format(p=other, s=suffix)
        for pattern in ("{p}-*", "/{p}/*", "CodeDeployHook_{p}_*", "{p}-*/{p}-*"):
            if fnmatch.fnmatchcase(name, pattern.format(p=mine)):
                assert mine == other, (mine, other, name)


@given(st.from_regex(r"[a-z][a-z0-9]{0,4}-[a-z0-9]{1,5}", fullmatch=True))
def test_property_platform_names_with_a_dash_are_refused(name):
    from bluegreen.config.errors import ConfigError
    from bluegreen.config.loader import parse_config

    with pytest.raises(ConfigError, match="contains '-'"):
        parse_config({"platform": {"name": name}}, source="t.yaml")


def test_audit_grants_in_a_bare_stack_are_exact_and_tag_the_writer():
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Template

    from bluegreen.audit_table import DeploymentAuditTable

    stack = cdk.Stack()
    audit = DeploymentAuditTable(stack, "Audit", table_name="p-deployments")
    role = iam.Role(stack, "Writer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    audit.grant_append(role, leading_keys=["SMOKE#*"])
    template = Template.from_stack(stack).to_json()
    (policy,) = resources_of_type(template, "AWS::IAM::Policy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["dynamodb:PutItem", "dynamodb:ConditionCheckItem"]
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SMOKE#*"]}}
    (role_resource,) = resources_of_type(template, "AWS::IAM::Role").values()
    assert {"Key": "bluegreen-audit-writer", "Value": "p"} in role_resource["Properties"]["Tags"]
    assert ":role/p-audit-breakglass" in json.dumps(template)
