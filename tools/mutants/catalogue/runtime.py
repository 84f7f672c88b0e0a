"""Runtime safety logic: the approval gate, the deploy API, the smoke hook, the release provider, bgctl and config
validation. Each entry is the smallest edit that breaks one documented safety property, and the fast tests (no CDK
synthesis) that catch it."""
from __future__ import annotations

from tools.mutants.model import Mutation

APPROVALS = "lambdas/layer/python/bgruntime/approvals.py"
APPROVAL_LIMITS = "lambdas/layer/python/bgruntime/approval_limits.py"
SLACK_SIGNATURE = "lambdas/layer/python/bgruntime/slack_signature.py"
CALLBACK = "lambdas/approval/approval_gate/callback_logic.py"
REQUEST = "lambdas/approval/approval_gate/request_logic.py"
REQUESTER = "lambdas/approval/approval_gate/requester.py"
WORKER = "lambdas/approval/approval_gate/worker_logic.py"
REGISTRAR = "lambdas/deploy_api/registrar.py"
GITHUB_OIDC = "lambdas/layer/python/bgruntime/github_oidc.py"
SMOKE_HOOK = "lambdas/smoke_tests/handler.py"
SMOKE_RUNNER = "lambdas/smoke_tests/runner.py"
SMOKE_CHECKS = "lambdas/layer/python/bgruntime/smoke_checks.py"
TRIGGER = "lambdas/release_provider/release/trigger.py"
SHARED_CONFIGS = "lambdas/release_provider/release/deployment_configs.py"
BGCTL_MAIN = "cli/bgctl/main.py"
BGCTL_ERRORS = "cli/bgctl/errors.py"
BGCTL_PROGRESS = "cli/bgctl/progress.py"
BGCTL_RETRY = "cli/bgctl/retry.py"
BGCTL_WATCH = "cli/bgctl/watch.py"
BGCTL_ROLLBACK = "cli/bgctl/rollback.py"
GATE_RULES = "cli/bgctl/change_safety/rules.py"
LOADER = "constructs/bluegreen/config/loader.py"
CONFIG_MODEL = "constructs/bluegreen/config/model.py"
DRAIN = "constructs/bluegreen/drain.py"
RELEASE_TIMING = "constructs/bluegreen/release_timing.py"

STORE_TESTS = "tests/approval/test_approval_store.py"
CALLBACK_TESTS = "tests/approval/test_approval_callback.py"
SIGNATURE_TESTS = "tests/approval/test_approval_signature.py"
REQUEST_TESTS = "tests/approval/test_approval_request.py"
EXPIRY_TESTS = "tests/approval/test_approval_expiry.py"
DEPLOY_API_TESTS = "tests/approval/test_deploy_api.py"
OIDC_TESTS = "tests/approval/test_github_oidc.py"
SMOKE_HOOK_TESTS = "tests/progressive/test_smoke_hook.py"
SMOKE_RUNNER_TESTS = "tests/progressive/test_smoke_runner.py"
TRIGGER_TESTS = "tests/release_provider/test_deployment_trigger.py"
SHARED_CONFIG_TESTS = "tests/release_provider/test_shared_deployment_configs.py"
WATCH_TESTS = "tests/cli/test_bgctl_watch.py"
DEPLOY_TESTS = "tests/cli/test_bgctl_deploy.py"
ROLLBACK_TESTS = "tests/cli/test_bgctl_rollback.py"
NETWORK_TESTS = "tests/cli/test_bgctl_network.py"
RULES_TESTS = "tests/change_safety/test_rules.py"
LOADER_TESTS = "tests/config/test_loader.py"
TWO_PERSON_TESTS = "tests/safety/test_two_person_rule.py"
REQUESTER_TESTS = "tests/safety/test_verified_requester.py"
SMOKE_DEADLINE_TESTS = "tests/safety/test_smoke_hook_reports_in_time.py"
LATENCY_TESTS = "tests/safety/test_smoke_latency_budget.py"
CONFIG_LIMIT_TESTS = "tests/safety/test_config_limits.py"

