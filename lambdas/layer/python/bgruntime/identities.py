"""Deploy identities and the identity map (`platform.slack.identity_map`).

An identity is a string the *platform* established, never one the requester typed:

- `github:<login>`: the `actor` claim of a GitHub Actions OIDC token the registrar verified;
- `iam:<arn>`: the caller ARN API Gateway verified with SigV4 (`requestContext.identity.userArn`),
  or the principal CloudTrail recorded for the stack update that triggered a `cdk deploy`.

The identity map translates identities to Slack user ids. Keys accepted (one validation rule for the
config loader and the runtime):

- `github:<login>`;
- `iam:arn:<partition>:iam::<account>:user/<name>` (an IAM user);
- `iam:arn:<partition>:sts::<account>:assumed-role/<role>/<session>` (one role session, e.g. an IAM
  Identity Center user: `AWSReservedSSO_<set>_<hash>/<user name>`, whose session name SSO sets).

A bare role ARN is refused: every session of a role would map to one person.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

UNKNOWN = "unknown"
_GITHUB_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_PARTITION = r"aws(?:-[a-z]+)*"
GITHUB_KEY_RE = re.compile(rf"^github:({_GITHUB_LOGIN})$")
IAM_USER_KEY_RE = re.compile(rf"^iam:arn:{_PARTITION}:iam::\d{{12}}:user/[\w+=,.@/-]{{1,512}}$")
IAM_SESSION_KEY_RE = re.compile(rf"^iam:arn:{_PARTITION}:sts::\d{{12}}:assumed-role/[\w+=,.@-]{{1,64}}/[\w+=,.@-]{{2,64}}$")
IAM_ROLE_KEY_RE = re.compile(rf"^iam:arn:{_PARTITION}:iam::\d{{12}}:role/")
SLACK_USER_RE = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_CALLER_ARN_RE = re.compile(rf"^arn:{_PARTITION}:(?:iam|sts)::\d{{12}}:[\w+=,.@/:-]{{1,900}}$")


def identity_key_problem(key: Any) -> str | None:
    """Why `key` cannot be an identity-map key, or None when it can."""
    if not isinstance(key, str):
        return "is not a string"
    if GITHUB_KEY_RE.match(key) or IAM_USER_KEY_RE.match(key) or IAM_SESSION_KEY_RE.match(key):
        return None
    if IAM_ROLE_KEY_RE.match(key):
        return ("is a role ARN: every session of the role would map to one person; map one session "
                "(iam:arn:aws:sts::<account>:assumed-role/<role>/<session>)")
    return ("is not github:<login>, iam:<IAM user ARN> or iam:<assumed-role session ARN> "
            "(arn:aws:sts::<account>:assumed-role/<role>/<session>)")


def github_identity(login: str) -> str:
    return f"github:{login}"


def iam_identity(arn: str) -> str:
    return f"iam:{arn}"


def valid_caller_arn(arn: Any) -> bool:
    return isinstance(arn, str) and bool(_CALLER_ARN_RE.match(arn))


def slack_id_for(identity: str | None, identity_map: Mapping[str, Any] | None) -> str | None:
    """The Slack user id of an identity (exact match; GitHub logins are case-insensitive), else None."""
    if not identity or identity == UNKNOWN or not isinstance(identity_map, Mapping):
        return None
    value = identity_map.get(identity)
    if value is None and identity.startswith("github:"):
        wanted = identity.lower()
        value = next((v for k, v in identity_map.items() if isinstance(k, str) and k.lower() == wanted), None)
    return value if isinstance(value, str) and SLACK_USER_RE.match(value) else None


def role_name_of(arn: str) -> str | None:
    """`arn:aws:sts::1:assumed-role/Role/session` -> `Role`; None for anything else."""
    match = re.match(rf"^arn:{_PARTITION}:sts::\d{{12}}:assumed-role/([^/]+)/", arn or "")
    return match.group(1) if match else None


def trigger_role_name(platform: str) -> str:
    """The role of the platform's release provider, which releases every domain's `cdk deploy` changes: the only
    caller the deploy API accepts with `source: cloudformation` (constructs/bluegreen/release_provider.py)."""
    return f"{platform}-release-provider"


def deploy_role_prefix(platform: str) -> str:
    """GitHub deploy roles are named `<platform>-deploy-<owner>-<repo>` (github_deploy_role.py)."""
    return f"{platform}-deploy-"
