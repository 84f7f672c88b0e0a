"""`bgctl` entry point: argparse only at import time; each command's module (and boto3) loads on use."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence

from . import __version__
from .errors import EXIT_CODES_HELP, EXIT_INTERNAL, EXIT_INTERRUPTED, BgctlError, Interrupted, UsageError, one_line

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
}

EPILOG = f"""\
environment:
  BGCTL_PLATFORM        platform name when --platform is not given (default: bluegreen)
  AWS_REGION, AWS_PROFILE, AWS_* credentials   the usual AWS settings
  AWS_RETRY_MODE, AWS_MAX_ATTEMPTS             client retries (default: adaptive, 10 attempts)
  GITHUB_ACTOR          deploy requester becomes github:<actor> (else the caller's IAM identity)
  GITHUB_ACTIONS=true   group progress per phase and annotate the approval wait
  GITHUB_OUTPUT         deploy/rollback append deployment_id=... and task_definition=...
  BGCTL_DEBUG=1         show tracebacks of internal errors

{EXIT_CODES_HELP}

docs: docs/cli.md (release flow, pipeline wiring, IAM permissions per command)"""


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


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--platform", help="platform name (default: $BGCTL_PLATFORM or bluegreen)")
    common.add_argument("--region", help="AWS region (default: $AWS_REGION / profile)")
    common.add_argument("--profile", help="AWS profile (default: $AWS_PROFILE / default chain)")

    waiting = _Parser(add_help=False)
    waiting.add_argument("--wait-until", choices=STAGE_CHOICES, default="complete",
                         help="return once this stage is reached (default: complete). started: CodeDeploy "
                              "accepted it; approval: the approval gate is waiting; traffic-shifted: production "
                              "is on green; complete: blue drained and terminated")
    waiting.add_argument("--timeout", type=_timeout, default=DEFAULT_TIMEOUT_MINUTES, metavar="MIN",
                         help=f"stop waiting after MIN minutes, exit 6; the deployment continues "
                              f"(default: {DEFAULT_TIMEOUT_MINUTES:g}, 0: no limit)")
    waiting.add_argument("--progress", choices=("auto", "tty", "plain"), default="auto",
                         help="tty: redrawn status block; plain: timestamped lines on change "
                              "(default: auto = tty on an interactive terminal outside CI)")

    parser = _Parser(prog="bgctl", description="Blue/Green releases of ECS domain services through CodeDeploy.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"bgctl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, help_text: str, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common, *parents],
                              epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)

    deploy = add("deploy", "register a task-definition revision with a new image and start a CodeDeploy "
                           "blue/green deployment", [waiting])
    deploy.add_argument("domain", metavar="DOMAIN")
    deploy.add_argument("--image", required=True, metavar="URI",
                        help="image with an immutable tag or digest, e.g. <acct>.dkr.ecr.<region>.amazonaws.com/"
                             "bluegreen/auth:<git-sha>")
    deploy.add_argument("--env", action="append", metavar="K=V", help="set an environment variable of the app "
                                                                      "container (repeatable)")
    deploy.add_argument("--requester", metavar="ID", help="who asks (default: github:$GITHUB_ACTOR, else your "
                                                          "IAM identity)")

    watch = add("watch", "follow a deployment (resume after Ctrl-C or a timeout)", [waiting])
    watch.add_argument("deployment_id", metavar="DEPLOYMENT_ID")

    status = add("status", "in-flight and recent deployments per domain", [])
    status.add_argument("domain", nargs="?", metavar="DOMAIN", help="one domain (default: all)")
    status.add_argument("--json", action="store_true", help="JSON instead of a table")
    status.add_argument("--limit", type=_positive, default=5, metavar="N", help="deployments per domain (default 5)")

    approvals = add("approvals", "approval audit trail, newest first (--history: one deployment's records)", [])
    approvals.add_argument("domain", nargs="?", metavar="DOMAIN", help="one domain (default: all)")
    approvals.add_argument("--history", metavar="DEPLOYMENT_ID",
                           help="every audit record of one deployment, oldest first: who started it, who clicked "
                                "(accepted or refused, with the reason), the decision, CodeDeploy's answers")
    approvals.add_argument("--json", action="store_true", help="JSON instead of a table")
    approvals.add_argument("--limit", type=_positive, default=20, metavar="N", help="entries (default 20)")

    for name, verb in (("approve", "approve"), ("reject", "reject")):
        decide = add(name, f"break-glass: {verb} a deployment waiting at the approval gate (same rules as Slack)",
                     [])
        decide.add_argument("deployment_id", metavar="DEPLOYMENT_ID")
        decide.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the audit table)")
        decide.add_argument("--resend", action="store_true",
                            help="re-send the recorded decision to CodeDeploy (after exit 8: recorded, not delivered)")

    rollback = add("rollback", "stop the in-flight deployment with rollback, or redeploy the previous revision",
                   [waiting])
    rollback.add_argument("domain", metavar="DOMAIN")
    rollback.add_argument("--reason", metavar="TEXT", help="why (shown in the deployment description)")
    rollback.add_argument("--requester", metavar="ID", help="who asks (default as for deploy)")

    describe = add("describe", "print a domain's published deployment metadata", [])
    describe.add_argument("domain", metavar="DOMAIN")
    describe.add_argument("--field", metavar="KEY", help="print one field (e.g. ecrRepository)")
    return parser


def main(argv: Sequence[str] | None = None, runtime: Any = None) -> int:
    stderr = runtime.stderr if runtime is not None else sys.stderr
    env = runtime.env if runtime is not None else os.environ
    try:
        try:
            args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        except SystemExit as done:  # --help / --version
            return int(done.code or 0)
        from importlib import import_module

        from .context import Context, Runtime
        from .inputs import platform as valid_platform

        runtime = runtime or Runtime()
        region = args.region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
        platform_name = valid_platform(args.platform or env.get("BGCTL_PLATFORM") or "bluegreen")
        ctx = Context(platform=platform_name, region=region, profile=args.profile, runtime=runtime)
        return int(import_module(COMMANDS[args.command]).run(ctx, args))
    except BgctlError as error:
        label = "interrupted" if isinstance(error, Interrupted) else "error"
        stderr.write(f"bgctl: {label}: {error.message}\n")
        return error.exit_code
    except KeyboardInterrupt:
        stderr.write("bgctl: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback unless asked
        from .errors import translate_aws_error

        translated = translate_aws_error(exc)
        if translated is not None:
            stderr.write(f"bgctl: error: {translated.message}\n")
            return translated.exit_code
        if env.get("BGCTL_DEBUG"):
            import traceback

            traceback.print_exc(file=stderr)
        stderr.write(f"bgctl: internal error: {type(exc).__name__}: {one_line(str(exc))} "
                     "(rerun with BGCTL_DEBUG=1 for a traceback)\n")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
