"""`bgctl` entry point: argparse only at import time; each command's module (and boto3) loads on use."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any, Sequence

from . import __version__
from .errors import (EXIT_CODES_HELP, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED, BgctlError, TerminateSignal,
                     UsageError, one_line)

STAGE_CHOICES = ("started", "approval", "traffic-shifted", "complete")
DEFAULT_TIMEOUT_MINUTES = 180.0

COMMANDS = {
    "deploy": "bgctl.deploy",
    "watch": "bgctl.watch",
    "status": "bgctl.status",
    "approvals": "bgctl.approvals",
    "approve": "bgctl.decide",
    "reject": "bgctl.decide",
    "rollback": "bgctl.rollback",
    "describe": "bgctl.describe",
    "check-changes": "bgctl.change_safety.command",
}

EPILOG = f"""\
environment:
  BGCTL_PLATFORM        platform name when --platform is not given (default: bluegreen)
  AWS_REGION, AWS_PROFILE, AWS_* credentials   the usual AWS settings
  BGCTL_CONNECT_TIMEOUT, BGCTL_READ_TIMEOUT, BGCTL_RETRY_BUDGET
                        seconds, as --connect-timeout / --read-timeout / --retry-budget
  GITHUB_ACTIONS=true   group progress per phase and annotate the approval wait
  ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN   (GitHub, id-token: write) the job's OIDC token goes
                        to the deploy API as an attestation of the workflow run
  GITHUB_OUTPUT         deploy/rollback append deployment_id=, task_definition=, console_url=
  BGCTL_DEBUG=1         show tracebacks of internal errors

{EXIT_CODES_HELP}

