"""Client of the platform's deploy API (docs/deploy-api.md): the only way bgctl starts a deployment.

Requests are JSON, SigV4-signed for `execute-api` with botocore's signer (no other dependency), sent with
http.client under bgctl's connect/read timeouts. A request that never reached the API (refused, connect
timeout, 429/503) is retried visibly by `Retrier`; one that was sent but not answered is never re-sent
(it may have started a deployment): that is `LostContact`, with the command that tells what happened.
Every documented error code maps to one exit code (`ERROR_EXITS`).
"""
from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .errors import AwsError, BgctlError, LostContact, UsageError, one_line, readable_message

API_AUDIENCE = "bluegreen-deploy-api"
MAX_BODY_BYTES = 16 * 1024
MAX_REASON_CHARS = 300
KINDS = ("release", "rollback")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

# documented error code -> (error class, what the operator does next)
ERROR_EXITS: dict[str, tuple[type[BgctlError], str]] = {
    "bad_request": (UsageError, "fix the request"),
    "unknown_domain": (UsageError, "check the domain name and --platform"),
    "forbidden": (AwsError, "this identity may not deploy this domain: check the role's execute-api:Invoke "
                            "permission and the registrar's allow-list"),
    "deployment_in_flight": (AwsError, "follow it with `bgctl watch {running}` or stop it with "
                                       "`bgctl rollback {domain}`"),
    "codedeploy_error": (AwsError, "CodeDeploy refused the deployment; nothing started"),
}


class TransportError(Exception):
    """The request did not reach the deploy API (retryable: `transient`)."""

    transient = True


@dataclass(frozen=True)
class Registration:
    deployment_id: str
    requester: Mapping[str, Any] = field(default_factory=dict)
    console_url: str | None = None

    def requester_text(self) -> str:
        who = self.requester.get("githubActor")
        principal = self.requester.get("principalArn")
        verified = "+".join(self.requester.get("verifiedBy") or []) or "unverified"
        parts = [f"github:{who}" if who else None, principal]
        return f"{' / '.join(p for p in parts if p) or 'unknown'} (verified by {verified})"


@dataclass(frozen=True)
class Answer:
    status: int
    document: Any
    raw: str


