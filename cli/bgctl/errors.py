"""Exit codes and the errors that carry them.

Every failure reaches the user as one line on stderr (`bgctl: error: ...`) and one of the exit codes in
`EXIT_TABLE` (the single source of `bgctl --help`, `--json` outcomes and the table in docs/cli.md);
`main` never lets a traceback through (set BGCTL_DEBUG=1 to see one).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_ROLLED_BACK = 4
EXIT_STOPPED = 5
EXIT_TIMEOUT = 6
EXIT_REFUSED = 7
EXIT_LOST_CONTACT = 8
EXIT_PARTIAL = 9
from .change_safety.model import EXIT_DANGEROUS as EXIT_CHANGES_DANGEROUS  # noqa: E402 - check-changes only
from .change_safety.model import EXIT_THROUGH_CODEDEPLOY as EXIT_CHANGES_THROUGH_CODEDEPLOY  # noqa: E402
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_AWS = EXIT_REFUSED  # historical name: an AWS error before anything changed


@dataclass(frozen=True)
class ExitCode:
    code: int
    outcome: str  # the `outcome` of the --json record
    meaning: str


EXIT_TABLE: tuple[ExitCode, ...] = (
    ExitCode(EXIT_OK, "ok", "success: the requested stage was reached (or the dry run/listing worked)"),
    ExitCode(EXIT_USAGE, "bad_input", "usage or bad input (unknown domain, image without tag/digest, bad --env); "
                                      "nothing was changed"),
    ExitCode(EXIT_FAILED, "failed", "the deployment failed (test checks, approval rejected or expired, hook "
                                    "error) or a decision was refused"),
    ExitCode(EXIT_ROLLED_BACK, "rolled_back", "the deployment was rolled back: production is on the previous "
                                              "version"),
    ExitCode(EXIT_STOPPED, "stopped", "the deployment was stopped without rollback"),
    ExitCode(EXIT_TIMEOUT, "timed_out", "--timeout reached; the deployment continues (resume with: bgctl watch "
                                        "<id>)"),
    ExitCode(EXIT_REFUSED, "refused", "refused before anything changed: AWS or the deploy API said no, could not "
                                      "be reached, or a deployment is in flight; fix and rerun"),
    ExitCode(EXIT_LOST_CONTACT, "lost_contact", "lost contact once the deployment started or may have started "
                                                "(network, expired credentials); it continues: resume or check with "
                                                "the printed command"),
    ExitCode(EXIT_PARTIAL, "partial", "decision recorded but CodeDeploy not told; `bgctl approve <id> --resend` "
                                      "(or reject) finishes it"),
    ExitCode(EXIT_CHANGES_THROUGH_CODEDEPLOY, "through_codedeploy", "check-changes: at least one change is "
                                                                     "released through CodeDeploy, none is dangerous"),
    ExitCode(EXIT_CHANGES_DANGEROUS, "dangerous", "check-changes: at least one dangerous change (refuse it or follow "
                                                  "its documented procedure)"),
    ExitCode(EXIT_INTERRUPTED, "interrupted", "Ctrl-C (SIGINT); a started deployment continues: the resume "
                                              "command is printed"),
    ExitCode(EXIT_TERMINATED, "terminated", "SIGTERM (cancelled CI job); a started deployment continues: the "
                                            "resume command is printed"),
    ExitCode(EXIT_INTERNAL, "internal_error", "a bug in bgctl: rerun with BGCTL_DEBUG=1 for a traceback"),
)
OUTCOMES = {entry.code: entry.outcome for entry in EXIT_TABLE}


def _help_text() -> str:
    lines = ["exit codes:"]
    for entry in EXIT_TABLE:
        words, line, first = entry.meaning.split(), "", True
        for word in words:
            if line and len(line) + 1 + len(word) > 84:
                lines.append(f"  {entry.code:<4} {line}" if first else f"       {line}")
                line, first = word, False
            else:
                line = f"{line} {word}" if line else word
        lines.append(f"  {entry.code:<4} {line}" if first else f"       {line}")
    return "\n".join(lines)


EXIT_CODES_HELP = _help_text()


def one_line(text: str) -> str:
    """Collapse whitespace so an error is always exactly one line."""
    return " ".join(str(text).split())


class BgctlError(Exception):
    """An error with a user-facing message and an exit code."""

    exit_code = EXIT_INTERNAL
    label = "error"

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))
        self.message = one_line(message)


class UsageError(BgctlError):
    exit_code = EXIT_USAGE


class DeploymentFailed(BgctlError):
    exit_code = EXIT_FAILED


class DeploymentRolledBack(BgctlError):
    exit_code = EXIT_ROLLED_BACK


class DeploymentStopped(BgctlError):
    exit_code = EXIT_STOPPED


class WaitTimeout(BgctlError):
    exit_code = EXIT_TIMEOUT


class AwsError(BgctlError):
    """Refused before anything changed (AWS, the deploy API or the platform said no, or could not be reached)."""

    exit_code = EXIT_REFUSED


Refused = AwsError


class LostContact(BgctlError):
    """The deployment started (or runs) but bgctl can no longer follow it; it continues in CodeDeploy."""

    exit_code = EXIT_LOST_CONTACT


class PartialDecision(BgctlError):
    """An approval decision was recorded but CodeDeploy was not told (`bgctl approve|reject --resend`)."""

    exit_code = EXIT_PARTIAL


class Interrupted(BgctlError):
    exit_code = EXIT_INTERRUPTED
    label = "interrupted"


class Terminated(BgctlError):
    exit_code = EXIT_TERMINATED
    label = "terminated (SIGTERM)"


class TerminateSignal(BaseException):
    """Raised by bgctl's SIGTERM handler (like KeyboardInterrupt for SIGINT), caught where a resume is known."""