docs: docs/cli.md (release flow, pipeline wiring, IAM permissions, --json schema)"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (exit 2) instead of usage + message."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _timeout(value: str) -> float | None:
    try:
        minutes = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {value!r}") from None
    if minutes < 0:
        raise argparse.ArgumentTypeError("must be >= 0 (0: no limit)")
    return minutes or None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--platform", help="platform name (default: $BGCTL_PLATFORM or bluegreen)")
    common.add_argument("--region", help="AWS region (default: $AWS_REGION / profile)")
    common.add_argument("--profile", help="AWS profile (default: $AWS_PROFILE / default chain)")
    common.add_argument("--json", action="store_true",
                        help="print one JSON document on stdout (schema: docs/cli.md 'Machine output'); progress "
                             "goes to stderr")
    common.add_argument("--connect-timeout", type=_seconds, metavar="S",
                        help="seconds to connect to AWS / the deploy API, per attempt (default 3)")
    common.add_argument("--read-timeout", type=_seconds, metavar="S",
                        help="seconds to wait for an answer, per attempt (default 10)")
    common.add_argument("--retry-budget", type=_seconds, metavar="S",
                        help="seconds for all attempts of one call before giving up (default 28)")
    common.add_argument("--progress", choices=("auto", "tty", "plain"), default="auto",
                        help="tty: redrawn status block and retry notices in place; plain: timestamped lines on "
                             "change and a heartbeat every 30 s (default: auto = tty on an interactive terminal "
                             "outside CI)")

    waiting = _Parser(add_help=False)
    waiting.add_argument("--wait-until", choices=STAGE_CHOICES, default="complete",
                         help="return once this stage is reached (default: complete). started: CodeDeploy "
                              "accepted it; approval: the approval gate is waiting; traffic-shifted: production "
                              "is on green; complete: blue drained and terminated")
    waiting.add_argument("--timeout", type=_timeout, default=DEFAULT_TIMEOUT_MINUTES, metavar="MIN",
                         help=f"stop waiting after MIN minutes, exit 6; the deployment continues "
                              f"(default: {DEFAULT_TIMEOUT_MINUTES:g}, 0: no limit)")

    parser = _Parser(prog="bgctl", description="Blue/Green releases of ECS domain services through CodeDeploy.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"bgctl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, help_text: str, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common, *parents],
                              epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)

    deprecated_requester = ("deprecated, ignored: the deploy API records your verified identity (IAM, and the "
                            "GitHub OIDC token in Actions)")
    deploy = add("deploy", "register a task-definition revision with a new image and start a CodeDeploy "
                           "blue/green deployment through the deploy API", [waiting])
    deploy.add_argument("domain", metavar="DOMAIN")
    deploy.add_argument("--image", required=True, metavar="URI",
                        help="image with an immutable tag or digest, e.g. <acct>.dkr.ecr.<region>.amazonaws.com/"
                             "bluegreen/auth:<git-sha>")
    deploy.add_argument("--env", action="append", metavar="K=V", help="set an environment variable of the app "
                                                                      "container (repeatable)")
    deploy.add_argument("--reason", metavar="TEXT", help="shown in Slack and the audit trail (<= 300 chars)")
    deploy.add_argument("--requester", metavar="ID", help=deprecated_requester)

    watch = add("watch", "follow a deployment (resume after Ctrl-C, a timeout or lost contact)", [waiting])
    watch.add_argument("deployment_id", metavar="DEPLOYMENT_ID")

    status = add("status", "in-flight and recent deployments of every domain (rollbacks marked)", [])
    status.add_argument("domain", nargs="?", metavar="DOMAIN", help="one domain (default: all)")
    status.add_argument("--limit", type=_positive, default=5, metavar="N", help="deployments per domain (default 5)")

    approvals = add("approvals", "approval audit trail, newest first (--history: one deployment's records)", [])
    approvals.add_argument("domain", nargs="?", metavar="DOMAIN", help="one domain (default: all)")
    approvals.add_argument("--history", metavar="DEPLOYMENT_ID",
                           help="every audit record of one deployment, oldest first: who started it, who clicked "
                                "(accepted or refused, with the reason), the decision, CodeDeploy's answers")
    approvals.add_argument("--limit", type=_positive, default=20, metavar="N", help="entries (default 20)")

    for name, verb in (("approve", "approve"), ("reject", "reject")):
        decide = add(name, f"break-glass: {verb} a deployment waiting at the approval gate (same rules as Slack)",
                     [])
        decide.add_argument("deployment_id", metavar="DEPLOYMENT_ID")
        decide.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the audit table)")
        decide.add_argument("--resend", action="store_true",
                            help="re-send the recorded decision to CodeDeploy (after exit 9: recorded, not delivered)")

    rollback = add("rollback", "stop the in-flight deployment with rollback, or redeploy the last known-good "
                               "revision all at once (--dry-run shows the plan)", [waiting])
    rollback.add_argument("domain", metavar="DOMAIN")
    rollback.add_argument("--revision", type=_positive, metavar="N",
                          help="redeploy revision N of the domain's task-definition family (default: the last "
                               "known-good one: the newest that ran in production before the current one)")
    rollback.add_argument("--dry-run", action="store_true",
                          help="show what would be stopped or deployed and what changes; change nothing")
    rollback.add_argument("--reason", metavar="TEXT", help="why (shown in Slack and the audit trail)")
    rollback.add_argument("--requester", metavar="ID", help=deprecated_requester)

    describe = add("describe", "print a domain's published deployment metadata (+ derived releaseWindow)", [])
    describe.add_argument("domain", metavar="DOMAIN")
    describe.add_argument("--field", metavar="KEY", help="print one field (e.g. ecrRepository, "
                                                         "releaseWindow.roleDurationSeconds)")

    from .change_safety.model import EXIT_CODES_HELP as CHECK_CHANGES_EXIT_CODES

    check = sub.add_parser("check-changes", help="classify every change between two cloud assemblies: safe, "
                                                 "through CodeDeploy or dangerous (no AWS access)",
                           description="Compare two cloud assemblies (cdk.out of the base and of the change) and\n"
                                       "classify every change per stack and resource: safe, through CodeDeploy or\n"
                                       "dangerous, with the reason and the fix.",
                           epilog=f"{CHECK_CHANGES_EXIT_CODES}\n\ndocs: docs/change-safety.md",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("base", metavar="BASE_ASSEMBLY_DIR", help="cloud assembly of the base (e.g. main's cdk.out)")
    check.add_argument("new", metavar="NEW_ASSEMBLY_DIR", help="cloud assembly with the change (e.g. the PR's cdk.out)")
    check.add_argument("--json", action="store_true", help="the report as JSON (schema in docs/change-safety.md)")
    check.add_argument("--stack", action="extend", nargs="+", metavar="NAME",
                       help="only these stacks (shell-style patterns, e.g. 'Bluegreen-Domain-*')")
    # No AWS: the shared options do not apply.
    check.set_defaults(platform=None, region=None, profile=None, connect_timeout=None, read_timeout=None,
                       retry_budget=None, progress="auto")
    return parser


def _json_wanted(argv: Sequence[str]) -> bool:
    return "--json" in argv


def _command_of(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if a in COMMANDS), None)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise TerminateSignal()


