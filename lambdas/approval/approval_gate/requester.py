"""Who asked for a deployment, how many approvals it needs, and the rollback rule.

Pure functions plus one CloudTrail lookup. The requester comes only from records the requester cannot
write: the deploy API's `REGISTERED` record (caller ARN verified by API Gateway's SigV4 check, GitHub
actor verified from a signed OIDC token) or, for a `cdk deploy`, the principal CloudTrail recorded for
the stack update. Nothing is read from the deployment's description.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from bgruntime import approvals
from bgruntime.deployments import error_code
from bgruntime.identities import UNKNOWN, github_identity, iam_identity, role_name_of, slack_id_for, trigger_role_name

ROLLBACK_RULE = "rollback-to-known-good"
STACK_UPDATE_EVENTS = ("ExecuteChangeSet", "UpdateStack", "CreateStack")
#: how far before the registration a stack update may have started (CloudFormation can take a while)
STACK_UPDATE_LOOKBACK = timedelta(hours=2)


@dataclass(frozen=True)
class Requester:
    identity: str          # github:<login> | iam:<arn> | unknown
    slack_id: str | None   # from the identity map; None = unmapped
    source: str            # registrar | cloudtrail | none
    verified_by: tuple[str, ...] = ()
    principal_arn: str | None = None
    note: str | None = None

    @property
    def known(self) -> bool:
        """Known means verified *and* mapped to a Slack user (so self-approval can be refused)."""
        return self.slack_id is not None


@dataclass(frozen=True)
class ApprovalRequirement:
    required: int
    blocked: bool
    why: str


def resolve_requester(registration: Mapping[str, Any] | None, identity_map: Mapping[str, Any], *, platform: str,
                      domain: str, stack_updater: Callable[[str, datetime], str | None]) -> Requester:
    if not registration:
        return Requester(UNKNOWN, None, "none", note="no registration record: the deployment was not started "
                                                     "through the deploy API (console or raw API call)")
    who = registration.get("requester") if isinstance(registration.get("requester"), Mapping) else {}
    principal = who.get("principalArn") if isinstance(who.get("principalArn"), str) else None
    verified = tuple(str(v) for v in who.get("verifiedBy") or [] if isinstance(v, str))
    actor = who.get("githubActor")
    if isinstance(actor, str) and actor and "github-oidc" in verified:
        identity = github_identity(actor)
        return Requester(identity, slack_id_for(identity, identity_map), "registrar", verified, principal)
    if registration.get("source") == "cloudformation" and principal and \
            role_name_of(principal) == trigger_role_name(platform):
        stack_id = registration.get("stackId")
        requested_at = approvals.parse_iso(registration.get("requestedAt"))
        updater = stack_updater(str(stack_id), requested_at) if stack_id and requested_at else None
        if not updater:
            return Requester(UNKNOWN, None, "cloudtrail", verified, principal,
                             note="cdk deploy: CloudTrail did not (yet) show who updated the stack")
        identity = iam_identity(updater)
        return Requester(identity, slack_id_for(identity, identity_map), "cloudtrail", (*verified, "cloudtrail"),
                         updater)
    if principal:
        identity = iam_identity(principal)
        return Requester(identity, slack_id_for(identity, identity_map), "registrar", verified, principal)
    return Requester(UNKNOWN, None, "none", note="registration without a verified principal")


def requirement(rules: Mapping[str, Any] | None, requester: Requester) -> ApprovalRequirement:
    """`minApprovers` (>= 1) and `unknownRequester` (two_approvers | block) of the domain."""
    rules = rules if isinstance(rules, Mapping) else {}
    raw = rules.get("minApprovers", 1)
    minimum = raw if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= 5 else 1
    policy = rules.get("unknownRequester") if rules.get("unknownRequester") in (approvals.TWO_APPROVERS,
                                                                                  approvals.BLOCK) \
        else approvals.TWO_APPROVERS
    if requester.known:
        return ApprovalRequirement(minimum, False, f"{minimum} approver{'s' if minimum > 1 else ''} (domain rule)")
    if policy == approvals.BLOCK:
        return ApprovalRequirement(max(minimum, 2), True, "unknown requester and the domain blocks such deployments")
    return ApprovalRequirement(max(minimum, 2), False, "unknown requester: two distinct approvers (fail closed)")


def stack_updater_from_cloudtrail(cloudtrail: Any) -> Callable[[str, datetime], str | None]:
    """A lookup of the principal whose ExecuteChangeSet/UpdateStack/CreateStack on the stack came last
    before `registered_at` (CloudTrail event history, LookupEvents by resource name)."""

    def lookup(stack_id: str, registered_at: datetime) -> str | None:
        stack_name = stack_id.split("/")[1] if stack_id.startswith("arn:") and stack_id.count("/") >= 2 else stack_id
        best: tuple[datetime, str] | None = None
        for name in dict.fromkeys((stack_id, stack_name)):
            try:
                answer = cloudtrail.lookup_events(
                    LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": name}],
                    StartTime=registered_at - STACK_UPDATE_LOOKBACK, EndTime=registered_at + timedelta(minutes=5),
                    MaxResults=50)
            except Exception as exc:  # noqa: BLE001 - not found = unknown requester (fail closed)
                if error_code(exc) is None and not type(exc).__module__.startswith("botocore"):
                    raise
                return None
            for event in answer.get("Events", []):
                found = _stack_update(event)
                if found and found[0] <= registered_at + timedelta(minutes=5) and (best is None or found[0] > best[0]):
                    best = found
            if best:
                break
        return best[1] if best else None

    return lookup


def _stack_update(event: Mapping[str, Any]) -> tuple[datetime, str] | None:
    if event.get("EventName") not in STACK_UPDATE_EVENTS:
        return None
    try:
        detail = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        return None
    identity = detail.get("userIdentity") or {}
    arn = identity.get("arn")
    if identity.get("type") == "AWSService" or not isinstance(arn, str) or detail.get("errorCode"):
        return None
    when = event.get("EventTime")
    moment = when if isinstance(when, datetime) else approvals.parse_iso(detail.get("eventTime"))
    return (approvals._utc(moment), arn) if moment else None


def rollback_rule_applies(registration: Mapping[str, Any] | None, requester: Requester, *,
                          approver_ids: Iterable[str], ran_before: Callable[[str], str | None]) -> tuple[bool, str]:
    """(applies, why). An authorized operator's rollback to a revision that ran in production before."""
    if not registration or registration.get("kind") != "rollback":
        return False, "not a rollback"
    if not requester.known:
        return False, "rollback requested by an unverified or unmapped identity"
    if requester.slack_id not in set(approver_ids):
        return False, "rollback requested by someone who is not an approver of the domain"
    target = registration.get("taskDefinitionArn")
    if not isinstance(target, str) or not target:
        return False, "the registration names no task definition"
    evidence = ran_before(target)
    if not evidence:
        return False, f"{target} never completed a deployment to production"
    return True, (f"rollback by approver {requester.identity} to {target.rsplit('/', 1)[-1]}, which production ran "
                  f"in deployment {evidence}")