def _host_header(parts: urllib.parse.SplitResult) -> str:
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def send(method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, connect_timeout: float,
         read_timeout: float) -> Answer:
    """One HTTP exchange. Raises TransportError when the request could not be sent (safe to retry) and
    LostContact-worthy OSError subclasses (`SentButUnanswered`) once it was sent."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise UsageError(f"deploy API URL {url} is not https: refusing to send signed requests in clear text")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=connect_timeout)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    try:
        try:
            connection.connect()
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(_reason(exc, connect_timeout, "connect")) from exc
        assert connection.sock is not None
        connection.sock.settimeout(read_timeout)
        try:
            connection.request(method, path, body=body, headers=dict(headers))
            response = connection.getresponse()
            raw = response.read(MAX_BODY_BYTES * 4).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            raise SentButUnanswered(_reason(exc, read_timeout, "read")) from exc
    finally:
        connection.close()
    try:
        document = json.loads(raw) if raw.strip() else None
    except ValueError:
        document = None
    return Answer(status=response.status, document=document, raw=raw)


class SentButUnanswered(Exception):
    """The request went out but no answer came back (timeout, reset): it may have taken effect."""


def _reason(exc: BaseException, timeout: float, phase: str) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return (f"no answer within the {phase} timeout ({timeout:g} s)" if phase == "read"
                else f"connect timed out after {timeout:g} s")
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host name not resolved"
    return one_line(f"{type(exc).__name__}: {exc}")


class DeployApi:
    """`DeployApi(url, region=..., credentials=..., timeouts=..., retrier=...).start_deployment(...)`."""

    def __init__(self, base_url: str, *, region: str, credentials: Any, timeouts: Any, retrier: Any,
                 transport: Callable[..., Answer] = send) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self._region = region
        self._credentials = credentials
        self._timeouts = timeouts
        self._retrier = retrier
        self._transport = transport

    def signed_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        from bgruntime.deploy_api_client import signed_headers

        return signed_headers(method, url, body, credentials=self._credentials, region=self._region,
                              headers={"Host": _host_header(urllib.parse.urlsplit(url))})

    def _post(self, path: str, payload: Mapping[str, Any]) -> Answer:
        body = json.dumps(payload, separators=(",", ":")).encode()
        if len(body) > MAX_BODY_BYTES:
            raise UsageError(f"deploy API request is {len(body)} bytes; the API accepts at most {MAX_BODY_BYTES}")
        url = urllib.parse.urljoin(self.base_url, path)

        def attempt() -> Answer:
            answer = self._transport("POST", url, headers=self.signed_headers("POST", url, body), body=body,
                                     connect_timeout=self._timeouts.connect, read_timeout=self._timeouts.read)
            if answer.status in (429, 503) and not _error_code(answer):
                raise TransportError(f"HTTP {answer.status} (throttled or unavailable; not processed)")
            return answer

        try:
            return self._retrier.call(f"deploy API POST /{path}", attempt)
        except SentButUnanswered as exc:
            raise LostContact(f"the deploy API received POST /{path} but did not answer ({exc})") from None

    def start_deployment(self, *, domain: str, task_definition_arn: str, kind: str, reason: str | None,
                         source: str, github_oidc_token: str | None) -> Registration:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        payload: dict[str, Any] = {"domain": domain, "taskDefinitionArn": task_definition_arn, "kind": kind,
                                   "source": source}
        if reason:
            payload["reason"] = reason[:MAX_REASON_CHARS]
        if github_oidc_token:
            payload["githubOidcToken"] = github_oidc_token
        try:
            answer = self._post("deployments", payload)
        except LostContact as lost:
            raise LostContact(f"{lost.message}: the {kind} of {domain} may or may not have started; check with: "
                              f"bgctl status {domain}") from None
        document = answer.document if isinstance(answer.document, dict) else {}
        if answer.status == 201 and document.get("deploymentId"):
            return Registration(deployment_id=str(document["deploymentId"]),
                                requester=document.get("requester") or {},
                                console_url=document.get("consoleUrl") or None)
        raise answer_error(answer, domain=domain, kind=kind)


    def decide(self, deployment_id: str, *, decision: str, reason: str, resend: bool = False) -> Any:
        """POST /deployments/{id}/decisions: a `bgruntime.deploy_api_client.DecisionAnswer`, or its typed
        errors (the same ones the Lambda-side client raises)."""
        from bgruntime import deploy_api_client as api

        path = api.decisions_path(deployment_id)
        try:
            answer = self._post(path, {"decision": decision, "reason": reason, "resend": resend})
        except LostContact as lost:
            raise LostContact(f"{lost.message}: the decision may or may not be recorded; check with: "
                              f"bgctl approvals --history {deployment_id}") from None
        document = answer.document if isinstance(answer.document, dict) else {}
        if answer.status == 200:
            return api.decision_answer(document)
        raise api.error_for(answer.status, document, readable_message(answer.raw, answer.status))


def _error_code(answer: Answer) -> str | None:
    error = answer.document.get("error") if isinstance(answer.document, dict) else None
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") else None


def answer_error(answer: Answer, *, domain: str, kind: str) -> BgctlError:
    """The one-line error (and exit code) for a non-201 answer of POST /deployments."""
    code = _error_code(answer)
    document = answer.document if isinstance(answer.document, dict) else {}
    if code is not None:
        error = document["error"]
        message = one_line(str(error.get("message") or code))
        cls, advice = ERROR_EXITS.get(code, (AwsError, "see docs/deploy-api.md"))
        running = str(document.get("deploymentId") or error.get("deploymentId") or "<id>")
        advice = advice.format(running=running, domain=domain)
        return cls(f"deploy API refused the {kind} of {domain} ({answer.status} {code}): {message}; nothing "
                   f"started: {advice}")
    # not the contract's shape: API Gateway itself (authorizer, throttling) or something in front of it
    message = readable_message(str(document.get("message") or document.get("Message") or answer.raw), answer.status)
    if answer.status in (401, 403):
        if "expired" in message.lower():
            return AwsError(f"deploy API rejected the credentials ({answer.status}: {message}): refresh them and "
                            "rerun; nothing started")
        return AwsError(f"deploy API refused the request ({answer.status}: {message}): the identity needs "
                        "execute-api:Invoke on the deploy API; nothing started")
    if answer.status >= 500:
        return LostContact(f"deploy API failed with HTTP {answer.status} ({message}): the {kind} of {domain} may or "
                           f"may not have started; check with: bgctl status {domain}")
    return AwsError(f"deploy API answered HTTP {answer.status} ({message}); nothing started")


def github_oidc_token(env: Mapping[str, str], *, timeouts: Any, retrier: Any,
                      transport: Callable[..., Answer] = send) -> str | None:
    """The GitHub Actions job's OIDC ID token for audience `bluegreen-deploy-api` (None outside Actions).

    Needs `permissions: id-token: write` on the job (GitHub then sets ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN).
    """
    url, bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_URL"), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        return None
    full = f"{url}{'&' if '?' in url else '?'}audience={urllib.parse.quote(API_AUDIENCE)}"
    parts = urllib.parse.urlsplit(full)
    headers = {"Authorization": f"bearer {bearer}", "Accept": "application/json", "Host": _host_header(parts)}

    def attempt() -> Answer:
        try:
            return transport("GET", full, headers=headers, body=None, connect_timeout=timeouts.connect,
                             read_timeout=timeouts.read)
        except SentButUnanswered as exc:  # a GET: safe to ask again
            raise TransportError(str(exc)) from None

    answer = retrier.call("GitHub OIDC token request", attempt)
    value = answer.document.get("value") if isinstance(answer.document, dict) else None
    if answer.status != 200 or not isinstance(value, str) or value.count(".") != 2:
        raise AwsError(f"GitHub did not issue an OIDC token (HTTP {answer.status}); does the job have "
                       "`permissions: id-token: write`?")
    return value