MUTATIONS: list[Mutation] = [
    # ------------------------------------------------------------------------------------- the approval gate
    Mutation(
        id="approval-self-approval-allowed",
        file=APPROVALS,
        original="    if is_requester(state, actor):\n",
        replacement="    if False and is_requester(state, actor):\n",
        tests=(f"{STORE_TESTS}::test_requester_cannot_approve_on_any_path_but_may_reject",
               f"{CALLBACK_TESTS}::test_self_approval"),
        why="the requester may reject but never approve their own release (two-person rule)",
    ),
    Mutation(
        id="approval-requester-cannot-reject",
        file=APPROVALS,
        original="    if action == REJECTED:\n        return _decide(state, actor, REJECTED",
        replacement="    if action == REJECTED and not is_requester(state, actor):\n"
                    "        return _decide(state, actor, REJECTED",
        tests=(f"{STORE_TESTS}::test_requester_cannot_approve_on_any_path_but_may_reject",
               f"{CALLBACK_TESTS}::test_requester_may_reject_own_deployment"),
        why="a requester who spots a problem must be able to stop their own release",
    ),
    Mutation(
        id="approval-self-approval-by-same-iam-principal",
        file=APPROVALS,
        original="    return bool(actor.iam_arn and principal and actor.iam_arn == principal)",
        replacement="    return False",
        tests=(f"{STORE_TESTS}::test_same_iam_principal_as_the_registered_requester_cannot_approve",),
        why="the IAM principal that registered a deployment (bgctl approve) cannot approve it either",
    ),
    Mutation(
        id="approval-same-person-votes-twice",
        file=APPROVALS,
        original="    if actor.voter_key in state.voters:",
        replacement="    if False:",
        tests=(f"{STORE_TESTS}::test_two_person_rule_needs_two_distinct_approvers",),
        why="min_approvers counts distinct people: one approver clicking twice (or via Slack and bgctl) is one vote",
    ),
    Mutation(
        id="approval-one-vote-decides-a-two-person-request",
        file=APPROVALS,
        original="    if slot < state.required_approvals:",
        replacement="    if slot < state.required_approvals - 1:",
        tests=(f"{STORE_TESTS}::test_two_person_rule_needs_two_distinct_approvers",),
        why="a request needing two approvers must not be decided by the first vote",
    ),
    Mutation(
        id="approval-unknown-requester-needs-one-approver",
        file=REQUESTER,
        original='return ApprovalRequirement(max(minimum, 2), False, "unknown requester: two distinct approvers',
        replacement='return ApprovalRequirement(max(minimum, 1), False, "unknown requester: two distinct approvers',
        tests=(f"{TWO_PERSON_TESTS}::test_required_approvals",
               f"{REQUEST_TESTS}::test_description_tokens_are_never_trusted"),
        why="an unknown requester could be one of the approvers, so two distinct approvers are needed (fail closed)",
    ),
    Mutation(
        id="approval-min-approvers-ignored",
        file=REQUESTER,
        original="    minimum = raw if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= 5 else 1",
        replacement="    minimum = 1",
        tests=(f"{TWO_PERSON_TESTS}::test_required_approvals",
               f"{REQUEST_TESTS}::test_min_approvers_applies_to_a_known_requester"),
        why="approval.min_approvers: 2 must require two distinct approvers on every release",
    ),
    Mutation(
        id="approval-blocked-unknown-requester-approvable",
        file=APPROVALS,
        original="    if state.blocked:\n        return Verdict(CODE_BLOCKED",
        replacement="    if state.blocked and False:\n        return Verdict(CODE_BLOCKED",
        tests=(f"{STORE_TESTS}::test_blocked_request_can_only_be_rejected",),
        why="unknown_requester: block means an unverified deployment can only be rejected or expire",
    ),
    Mutation(
        id="approval-put-not-conditional",
        file=APPROVALS,
        original='_client(dynamodb).put_item(TableName=table_name, Item=to_item(record),\n'
                 '                                   ConditionExpression="attribute_not_exists(pk)")',
        replacement='_client(dynamodb).put_item(TableName=table_name, Item=to_item(record),\n'
                    '                                   ConditionExpression="attribute_not_exists(pk) OR '
                    'attribute_exists(pk)")',
        tests=(f"{STORE_TESTS}::test_records_are_written_once_with_conditional_puts",
               f"{REQUEST_TESTS}::test_overlapping_deliveries_post_one_message"),
        why="records are written once: the first writer wins (one request claim, one message, one decision)",
    ),
    Mutation(
        id="approval-transaction-puts-not-conditional",
        file=APPROVALS,
        original='items: list[dict[str, Any]] = [{"Put": {"TableName": table_name, "Item": to_item(r),\n'
                 '                                            "ConditionExpression": "attribute_not_exists(pk)"}}',
        replacement='items: list[dict[str, Any]] = [{"Put": {"TableName": table_name, "Item": to_item(r),\n'
                    '                                            "ConditionExpression": "attribute_not_exists(pk) OR '
                    'attribute_exists(pk)"}}',
        tests=(f"{STORE_TESTS}::test_a_lost_race_re_reads_and_takes_the_next_slot",
               "tests/approval/test_approval_concurrency.py::test_concurrent_clicks_decide_exactly_once"),
        why="concurrent or replayed clicks yield one decision: a vote/decision transaction loses if its slot is taken",
    ),
    Mutation(
        id="approval-already-decided-not-checked",
        file=APPROVALS,
        original="    if state.decision or state.status in DECISIONS:",
        replacement="    if False:",
        tests=(f"{STORE_TESTS}::test_not_found_and_already_decided", f"{CALLBACK_TESTS}::test_double_click"),
        why="a second click after the decision is refused as already decided (duplicate clicks give one decision)",
    ),
    Mutation(
        id="approval-decision-after-expiry",
        file=APPROVALS,
        original='    if int(request.get("expiresAtEpoch", 0) or 0) <= int(now.timestamp()):',
        replacement='    if int(request.get("expiresAtEpoch", 0) or 0) < int(now.timestamp()):',
        tests=(f"{STORE_TESTS}::test_nothing_is_decided_after_expiry_except_the_expiry",),
        why="at expiresAt the request is expired: nobody may approve or reject it any more",
    ),
    Mutation(
        id="approval-stale-read-lands-after-expiry",
        file=APPROVALS,
        original='"ConditionExpression": "expiresAtEpoch > :now",',
        replacement='"ConditionExpression": "expiresAtEpoch > :now OR attribute_exists(pk)",',
        tests=(f"{STORE_TESTS}::test_approval_cannot_land_after_expiry_even_from_a_stale_read",),
        why="an approval evaluated before expiry but written after it must be refused by the write itself",
    ),
    Mutation(
        id="approval-expiry-not-clamped",
        file=REQUEST,
        original="    return int(min(max(int(value), 1), MAX_EXPIRY_MINUTES))",
        replacement="    return int(max(int(value), 1))",
        tests=(f"{REQUEST_TESTS}::test_expiry_minutes_is_clamped_to_the_shared_limit",),
        why="the hook clamps expiry to 50 minutes so it (and its retries) always ends before CodeDeploy's 60-minute "
            "hook deadline",
    ),
    Mutation(
        id="approval-expiry-limit-raised-with-the-deadline",
        file=APPROVAL_LIMITS,
        original="CODEDEPLOY_HOOK_DEADLINE_MINUTES = 60\nDEFAULT_APPROVAL_EXPIRY_MINUTES = 45\n"
                 "MAX_APPROVAL_EXPIRY_MINUTES = 50",
        replacement="CODEDEPLOY_HOOK_DEADLINE_MINUTES = 90\nDEFAULT_APPROVAL_EXPIRY_MINUTES = 45\n"
                    "MAX_APPROVAL_EXPIRY_MINUTES = 80",
        tests=(f"{EXPIRY_TESTS}::test_one_expiry_limit_keeps_every_retry_before_codedeploys_deadline",),
        why="CodeDeploy's hook deadline is 60 minutes (an AWS fact, not ours to raise); expiry stays at most 50",
    ),
    Mutation(
        id="approval-expiry-retry-window-default",
        file=REQUEST,
        original='"MaximumEventAgeInSeconds": EXPIRY_RETRY_WINDOW_SECONDS}},',
        replacement='"MaximumEventAgeInSeconds": 86400}},',
        tests=(f"{REQUEST_TESTS}::test_request_records_posts_schedules_and_returns",),
        why="the expiry's retries must end within 5 minutes of expiresAt, before CodeDeploy's hour",
    ),
    Mutation(
        id="approval-non-approver-allowed-without-groups",
        file=CALLBACK,
        original="    if not groups:\n        return False",
        replacement="    if not groups:\n        return True",
        tests=(f"{CALLBACK_TESTS}::test_unauthorized_user_with_no_groups_configured",
               f"{CALLBACK_TESTS}::test_unknown_user"),
        why="only the listed approvers (users or group members) may approve",
    ),
    Mutation(
        id="approval-unauthorized-verdict-skipped",
        file=APPROVALS,
        original="    if not allowed:\n        return Verdict(CODE_UNAUTHORIZED",
        replacement="    if allowed is None:\n        return Verdict(CODE_UNAUTHORIZED",
        tests=(f"{STORE_TESTS}::test_non_approvers_and_unverifiable_membership_are_refused",),
        why="the rule book refuses anyone is_approver says is not an approver, on every path",
    ),
    Mutation(
        id="approval-group-lookup-failure-allows",
        file=CALLBACK,
        original='        _log.warning("usergroup membership check failed", reason=exc.reason)\n        return None',
        replacement='        _log.warning("usergroup membership check failed", reason=exc.reason)\n        return True',
        tests=(f"{CALLBACK_TESTS}::test_usergroup_lookup_failure_fails_closed",),
        why="a membership that cannot be checked is a refusal (fail closed), never an approval",
    ),
    Mutation(
        id="approval-parse-click-requires-channel",
        file=CALLBACK,
        original='    channel = payload.get("channel") if isinstance(payload.get("channel"), dict) else {}',
        replacement='    channel = payload["channel"]',
        tests=("tests/safety/test_slack_click_parsing.py::"
               "test_a_payload_without_a_channel_object_is_parsed_from_the_container",
               "tests/approval/test_approval_callback_properties.py::"
               "test_property_parse_click_of_any_block_actions_shape"),
        why="parse_click is total: a payload without `channel` (the channel id is in `container`) is parsed, not "
            "turned into an exception the handler hides",
    ),
    Mutation(
        id="slack-signature-window-widened",
        file=SLACK_SIGNATURE,
        original="TOLERANCE_SECONDS = 300",
        replacement="TOLERANCE_SECONDS = 3000",
        tests=(f"{SIGNATURE_TESTS}::test_freshness_window_is_five_minutes_both_ways",),
        why="Slack requests older or newer than 5 minutes are replays and refused",
    ),
    Mutation(
        id="slack-signature-future-timestamps-accepted",
        file=SLACK_SIGNATURE,
        original="    if sent_at - current > tolerance_seconds:",
        replacement="    if sent_at - current > tolerance_seconds * 1000:",
        tests=(f"{SIGNATURE_TESTS}::test_freshness_window_is_five_minutes_both_ways",),
        why="a timestamp from the future is refused too (a pre-signed request could be replayed later)",
    ),
    Mutation(
        id="slack-signature-not-constant-time",
        file=SLACK_SIGNATURE,
        original='    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):',
        replacement='    if expected != signature:',
        tests=("tests/safety/test_slack_signature_compare.py::test_the_signature_is_compared_in_constant_time",),
        why="the signature is compared in constant time (no timing oracle for forging it byte by byte)",
    ),
    Mutation(
        id="slack-signature-without-version-prefix",
        file=SLACK_SIGNATURE,
        original='    base = f"{VERSION}:{timestamp}:".encode() + raw',
        replacement='    base = f"{timestamp}:".encode() + raw',
        tests=(f"{SIGNATURE_TESTS}::test_slack_documented_example_verifies",),
        why="Slack signs `v0:<timestamp>:<raw body>`; anything else refuses every genuine click",
    ),
    Mutation(
        id="slack-signature-over-decoded-body",
        file=CALLBACK,
        original="    encoded = event.get(\"isBase64Encoded\") is True\n",
        replacement="    encoded = False\n",
        tests=(f"{CALLBACK_TESTS}::test_base64_body_from_api_gateway",),
        why="the HMAC is computed over the exact bytes Slack sent (API Gateway base64-encodes them)",
    ),
    Mutation(
        id="worker-expired-tells-codedeploy-succeeded",
        file=APPROVALS,
        original='    status = "Succeeded" if decision.get("status") == APPROVED else "Failed"',
        replacement='    status = "Succeeded" if decision.get("status") != REJECTED else "Failed"',
        tests=(f"{EXPIRY_TESTS}::test_expiry_fails_the_pending_request",),
        why="CodeDeploy hears Succeeded only for APPROVED: an expired request fails the deployment",
    ),
    Mutation(
        id="worker-skips-delivery-of-slack-decisions",
        file=WORKER,
        original="    if decision.get(\"deliveredBy\") != approvals.DELIVERED_BY_WRITER:",
        replacement="    if decision.get(\"deliveredBy\") == approvals.DELIVERED_BY_WRITER:",
        tests=(f"{CALLBACK_TESTS}::test_codedeploy_error_is_retried_by_the_worker_until_answered",),
        why="a Slack decision reaches CodeDeploy only through the worker: skipping it leaves the hook hanging",
    ),
    Mutation(
        id="approval-button-ids-missing-accepted",
        file=CALLBACK,
        original="        if not clicked or not recorded or clicked != recorded:",
        replacement="        if clicked and recorded and clicked != recorded:",
        tests=(f"{CALLBACK_TESTS}::test_team_app_and_channel_must_match_and_be_present",
               f"{CALLBACK_TESTS}::test_recorded_message_without_an_id_fails_closed"),
        why="a click counts only on the recorded approval message: a missing channel/ts/team/app id fails closed",
    ),
    # --------------------------------------------------------------------------- the deploy API (registrar)
    Mutation(
        id="deploy-api-cloudformation-source-from-any-role",
        file=REGISTRAR,
        original='    if parsed.source == "cloudformation" and role != trigger_role_name(ctx.platform):',
        replacement='    if parsed.source == "cloudformation" and role is None:',
        tests=(f"{DEPLOY_API_TESTS}::test_bad_input_is_a_4xx_that_changes_nothing",),
        why="`source: cloudformation` makes the gate read the requester from CloudTrail: only the release provider's "
            "role may claim it",
    ),
    Mutation(
        id="deploy-api-body-fields-not-checked",
        file=REGISTRAR,
        original="    unknown = sorted(set(body) - allowed)",
        replacement="    unknown = sorted(set(body) - allowed - {\"requester\", \"hooks\"})",
        tests=(f"{DEPLOY_API_TESTS}::test_bad_input_is_a_4xx_that_changes_nothing",),
        why="the requester comes from the verified caller, never from the body: a body naming a requester (or hooks) "
            "is refused, not half-accepted",
    ),
    Mutation(
        id="deploy-api-token-repository-need-not-own-the-role",
        file=REGISTRAR,
        original="                role != _deploy_role_name(ctx.platform, claims.repository):",
        replacement="                role != _deploy_role_name(ctx.platform, claims.repository) and False:",
        tests=(f"{DEPLOY_API_TESTS}::test_token_of_another_repository_cannot_speak_for_this_role",),
        why="a GitHub token of another configured repository cannot name the actor for this repository's deploy role",
    ),
    Mutation(
        id="deploy-api-in-flight-deployment-clobbered",
        file=REGISTRAR,
        original="    if running:\n        return fail(409, \"deployment_in_flight\"",
        replacement="    if running and False:\n        return fail(409, \"deployment_in_flight\"",
        tests=(f"{DEPLOY_API_TESTS}::test_in_flight_deployment_is_a_409",),
        why="one deployment per domain: a second start is refused with the running deployment's id",
    ),
    Mutation(
        id="deploy-api-rollback-not-all-at-once",
        file=REGISTRAR,
        original='    if parsed.kind == "rollback":\n        request["deploymentConfigName"]',
        replacement='    if parsed.kind == "rollbacks":\n        request["deploymentConfigName"]',
        tests=(f"{DEPLOY_API_TESTS}::test_rollback_forces_all_at_once",),
        why="a rollback returns production to a known revision at once, not through a canary",
    ),
    Mutation(
        id="deploy-api-unmapped-principal-is-an-approver",
        file=REGISTRAR,
        original="            return False  # an unmapped IAM principal is nobody's approver",
        replacement="            return True  # an unmapped IAM principal is nobody's approver",
        tests=(f"{DEPLOY_API_TESTS}::test_cli_obeys_the_slack_rules",),
        why="bgctl approve decides as the caller's mapped identity: an unmapped IAM principal approves nothing",
    ),
    Mutation(
        id="oidc-audience-not-checked",
        file=GITHUB_OIDC,
        original="    if not (aud == audience or (isinstance(aud, list) and audience in aud)):",
        replacement="    if aud is None:",
        tests=(f"{OIDC_TESTS}::test_each_claim_is_checked",),
        why="a GitHub token minted for another audience (e.g. sts.amazonaws.com) is not an attestation for us",
    ),
    Mutation(
        id="oidc-issuer-not-checked",
        file=GITHUB_OIDC,
        original='    if payload.get("iss") != ISSUER:',
        replacement='    if not str(payload.get("iss")).startswith("https://"):',
        tests=(f"{OIDC_TESTS}::test_each_claim_is_checked",),
        why="only GitHub Actions' issuer is trusted",
    ),
    Mutation(
        id="oidc-expired-token-accepted",
        file=GITHUB_OIDC,
        original='    if payload["exp"] <= now - LEEWAY_SECONDS:',
        replacement='    if payload["exp"] <= now - LEEWAY_SECONDS * 60:',
        tests=(f"{OIDC_TESTS}::test_each_claim_is_checked",),
        why="an expired token (beyond 60 s of clock leeway) is refused",
    ),
    Mutation(
        id="oidc-repository-not-checked",
        file=GITHUB_OIDC,
        original="    if not isinstance(repository, str) or repository not in set(allowed_repositories):",
        replacement="    if not isinstance(repository, str):",
        tests=(f"{OIDC_TESTS}::test_each_claim_is_checked",),
        why="only repositories listed in platform.github.deployers can name a requester",
    ),
    Mutation(
        id="gate-trusts-an-unverified-github-actor",
        file=REQUESTER,
        original='    if isinstance(actor, str) and actor and "github-oidc" in verified:',
        replacement="    if isinstance(actor, str) and actor:",
        tests=(f"{REQUESTER_TESTS}::test_a_github_actor_the_registrar_did_not_verify_is_ignored",),
        why="the gate takes a GitHub actor as requester only when the registrar verified the token",
    ),
    Mutation(
        id="gate-cloudtrail-requester-from-any-role",
        file=REQUESTER,
        original="            role_name_of(principal) == trigger_role_name(platform):",
        replacement="            role_name_of(principal) is not None:",
        tests=(f"{REQUESTER_TESTS}::test_source_cloudformation_from_another_role_is_not_attributed_to_the_stack_"
               "updater",),
        why="only the release provider's registrations are attributed to the CloudTrail stack updater",
    ),
    # ----------------------------------------------------------------------------------------- the smoke hook
    Mutation(
        id="smoke-failed-check-reports-succeeded",
        file=SMOKE_HOOK,
        original='    status = "Succeeded" if outcome.passed else "Failed"',
        replacement='    status = "Succeeded" if outcome.passed or outcome.results else "Failed"',
        tests=(f"{SMOKE_HOOK_TESTS}::test_a_failing_check_reports_failed",),
        why="any failed check reports Failed to CodeDeploy, so users never reach a broken green",
    ),
    Mutation(
        id="smoke-zero-checks-pass",
        file=SMOKE_HOOK,
        original="    if not specs:\n",
        replacement="    if specs is None:\n",
        tests=(f"{SMOKE_HOOK_TESTS}::test_zero_checks_reports_failed",),
        why="traffic only moves after at least one passing check",
    ),
    Mutation(
        id="smoke-internal-error-passes",
        file=SMOKE_HOOK,
        original='        outcome = Outcome(passed=False, reason=f"internal error in the smoke hook',
        replacement='        outcome = Outcome(passed=True, reason=f"internal error in the smoke hook',
        tests=(f"{SMOKE_HOOK_TESTS}::test_unexpected_exception_still_reports_failed",),
        why="an unexpected error in the hook is a failed check, never a pass",
    ),
    Mutation(
        id="smoke-no-safety-margin",
        file=SMOKE_HOOK,
        original="    deadline = started + max(0.0, remaining_s - margin_s)",
        replacement="    deadline = started + remaining_s",
        tests=(f"{SMOKE_DEADLINE_TESTS}::test_checks_stop_the_safety_margin_before_the_lambda_times_out",),
        why="checks stop SMOKE_SAFETY_MARGIN_MS (10 s) before the Lambda times out, so the hook always reports",
    ),
    Mutation(
        id="smoke-default-margin-zero",
        file=SMOKE_HOOK,
        original="DEFAULT_SAFETY_MARGIN_MS = 10_000",
        replacement="DEFAULT_SAFETY_MARGIN_MS = 0",
        tests=(f"{SMOKE_DEADLINE_TESTS}::test_checks_stop_the_safety_margin_before_the_lambda_times_out",),
        why="the default margin keeps 10 s for the audit record, the event and the CodeDeploy report",
    ),
    Mutation(
        id="smoke-latency-budget-ignored",
        file=SMOKE_RUNNER,
        original="    if latency > check.latency_budget_ms:\n        problems.append(",
        replacement="    if latency > check.latency_budget_ms * 100:\n        problems.append(",
        tests=(f"{LATENCY_TESTS}::test_an_http_answer_slower_than_its_budget_fails",),
        why="a response slower than its latency budget fails the check even though it arrived",
    ),
    Mutation(
        id="smoke-websocket-latency-budget-ignored",
        file=SMOKE_RUNNER,
        original="    if latency > check.latency_budget_ms:\n        return CheckResult(",
        replacement="    if latency > check.latency_budget_ms * 100:\n        return CheckResult(",
        tests=(f"{LATENCY_TESTS}::test_a_websocket_upgrade_slower_than_its_budget_fails",),
        why="a WebSocket check slower than its latency budget fails too",
    ),
    Mutation(
        id="smoke-expected-json-not-compared",
        file=SMOKE_RUNNER,
        original="    elif check.expect_json:\n",
        replacement="    elif check.expect_json and False:\n",
        tests=(f"{SMOKE_RUNNER_TESTS}::test_wrong_json_fails_naming_the_paths",),
        why="a check with expectJson fails when the body does not hold the expected values",
    ),
    Mutation(
        id="smoke-json-mismatch-ignored",
        file=SMOKE_CHECKS,
        original="        elif not json_equal(value, want):",
        replacement="        elif value is None and want is not None:",
        tests=(f"{SMOKE_RUNNER_TESTS}::test_wrong_json_fails_naming_the_paths",),
        why="expected JSON values are compared, not just checked for presence",
    ),
    Mutation(
        id="smoke-expected-status-not-compared",
        file=SMOKE_RUNNER,
        original="    if status != check.expect_status:",
        replacement="    if status >= 500 and status != check.expect_status:",
        tests=(f"{LATENCY_TESTS}::test_any_other_status_than_the_expected_one_fails",),
        why="a check expects one exact status (a 404 or a redirect is not a pass)",
    ),
    Mutation(
        id="smoke-overall-deadline-ignored",
        file=SMOKE_RUNNER,
        original="        if remaining < MIN_CHECK_SECONDS:",
        replacement="        if remaining < -1e9:",
        tests=(f"{SMOKE_DEADLINE_TESTS}::test_checks_past_the_overall_deadline_are_not_run_and_fail",),
        why="checks that would start after the hook's deadline are reported as not run (failed), not run late",
    ),
    # ------------------------------------------------------------------------------------ the release provider
    Mutation(
        id="release-does-not-wait-for-the-deployment",
        file=TRIGGER,
        original='    if action not in ("deploy", "stop", "wait") or deployment_id in (NONE, ""):',
        replacement='    if action not in ("stop", "wait") or deployment_id in (NONE, ""):',
        tests=(f"{TRIGGER_TESTS}::test_a_config_image_change_releases_the_stack_revision_and_waits_until_"
               "codedeploy_succeeds",
               f"{TRIGGER_TESTS}::test_a_failed_release_fails_the_resource_once_production_is_back"),
        why="`cdk deploy` succeeds only once CodeDeploy has released the revision",
    ),
    Mutation(
        id="release-failed-deployment-keeps-waiting",
        file=TRIGGER,
        original="    elif deployment.status in deployments.TERMINAL_STATUSES:",
        replacement='    elif deployment.status == "Stopped":',
        tests=(f"{TRIGGER_TESTS}::test_a_failed_release_fails_the_resource_once_production_is_back",),
        why="a failed or rolled-back deployment fails the resource, so CloudFormation rolls the stack back",
    ),
    Mutation(
        id="release-fails-before-production-is-restored",
        file=TRIGGER,
        original="        if not deployments.settled(clients.codedeploy, deployment):\n            return waiting()",
        replacement="        if False:\n            return waiting()",
        tests=(f"{TRIGGER_TESTS}::test_a_failed_release_fails_the_resource_once_production_is_back",),
        why="the failure is reported once CodeDeploy's own rollback has put production back",
    ),
    Mutation(
        id="release-last-waiter-hands-over-to-nobody",
        file=TRIGGER,
        original="    if not last:\n",
        replacement="    if True:\n",
        tests=(f"{TRIGGER_TESTS}::test_the_wait_hands_over_to_the_next_waiter_then_fails_at_the_end_of_the_chain",),
        why="when the whole wait budget is spent with the deployment still running, the stack fails (never succeeds)",
    ),
    Mutation(
        id="release-in-flight-deployment-clobbered",
        file=TRIGGER,
        original="    if busy:\n",
        replacement="    if busy and False:\n",
        tests=(f"{TRIGGER_TESTS}::test_an_in_flight_deployment_refuses_at_once_and_changes_nothing",),
        why="a deployment in flight (pipeline or operator) is never clobbered by a stack update",
    ),
    Mutation(
        id="release-rollback-does-not-stop-its-deployment",
        file=TRIGGER,
        original="    if mine.in_flight:\n",
        replacement="    if mine.in_flight and False:\n",
        tests=(f"{TRIGGER_TESTS}::test_rolling_back_while_the_release_is_still_running_stops_it",),
        why="a stack rollback stops the release it started, so production stays on the previous revision",
    ),
    Mutation(
        id="release-shared-config-deleted",
        file=SHARED_CONFIGS,
        original='    if event["RequestType"] == "Delete":\n',
        replacement='    if event["RequestType"] == "Delete":\n'
                    '        codedeploy.delete_deployment_config(deploymentConfigName=props.name)\n',
        tests=(f"{SHARED_CONFIG_TESTS}::test_never_deleted_a_domain_may_still_use_it",),
        why="shared deployment configs are never deleted: another domain or team may still use them",
    ),
    Mutation(
        id="release-shared-config-other-shape-accepted",
        file=SHARED_CONFIGS,
        original='    if existing.get("trafficRoutingConfig") != wanted:',
        replacement='    if existing.get("trafficRoutingConfig") is None:',
        tests=(f"{SHARED_CONFIG_TESTS}::test_a_same_named_config_with_another_shape_is_refused",),
        why="a config's name states its traffic shape: reusing a same-named config of another shape is refused",
    ),
    # ------------------------------------------------------------------------------------------------- bgctl
    Mutation(
        id="bgctl-rolled-back-exits-3",
        file=BGCTL_PROGRESS,
        original="        if self.rollback_deployment_id:\n            return DeploymentRolledBack(text)",
        replacement="        if self.rollback_deployment_id:\n            return DeploymentFailed(text)",
        tests=(f"{WATCH_TESTS}::test_failed_rolled_back_and_stopped_exit_codes",),
        why="exit 4 tells a pipeline production is on the previous version (rolled back), distinct from 3",
    ),
    Mutation(
        id="bgctl-failed-exits-0",
        file=BGCTL_ERRORS,
        original="class DeploymentFailed(BgctlError):\n    exit_code = EXIT_FAILED",
        replacement="class DeploymentFailed(BgctlError):\n    exit_code = EXIT_OK",
        tests=(f"{WATCH_TESTS}::test_failed_rolled_back_and_stopped_exit_codes",),
        why="a failed deployment exits 3, never 0",
    ),
    Mutation(
        id="bgctl-ctrl-c-outside-watch-exits-0",
        file=BGCTL_MAIN,
        original="            code = EXIT_INTERRUPTED",
        replacement="            code = 0",
        tests=(f"{DEPLOY_TESTS}::test_ctrl_c_before_a_deployment_exists_exits_130",
               f"{DEPLOY_TESTS}::test_ctrl_c_after_the_deployment_started_outside_the_watch_exits_130"),
        why="Ctrl-C anywhere exits 130, never 0 (a pipeline must not take an interrupted release for a success)",
    ),
    Mutation(
        id="bgctl-sigterm-exits-0",
        file=BGCTL_MAIN,
        original="            code = EXIT_TERMINATED",
        replacement="            code = 0",
        tests=(f"{NETWORK_TESTS}::test_sigterm_before_a_deployment_exists_says_nothing_to_resume",),
        why="SIGTERM (a cancelled CI job) exits 143, never 0",
    ),
    Mutation(
        id="bgctl-sigterm-handler-not-installed",
        file=BGCTL_MAIN,
        original="        return signal.signal(signal.SIGTERM, _on_sigterm)",
        replacement="        return None",
        tests=(f"{NETWORK_TESTS}::test_sigterm_to_a_real_watch_prints_the_resume_command_and_exits_143",),
        why="SIGTERM ends bgctl with the resume command and 143, not silently killed mid-watch",
    ),
    Mutation(
        id="bgctl-retry-budget-unbounded",
        file=BGCTL_RETRY,
        original="                if elapsed + pause + self.timeouts.attempt_seconds > self.timeouts.budget:",
        replacement="                if elapsed > self.timeouts.budget * 10:",
        tests=(f"{DEPLOY_TESTS}::test_unreachable_deploy_api_gives_up_within_the_budget",),
        why="a dead endpoint gives up within the retry budget (28 s), whichever way it is dead",
    ),
    Mutation(
        id="bgctl-lost-contact-exits-7",
        file=BGCTL_ERRORS,
        original="    exit_code = EXIT_LOST_CONTACT",
        replacement="    exit_code = EXIT_REFUSED",
        tests=(f"{WATCH_TESTS}::test_aws_error_while_watching_is_lost_contact",),
        why="exit 8 means the deployment continues (resume, do not redeploy); 7 would invite a second deployment",
    ),
    Mutation(
        id="bgctl-lost-contact-without-resume-command",
        file=BGCTL_WATCH,
        original='        raise LostContact(f"lost contact while watching: {lost.message}; {tail}") from None',
        replacement='        raise LostContact(f"lost contact while watching: {lost.message}") from None',
        tests=(f"{NETWORK_TESTS}::test_dead_codedeploy_endpoint_while_resuming_is_lost_contact",),
        why="losing contact prints `resume with: bgctl watch <id>`: the deployment continues without bgctl",
    ),
    Mutation(
        id="bgctl-rollback-picks-the-running-revision",
        file=BGCTL_ROLLBACK,
        original="    return next((run for run in history if not same_revision(run.task_definition, current)), None)",
        replacement="    return next((run for run in history), None)",
        tests=(f"{ROLLBACK_TESTS}::test_the_newest_known_good_revision_is_chosen",),
        why="rollback redeploys the last known-good revision other than the one running now",
    ),
    Mutation(
        id="bgctl-rollback-oldest-known-good",
        file=BGCTL_ROLLBACK,
        original="or epoch,\n               reverse=True)",
        replacement="or epoch,\n               reverse=False)",
        tests=(f"{ROLLBACK_TESTS}::test_the_newest_known_good_revision_is_chosen",),
        why="the last known-good revision is the newest that ran in production before the current one",
    ),
    Mutation(
        id="bgctl-rollback-requested-as-a-release",
        file=BGCTL_ROLLBACK,
        original='task_definition_arn=target, kind="rollback",',
        replacement='task_definition_arn=target, kind="release",',
        tests=(f"{ROLLBACK_TESTS}::test_redeploys_the_last_known_good_revision_as_a_rollback",),
        why="a rollback is registered as one: all at once, and the gate's rollback rule applies",
    ),
    Mutation(
        id="bgctl-rollback-stop-without-auto-rollback",
        file=BGCTL_ROLLBACK,
        original="codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)",
        replacement="codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)",
        tests=(f"{ROLLBACK_TESTS}::test_in_flight_deployment_is_stopped_with_its_id_shown_first",),
        why="stopping an in-flight deployment must route production back to blue",
    ),
    Mutation(
        id="change-safety-listener-update-safe",
        file=GATE_RULES,
        original="    return Finding(DANGEROUS, reason, FIX_LISTENER)",
        replacement="    return Finding(SAFE, reason, FIX_LISTENER)",
        tests=(f"{RULES_TESTS}::test_any_listener_property_change_is_dangerous",),
        why="a listener update re-applies its DefaultActions, sending production back to blue mid-release",
    ),
    Mutation(
        id="change-safety-service-load-balancers-safe",
        file=GATE_RULES,
        original='    if "LoadBalancers" in touched:',
        replacement='    if "LoadBalancer" in touched:',
        tests=(f"{RULES_TESTS}::test_load_balancers_change_is_dangerous",),
        why="ECS refuses LoadBalancers changes on a CODE_DEPLOY service: the stack update fails",
    ),
    Mutation(
        id="change-safety-silent-drift-safe",
        file=GATE_RULES,
        original='    return Finding(DANGEROUS, f"silent drift:',
        replacement='    return Finding(SAFE, f"silent drift:',
        tests=(f"{RULES_TESTS}::test_new_revision_without_a_trigger_is_silent_drift",),
        why="a new task-definition revision nobody deploys leaves production on the old one while the stack succeeds",
    ),
    Mutation(
        id="change-safety-shared-config-removal-safe",
        file=GATE_RULES,
        original='    if delta.kind not in ("removed", "replaced"):\n        return None\n    names = {k:',
        replacement='    if delta.kind not in ("replaced",):\n        return None\n    names = {k:',
        tests=(f"{RULES_TESTS}::test_removing_a_shared_deployment_config_names_its_users",),
        why="removing a shared deployment config breaks the deployment groups of other stacks that name it",
    ),
    # ------------------------------------------------------------------------------------ config validation
    Mutation(
        id="config-alarm-count-ignores-existing",
        file=CONFIG_MODEL,
        original="        return BUILT_IN_ROLLBACK_ALARMS + len(self.custom) + len(self.existing_alarm_names)",
        replacement="        return BUILT_IN_ROLLBACK_ALARMS + len(self.custom)",
        tests=(f"{CONFIG_LIMIT_TESTS}::test_an_eleventh_alarm_is_refused_existing_ones_included",),
        why="CodeDeploy allows 10 alarms per deployment group, existing alarms included",
    ),
    Mutation(
        id="config-alarm-limit-raised",
        file="constructs/bluegreen/limits.py",
        original="MAX_ALARMS_PER_DEPLOYMENT_GROUP = 10",
        replacement="MAX_ALARMS_PER_DEPLOYMENT_GROUP = 11",
        tests=(f"{CONFIG_LIMIT_TESTS}::test_ten_alarms_including_existing_ones_are_accepted",
               f"{CONFIG_LIMIT_TESTS}::test_an_eleventh_alarm_is_refused_existing_ones_included"),
        why="10 alarms per deployment group is CodeDeploy's limit, not ours to raise",
    ),
    Mutation(
        id="config-approval-expiry-up-to-an-hour",
        file=LOADER,
        original="    if not 1 <= expiry <= MAX_APPROVAL_EXPIRY_MINUTES:",
        replacement="    if not 1 <= expiry <= 59:",
        tests=(f"{LOADER_TESTS}::test_approval_expiry_leaves_room_for_retries_before_the_hook_deadline",),
        why="approval expiry <= 50 minutes leaves the expiry's retries inside CodeDeploy's 60-minute hook deadline",
    ),
    Mutation(
        id="config-stickiness-outlives-blue",
        file=LOADER,
        original="    if stickiness is not None and stickiness > drain.termination_wait_minutes * 60:",
        replacement="    if stickiness is not None and stickiness > drain.termination_wait_minutes * 60 + 60:",
        tests=(f"{LOADER_TESTS}::test_stickiness_must_end_before_blue_is_terminated",),
        why="stickiness must end before blue is terminated, or users kept on blue get 5xx",
    ),
    Mutation(
        id="config-drain-shorter-than-a-session",
        file=DRAIN,
        original="        elif self.deregistration_delay_seconds < self.max_session_seconds:",
        replacement="        elif self.deregistration_delay_seconds < self.max_session_seconds // 2:",
        tests=(f"{CONFIG_LIMIT_TESTS}::test_websocket_drain_lasts_at_least_the_longest_session",
               f"{LOADER_TESTS}::test_drain_shorter_than_max_session"),
        why="draining targets must outlast the longest session (websocket domains), or live sessions are cut",
    ),
    Mutation(
        id="config-mutable-tag-only-latest",
        file=LOADER,
        original='    if tag in MUTABLE_TAGS and "@sha256:" not in image and not allow_mutable:',
        replacement='    if tag == "latest" and "@sha256:" not in image and not allow_mutable:',
        tests=(f"{CONFIG_LIMIT_TESTS}::test_mutable_image_tags_are_refused",),
        why="mutable tags (latest, stable, main, ...) make what runs and what a rollback returns to unknowable",
    ),
    Mutation(
        id="config-port-clash-across-domains",
        file=LOADER,
        original="                if port in seen:\n",
        replacement="                if port in seen and key == \"port\":\n",
        tests=(f"{LOADER_TESTS}::test_test_port_clashing_with_another_domains_port",),
        why="two domains on one ALB group cannot share a port, production or test",
    ),
    Mutation(
        id="config-port-equals-test-port",
        file=LOADER,
        original="    if port == test_port:\n",
        replacement="    if port == test_port and False:\n",
        tests=(f"{CONFIG_LIMIT_TESTS}::test_a_domain_built_elsewhere_cannot_use_its_production_port_for_test_traffic",),
        why="the test listener needs its own port, or test traffic reaches production users",
    ),
    Mutation(
        id="config-platform-name-with-dash",
        file=LOADER,
        original='PLATFORM_NAME_RE = re.compile(r"^[a-z][a-z0-9]{1,11}$")',
        replacement='PLATFORM_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,11}$")',
        tests=(f"{LOADER_TESTS}::test_platform_name_with_a_dash",),
        why="platform names without '-' keep IAM patterns `<platform>-*` from matching another platform",
    ),
    Mutation(
        id="config-error-rate-below-a-tenth",
        file=LOADER,
        original="    if not 0.1 <= spec.error_rate_percent <= 100:",
        replacement="    if not 0.0 <= spec.error_rate_percent <= 100:",
        tests=(f"{CONFIG_LIMIT_TESTS}::test_error_rate_is_at_least_a_tenth_of_a_percent",
               "tests/config/test_reference.py::test_every_documented_limit_is_enforced"),
        why="below 0.1 % one error in a quiet minute would roll every release back",
    ),
    Mutation(
        id="config-release-budget-exceeded",
        file=LOADER,
        original="    if worst > max_release_minutes():",
        replacement="    if worst > max_release_minutes() + 50:",
        tests=(f"{CONFIG_LIMIT_TESTS}::test_a_release_may_take_at_most_400_minutes",),
        why="a stack update waits at most 400 minutes for CodeDeploy; a longer release would fail every cdk deploy",
    ),
    Mutation(
        id="config-release-budget-ignores-deregistration",
        file=RELEASE_TIMING,
        original="    drain = math.ceil(spec.drain.deregistration_delay_seconds / 60)",
        replacement="    drain = 0",
        tests=(f"{CONFIG_LIMIT_TESTS}::test_the_voice_release_takes_150_minutes_and_three_waiting_resources",
               f"{CONFIG_LIMIT_TESTS}::test_a_release_may_take_at_most_400_minutes"),
        why="CodeDeploy reports success only after blue's targets drained: the wait must include the delay",
    ),
]
