"""Client of the platform's deploy API (docs/deploy-api.md): SigV4-signed JSON POSTs, typed errors.

Used by `bgctl approve|reject` and by the domain stacks' `cdk deploy` trigger. botocore only (no
extra dependency): requests are signed with `botocore.auth.SigV4Auth` for service `execute-api`.

    client = DeployApiClient(base_url=platform["deployApiUrl"], region="eu-west-1",
                             credentials=boto3.Session().get_credentials())
    started = client.start_deployment(domain="auth", task_definition_arn=arn, kind="release",
                                      reason="cdk deploy", source="cloudformation")
    started.deployment_id  # "d-..."
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

DEFAULT_TIMEOUT_SECONDS = 30.0  # API Gateway's own integration limit is 29 s
MAX_ANSWER_BYTES = 1_000_000


class DeployApiError(Exception):
    """The deploy API refused or could not be reached. `status` is the HTTP status (0: unreachable)."""

    status = 0

    def __init__(self, code: str, message: str, *, status: int | None = None,
                 body: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message
        if status is not None:
            self.status = status
        self.body = dict(body or {})


class BadRequest(DeployApiError):
    status = 400


class Forbidden(DeployApiError):
    status = 403


class NotFound(DeployApiError):
    status = 404


class Conflict(DeployApiError):
    """409: a deployment is in flight (`deployment_id` names it) or the decision was refused."""

    status = 409

    @property
    def deployment_id(self) -> str | None:
        value = self.body.get("deploymentId")
        return str(value) if value else None


class UpstreamError(DeployApiError):
    """5xx: CodeDeploy refused or failed (`codedeploy_error`), or the API itself failed."""

    status = 502


class Unreachable(DeployApiError):
    """Timeout, DNS, TLS or connection failure: nothing is known about the request's effect."""


_BY_STATUS = {400: BadRequest, 403: Forbidden, 404: NotFound, 409: Conflict}


@dataclass(frozen=True)
class StartedDeployment:
    deployment_id: str
    requester: Mapping[str, Any]
    console_url: str | None


@dataclass(frozen=True)
class DecisionAnswer:
    code: str
    message: str
    status: str | None
    codedeploy_result: str | None
    body: Mapping[str, Any]

    @property
    def partial(self) -> bool:
        """The decision is recorded but CodeDeploy has not (yet) received it."""
        return self.code in ("decided", "resent", "already_decided") and bool(self.codedeploy_result) \
            and str(self.codedeploy_result).startswith("ERROR:")


def signed_headers(method: str, url: str, body: bytes, *, credentials: Any, region: str,
                   headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """SigV4 headers (service `execute-api`) for one JSON request: the API's AWS_IAM authorization."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, data=body,
                         headers={"Content-Type": "application/json", **dict(headers or {})})
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


def error_for(status: int, answer: Mapping[str, Any], fallback: str) -> DeployApiError:
    """The typed error of a non-2xx answer (the contract's `{"error": {"code", "message"}}` shape)."""
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    code = str(error.get("code") or answer.get("code") or f"http_{status}")
    message = str(error.get("message") or answer.get("message") or answer.get("Message") or fallback)
    kind = _BY_STATUS.get(status, UpstreamError if status >= 500 else DeployApiError)
    return kind(code, message, status=status, body=answer)


def decision_answer(answer: Mapping[str, Any]) -> DecisionAnswer:
    return DecisionAnswer(code=str(answer.get("code", "")), message=str(answer.get("message", "")),
                          status=answer.get("status"), codedeploy_result=answer.get("codeDeployResult"),
                          body=dict(answer))


class DeployApiClient:
    def __init__(self, *, base_url: str, region: str, credentials: Any,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        if not base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("the deploy API URL must be https:// (http only for 127.0.0.1 tests)")
        self.base_url = base_url.rstrip("/") + "/"
        self.region, self.credentials, self.timeout = region, credentials, timeout

    def start_deployment(self, *, domain: str, task_definition_arn: str, kind: str = "release", reason: str,
                         source: str, github_oidc_token: str | None = None,
                         stack_id: str | None = None) -> StartedDeployment:
        body: dict[str, Any] = {"domain": domain, "taskDefinitionArn": task_definition_arn, "kind": kind,
                                "reason": reason, "source": source}
        if github_oidc_token:
            body["githubOidcToken"] = github_oidc_token
        if stack_id:
            body["stackId"] = stack_id
        answer = self.post("deployments", body)
        return StartedDeployment(deployment_id=str(answer.get("deploymentId", "")),
                                 requester=answer.get("requester") or {}, console_url=answer.get("consoleUrl"))

    def decide(self, deployment_id: str, *, decision: str, reason: str, resend: bool = False) -> DecisionAnswer:
        answer = self.post(decisions_path(deployment_id), {"decision": decision, "reason": reason, "resend": resend})
        return decision_answer(answer)

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        url = self.base_url + path.lstrip("/")
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = signed_headers("POST", url, data, credentials=self.credentials, region=self.region)
        request = urllib.request.Request(url, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - https only
                return _json_object(response.read(MAX_ANSWER_BYTES))
        except urllib.error.HTTPError as exc:
            answer = _json_object(exc.read(MAX_ANSWER_BYTES), strict=False)
            raise error_for(exc.code, answer, str(exc.reason)) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise Unreachable("unreachable", f"deploy API not reachable: {getattr(exc, 'reason', exc)}") from None


def decisions_path(deployment_id: str) -> str:
    return f"deployments/{urllib.parse.quote(deployment_id, safe='')}/decisions"


def _json_object(raw: bytes, *, strict: bool = True) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        if strict:
            raise UpstreamError("bad_answer", "the deploy API answered something that is not JSON") from None
        return {}
    if not isinstance(value, dict):
        if strict:
            raise UpstreamError("bad_answer", "the deploy API answered JSON that is not an object")
        return {}
    return value
