"""Exit codes and the errors that carry them.

Every failure reaches the user as one line on stderr (`bgctl: error: ...`) and one of these exit codes;
`main` never lets a traceback through (set BGCTL_DEBUG=1 to see one).
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_ROLLED_BACK = 4
EXIT_STOPPED = 5
EXIT_TIMEOUT = 6
EXIT_AWS = 7
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    success (the requested stage was reached)
  2    usage or bad input (unknown domain, image without tag/digest, bad --env, ...)
  3    deployment failed (or the approval could not be recorded)
  4    deployment rolled back
  5    deployment stopped
  6    wait timed out (the deployment continues: resume with `bgctl watch <id>`)
  7    AWS or configuration error (no credentials/region, metadata missing = stack not
       deployed, deployment already in progress, access denied, CodeDeploy errors)
  130  interrupted (Ctrl-C; a started deployment continues)
  1    internal error (a bug: rerun with BGCTL_DEBUG=1 for a traceback)"""


def one_line(text: str) -> str:
    """Collapse whitespace so an error is always exactly one line."""
    return " ".join(str(text).split())


class BgctlError(Exception):
    """An error with a user-facing message and an exit code."""

    exit_code = EXIT_INTERNAL

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
    exit_code = EXIT_AWS


class Interrupted(BgctlError):
    exit_code = EXIT_INTERRUPTED


_CREDENTIAL_CODES = frozenset({
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
    "InvalidSignatureException", "SignatureDoesNotMatch", "RequestExpired",
})
_ACCESS_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


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
        error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
        code = error.get("Code", "Unknown")
        message = error.get("Message", "") or str(exc)
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
