"""Who asked for a deployment comes only from what AWS or GitHub verified (docs/approvals.md, "Who requested a
deployment"): the gate reads the registrar's `REGISTERED` record, takes a GitHub actor only when the registrar
verified the token, and asks CloudTrail for the stack updater only for the release provider's registrations."""
from __future__ import annotations

from datetime import datetime, timezone

from tests.safety.lambda_modules import approval_gate

requester_module = approval_gate("requester")

PLATFORM = "bluegreen"
DEPLOY_ROLE = "arn:aws:sts::123456789012:assumed-role/bluegreen-deploy-org-app/run-1"
RELEASE_PROVIDER = "arn:aws:sts::123456789012:assumed-role/bluegreen-release-provider/cfn-trigger"
SSO_ALICE = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com"
STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/Bluegreen-Domain-auth/0f0e0d0c-0b0a-0908-0706-050403020100"
IDENTITY_MAP = {"github:alice": "U0ALICE", f"iam:{SSO_ALICE}": "U0ALICE"}


def registration(principal: str, *, verified_by: list[str], github_actor: str | None = None,
                 source: str = "github-actions", **extra):
    requester = {"principalArn": principal, "accountId": "123456789012", "verifiedBy": verified_by}
    if github_actor:
        requester["githubActor"] = github_actor
    return {"sk": "REGISTERED", "requester": requester, "source": source,
            "requestedAt": "2030-05-01T12:00:00Z", **extra}


class Updater:
    """CloudTrail says Alice updated the stack; remembers whether it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, datetime]] = []

    def __call__(self, stack_id: str, registered_at: datetime) -> str:
        self.asked.append((stack_id, registered_at))
        return SSO_ALICE


def resolve(record, updater=None):
    return requester_module.resolve_requester(record, IDENTITY_MAP, platform=PLATFORM, domain="auth",
                                              stack_updater=updater or Updater())


def test_a_verified_github_actor_is_the_requester():
    found = resolve(registration(DEPLOY_ROLE, verified_by=["iam", "github-oidc"], github_actor="alice"))
    assert (found.identity, found.slack_id, found.source) == ("github:alice", "U0ALICE", "registrar")


def test_a_github_actor_the_registrar_did_not_verify_is_ignored():
    """Only `verifiedBy: github-oidc` makes the actor count; otherwise the requester is the SigV4 caller."""
    found = resolve(registration(DEPLOY_ROLE, verified_by=["iam"], github_actor="alice"))
    assert (found.identity, found.slack_id, found.known) == (f"iam:{DEPLOY_ROLE}", None, False)


def test_the_release_provider_registration_names_the_cloudtrail_stack_updater():
    updater = Updater()
    found = resolve(registration(RELEASE_PROVIDER, verified_by=["iam"], source="cloudformation", stackId=STACK_ID),
                    updater)
    assert (found.identity, found.slack_id, found.source) == (f"iam:{SSO_ALICE}", "U0ALICE", "cloudtrail")
    assert updater.asked == [(STACK_ID, datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc))]


def test_source_cloudformation_from_another_role_is_not_attributed_to_the_stack_updater():
    """Defence in depth (the registrar refuses it too): the caller, not whoever CloudTrail shows."""
    updater = Updater()
    found = resolve(registration(DEPLOY_ROLE, verified_by=["iam"], source="cloudformation", stackId=STACK_ID),
                    updater)
    assert (found.identity, found.slack_id, found.source) == (f"iam:{DEPLOY_ROLE}", None, "registrar")
    assert updater.asked == []


def test_no_registration_is_an_unknown_requester():
    found = resolve(None)
    assert (found.identity, found.slack_id, found.source, found.known) == ("unknown", None, "none", False)
