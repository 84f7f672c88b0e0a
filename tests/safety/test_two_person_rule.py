"""The two-person rule (docs/approvals.md, "The rules"): how many distinct approvers a request needs, from the
domain's `min_approvers` / `unknown_requester` and whether the requester is known; and that the rule book then
asks for exactly that many people, none of them the requester. Expected numbers are the documented ones."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bgruntime import approvals
from tests.safety.lambda_modules import approval_gate

requester_module = approval_gate("requester")
Requester = requester_module.Requester

KNOWN = Requester("github:alice", "U0ALICE", "registrar", ("iam", "github-oidc"))
UNKNOWN = Requester("unknown", None, "none")
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)
DEPLOYMENT_ID = "d-TWOPERSON1"
EVERYONE = lambda actor: True  # noqa: E731


@pytest.mark.parametrize(("rules", "requester", "required", "blocked"), [
    (None, KNOWN, 1, False),                                       # default min_approvers: 1
    ({"minApprovers": 2}, KNOWN, 2, False),                        # min_approvers: 2 -> two people always
    ({"minApprovers": 5}, KNOWN, 5, False),
    (None, UNKNOWN, 2, False),                                     # unknown requester: two (fail closed)
    ({"unknownRequester": "two_approvers"}, UNKNOWN, 2, False),
    ({"minApprovers": 3}, UNKNOWN, 3, False),                      # never fewer than the domain asks
    ({"unknownRequester": "block"}, UNKNOWN, 2, True),             # only reject or expiry
    ({"unknownRequester": "block"}, KNOWN, 1, False),              # block applies to unknown requesters only
    ({"unknownRequester": "allow"}, UNKNOWN, 2, False),            # an unknown policy falls back to two approvers
])
def test_required_approvals(rules, requester, required, blocked):
    needed = requester_module.requirement(rules, requester)
    assert (needed.required, needed.blocked) == (required, blocked)


@pytest.mark.parametrize("raw", [0, 6, True, "2", 2.0, None])
def test_an_invalid_min_approvers_is_one_for_a_known_requester_and_two_for_an_unknown_one(raw):
    assert requester_module.requirement({"minApprovers": raw}, KNOWN).required == 1
    assert requester_module.requirement({"minApprovers": raw}, UNKNOWN).required == 2


def _state(required: int, *records) -> approvals.ApprovalState:
    expires = NOW + timedelta(minutes=45)
    request = approvals.record(
        DEPLOYMENT_ID, approvals.APPROVAL_SK, "request", NOW, domain="payment", hookExecutionId="hook",
        requester="github:alice", requesterSlackId="U0ALICE", expiresAt=approvals.iso(expires),
        expiresAtEpoch=int(expires.timestamp()), status="PENDING", approverUserIds=["U0ALICE", "U0BOB", "U0CAROL"],
        requiredApprovals=required, blocked=False)
    return approvals.ApprovalState.from_records(DEPLOYMENT_ID, [request, *records])


def _slack(user: str) -> approvals.Actor:
    return approvals.Actor(via="slack", name=user.lower(), slack_user_id=user)


def test_min_approvers_two_needs_two_people_other_than_the_requester():
    state = _state(2)
    assert approvals.evaluate(state, _slack("U0ALICE"), "APPROVED", NOW, is_approver=EVERYONE).code == "self_approval"
    first = approvals.evaluate(state, _slack("U0BOB"), "APPROVED", NOW, is_approver=EVERYONE)
    assert (first.code, first.decision) == ("vote_recorded", None)
    state = _state(2, *first.records)
    assert approvals.evaluate(state, _slack("U0BOB"), "APPROVED", NOW, is_approver=EVERYONE).code == "already_voted"
    assert approvals.evaluate(state, _slack("U0ALICE"), "APPROVED", NOW, is_approver=EVERYONE).code == "self_approval"
    second = approvals.evaluate(state, _slack("U0CAROL"), "APPROVED", NOW, is_approver=EVERYONE)
    assert (second.code, second.decision) == ("decided", "APPROVED")
    assert [a["slackUserId"] for a in second.records[-1]["approvers"]] == ["U0BOB", "U0CAROL"]