_CREDENTIAL_CODES = frozenset({
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
    "InvalidSignatureException", "SignatureDoesNotMatch", "RequestExpired",
})
_ACCESS_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_HTML = re.compile(r"<\s*(!doctype|html|head|body|title)\b", re.I)
_TITLE = re.compile(r"<title>(.*?)</title>", re.I | re.S)


def readable_message(message: str, status: int | None = None) -> str:
    """An AWS error message as one readable line: an HTML error page (from a proxy or an AWS front end)
    becomes `HTTP 502 HTML error page "502 Bad Gateway"` instead of the raw markup."""
    text = str(message or "")
    if _HTML.search(text):
        title = _TITLE.search(text)
        label = f' "{one_line(title.group(1))[:80]}"' if title and title.group(1).strip() else ""
        where = f"HTTP {status} " if status else ""
        return f"{where}HTML error page{label} (answered by a proxy or an AWS front end, not the service)"
    return one_line(text)[:500]


def is_credential_error(exc: BaseException) -> bool:
    return error_code(exc) in _CREDENTIAL_CODES


def translate_aws_error(exc: BaseException) -> BgctlError | None:
    """Map a botocore exception to an AwsError with one clear line; None if `exc` is not from botocore."""
    module = type(exc).__module__ or ""
    if not module.startswith("botocore"):
        return None
    from botocore import exceptions as bce  # already imported: the exception came from botocore

    if isinstance(exc, bce.NoRegionError):
        return AwsError("no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION) or pass --region")
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        return AwsError("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                        "(in GitHub Actions: aws-actions/configure-aws-credentials)")
    if isinstance(exc, bce.ProfileNotFound):
        return AwsError(f"AWS profile not found: {exc}")
    token_error = getattr(bce, "TokenRetrievalError", None)
    if token_error is not None and isinstance(exc, token_error):
        return AwsError(f"AWS SSO token could not be retrieved: {exc} (run `aws sso login`)")
    if isinstance(exc, bce.EndpointConnectionError):
        return AwsError(f"cannot reach AWS: {exc} (check the network and the region)")
    if isinstance(exc, (bce.ConnectTimeoutError, bce.ReadTimeoutError)):
        return AwsError(f"AWS did not answer in time: {exc}")
    if isinstance(exc, bce.ClientError):
        response = exc.response if isinstance(exc.response, dict) else {}
        error = response.get("Error", {})
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        code = error.get("Code", "Unknown")
        message = readable_message(error.get("Message", "") or str(exc), status)
        operation = getattr(exc, "operation_name", "call")
        if code in _CREDENTIAL_CODES:
            return AwsError(f"AWS rejected the credentials ({code}): refresh them and retry")
        if code in _ACCESS_CODES:
            return AwsError(f"access denied for {operation}: {message} (see docs/cli.md 'IAM permissions')")
        return AwsError(f"AWS {operation} failed: {code}: {message}")
    if isinstance(exc, bce.BotoCoreError):
        return AwsError(f"AWS SDK error: {exc}")
    return None


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
