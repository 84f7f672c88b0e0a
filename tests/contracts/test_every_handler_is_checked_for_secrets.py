"""Every Lambda of the app and every logger of the sources is under a no-secrets-in-logs test (tests/log_secrets.py).

A new function in a template, or a logger outside the captured roots, fails here until its test exists.
The unnamed functions (the CDK Provider framework's and the default security group custom resource's) are CDK's
own code and log no project data.
"""
from __future__ import annotations

import re

from tests.log_secrets import PROJECT_LOGGER_ROOTS, REPO, logger_names_in_sources
from tests.synth_support import resources_of_type

APPROVAL = "tests/approval/test_approval_logs_have_no_secrets.py::"
HOOKS = "tests/progressive/test_smoke_and_notifier_logs_have_no_secrets.py::"
RELEASE = "tests/release_provider/test_release_provider_logs_have_no_secrets.py::"
CLI = "tests/cli/test_bgctl_no_secrets.py::"
#: function name -> the test that runs its handler with secrets in play and checks what it logs
COVERAGE = {
    "CodeDeployHook_bluegreen_approval-request": APPROVAL + "test_request_hook_never_logs_a_secret",
    "bluegreen-approval-callback": APPROVAL + "test_callback_and_worker_never_log_a_secret",
    "bluegreen-approval-worker": APPROVAL + "test_callback_and_worker_never_log_a_secret",
    "bluegreen-approval-expiry": APPROVAL + "test_expiry_never_logs_a_secret",
    "bluegreen-deploy-api": APPROVAL + "test_deploy_api_never_logs_the_github_token",
    "CodeDeployHook_bluegreen_smoke-tests": HOOKS + "test_smoke_hook_never_logs_the_credentials_of_a_smoke_check",
    "bluegreen-deployment-notifier": HOOKS + "test_notifier_never_logs_the_bot_token",
    "bluegreen-release-provider": RELEASE + "test_release_provider_never_logs_credentials_or_the_response_url",
    "bluegreen-release-provider-waiter": RELEASE + "test_release_provider_never_logs_credentials_or_the_response_url",
}
CLI_COVERAGE = [CLI + "test_deploy_in_github_actions_never_prints_a_token_or_a_credential",
                CLI + "test_approve_and_reject_never_print_a_credential"]


def test_every_named_lambda_of_the_app_has_a_no_secrets_test(default_app):
    functions = [f["Properties"] for template in default_app.templates.values()
                 for f in resources_of_type(template, "AWS::Lambda::Function").values()]
    named = {f["FunctionName"] for f in functions if f.get("FunctionName")}
    assert named == set(COVERAGE), f"without a no-secrets test: {sorted(named - set(COVERAGE))}; " \
                                   f"listed but gone: {sorted(set(COVERAGE) - named)}"


def test_the_listed_tests_exist():
    for node in {*COVERAGE.values(), *CLI_COVERAGE}:
        path, name = node.split("::")
        assert re.search(rf"^def {name}\(", (REPO / path).read_text(), re.MULTILINE), node


def test_every_logger_in_the_sources_is_captured():
    names = logger_names_in_sources()
    assert {"approval.request", "smoke_tests", "release_provider", "bgruntime.approvals"} <= names  # the scan works
    assert {name for name in names if name.split(".")[0] not in PROJECT_LOGGER_ROOTS} == set()