def _install_sigterm() -> Any:
    """SIGTERM (a cancelled CI job, `kill`) ends bgctl like Ctrl-C: with the resume command, exit 143."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        return signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # pragma: no cover - not the main interpreter
        return None


def _stop_message(ctx: Any, how: str) -> str:
    record = getattr(ctx, "record", None)
    deployment = (record.deployment or {}) if record else {}
    if record is not None and record.resume and deployment.get("id"):
        return (f"{how}: deployment {deployment['id']} continues in CodeDeploy; resume with: {record.resume}"
                f"{' (console: ' + deployment['consoleUrl'] + ')' if deployment.get('consoleUrl') else ''}")
    return f"{how} before any deployment started; nothing to resume"


def main(argv: Sequence[str] | None = None, runtime: Any = None) -> int:
    stderr = runtime.stderr if runtime is not None else sys.stderr
    stdout = runtime.stdout if runtime is not None else sys.stdout
    env = runtime.env if runtime is not None else os.environ
    arguments = list(sys.argv[1:] if argv is None else argv)
    ctx: Any = None
    error_text: str | None = None
    previous_handler = _install_sigterm()
    try:
        try:
            try:
                args = build_parser().parse_args(arguments)
            except SystemExit as done:  # --help / --version
                return int(done.code or 0)
            from importlib import import_module

            from .context import Context, Runtime
            from .inputs import platform as valid_platform
            from .retry import Timeouts

            runtime = runtime or Runtime()
            region = args.region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
            platform_name = valid_platform(args.platform or env.get("BGCTL_PLATFORM") or "bluegreen")
            timeouts = Timeouts.resolve(env, connect=args.connect_timeout, read=args.read_timeout,
                                        budget=args.retry_budget)
            ctx = Context(platform=platform_name, region=region, profile=args.profile, runtime=runtime,
                          json=bool(args.json), progress=args.progress, timeouts=timeouts)
            code = int(import_module(COMMANDS[args.command]).run(ctx, args))
        except BgctlError as error:
            error_text = error.message
            code = error.exit_code
            if ctx is not None:
                ctx.notices.end_line()
            stderr.write(f"bgctl: {error.label}: {error.message}\n")
        except KeyboardInterrupt:
            error_text = _stop_message(ctx, "interrupted")
            code = EXIT_INTERRUPTED
            stderr.write(f"\nbgctl: {error_text}\n")
        except TerminateSignal:
            error_text = _stop_message(ctx, "terminated (SIGTERM)")
            code = EXIT_TERMINATED
            stderr.write(f"\nbgctl: {error_text}\n")
        except BrokenPipeError:
            return 0
        except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback unless asked
            from .errors import translate_aws_error

            translated = translate_aws_error(exc)
            if translated is not None:
                error_text, code = translated.message, translated.exit_code
                stderr.write(f"bgctl: error: {translated.message}\n")
            else:
                if env.get("BGCTL_DEBUG"):
                    import traceback

                    traceback.print_exc(file=stderr)
                error_text = f"internal error: {type(exc).__name__}: {one_line(str(exc))}"
                code = EXIT_INTERNAL
                stderr.write(f"bgctl: {error_text} (rerun with BGCTL_DEBUG=1 for a traceback)\n")
        if ctx is not None and ctx.json or ctx is None and _json_wanted(arguments):
            from .record import document
            from .table import to_json

            stdout.write(to_json(document(_command_of(arguments), code, error_text, ctx)) + "\n")
            stdout.flush()
        return code
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)


if __name__ == "__main__":
    sys.exit(main())
