"""One exit-code table (code, --help, docs/cli.md), one --json schema, and the pure pieces behind them:
release window, timeouts, readable AWS errors, describe's dotted fields."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bgctl.errors import EXIT_CODES_HELP, EXIT_TABLE, readable_message
from bgctl.release_window import release_window, shift_minutes
from bgctl.retry import Timeouts
from bgctl_testkit import PLATFORM, Cli, domain_metadata

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "cli.md").read_text()


def test_docs_exit_code_table_is_the_code() -> None:
    block = DOC.split("<!-- exit-codes:start -->", 1)[1].split("<!-- exit-codes:end -->", 1)[0]
    rows = [line for line in block.strip().splitlines()[2:]]
    documented = [tuple(cell.strip().strip("`") for cell in row.strip("|").split(" | ")) for row in rows]
    assert documented == [(str(e.code), e.outcome, e.meaning) for e in EXIT_TABLE]


def test_exit_codes_are_distinct_and_all_in_help() -> None:
    codes = [e.code for e in EXIT_TABLE]
    assert len(set(codes)) == len(codes) and len({e.outcome for e in EXIT_TABLE}) == len(codes)
    for entry in EXIT_TABLE:
        assert re.search(rf"^  {entry.code}\s", EXIT_CODES_HELP, re.M), entry
    assert {"refused": 7, "lost_contact": 8, "partial": 9, "rolled_back": 4, "timed_out": 6} == {
        e.outcome: e.code for e in EXIT_TABLE if e.outcome in ("refused", "lost_contact", "partial", "rolled_back",
                                                               "timed_out")}


def test_docs_cite_no_missing_files() -> None:
    assert "DESIGN.md" not in DOC
    for link in re.findall(r"\]\((\.\./[^)#]+|[a-z-]+\.md)", DOC):
        assert (ROOT / "docs" / link).resolve().exists(), link


@pytest.mark.parametrize(("argv", "command"), [(["status", "--limit", "0", "--json"], "status"),
                                               (["--json", "nosuchcommand"], None)])
def test_usage_errors_still_print_one_json_document(cli: Cli, argv: list[str], command: str | None) -> None:
    result = cli(*argv)
    assert result.code == 2
    record = json.loads(result.out)
    assert (record["command"], record["exitCode"], record["outcome"]) == (command, 2, "bad_input")
    assert record["error"] and result.err_lines == [f"bgctl: error: {record['error']}"]
    assert set(record) == {"schemaVersion", "command", "exitCode", "outcome", "error", "resume", "deployment", "data",
                           "messages"}


VOICE = domain_metadata("voice", approval={"required": True, "expiryMinutes": 45},
                        drain={"deregistrationDelaySeconds": 2400, "terminationWaitMinutes": 35},
                        traffic={"style": "canary", "deploymentConfig": "CodeDeployDefault.ECSCanary10Percent15Minutes"})


@pytest.mark.parametrize(("name", "minutes"), [
    ("CodeDeployDefault.ECSAllAtOnce", 0), ("CodeDeployDefault.ECSCanary10Percent5Minutes", 5),
    ("CodeDeployDefault.ECSLinear10PercentEvery3Minutes", 27), ("bluegreen-ECSLinear20PercentEvery2Minutes", 8),
    ("bluegreen-ECSCanary25Percent30Minutes", 30), ("SomethingElse", None), (None, None)])
def test_shift_minutes_from_the_deployment_config_name(name: str | None, minutes: int | None) -> None:
    assert shift_minutes(name) == minutes


def test_release_window_of_the_default_domains() -> None:
    # voice: start 15 + approval 45 + canary 15 + termination 35 + deregistration 40 + margin 15
    assert release_window(VOICE)["minutes"] == 165 and release_window(VOICE)["roleDurationSeconds"] == 9900
    auth = domain_metadata("auth", approval={"required": False, "expiryMinutes": 45},
                           drain={"deregistrationDelaySeconds": 60, "terminationWaitMinutes": 6},
                           traffic={"deploymentConfig": "CodeDeployDefault.ECSAllAtOnce"})
    assert release_window(auth)["parts"] == {"startAndTestMinutes": 15, "approvalMinutes": 0, "trafficShiftMinutes": 0,
                                             "terminationWaitMinutes": 6, "deregistrationDelayMinutes": 1,
                                             "marginMinutes": 15}
    huge = dict(VOICE, traffic={"deploymentConfig": "x-ECSLinear1PercentEvery2880Minutes"})
    assert release_window(huge)["roleDurationSeconds"] == 43200  # IAM's maximum role session
    unknown = dict(VOICE, traffic={"deploymentConfig": "custom"})
    assert release_window(unknown)["trafficConfigKnown"] is False and release_window(unknown)["minutes"] == 210


def test_describe_prints_dotted_fields_and_names_the_known_ones(cli: Cli, platform_params: Any) -> None:
    from bgctl_testkit import client

    client("ssm").put_parameter(Name=f"/{PLATFORM}/domains/auth/deployment", Type="String", Overwrite=True,
                                Value=json.dumps(VOICE | {"domain": "auth"}))
    assert cli("describe", "auth", "--field", "releaseWindow.roleDurationSeconds").out == "9900\n"
    record = json.loads(cli("describe", "auth", "--field", "releaseWindow.minutes", "--json").out)
    assert record["data"] == {"releaseWindow.minutes": 165}
    bad = cli("describe", "auth", "--field", "releaseWindow.nope")
    assert bad.code == 2 and bad.err_lines == [
        "bgctl: error: releaseWindow has no field 'nope' (fields: minutes, parts, roleDurationSeconds, "
        "trafficConfigKnown)"]


def test_timeouts_from_flags_environment_and_defaults() -> None:
    from bgctl.errors import UsageError

    assert Timeouts.resolve({}) == Timeouts(connect=3.0, read=10.0, budget=28.0)
    assert Timeouts.resolve({"BGCTL_READ_TIMEOUT": "4", "BGCTL_RETRY_BUDGET": "60"}, read=2) == Timeouts(
        connect=3.0, read=2.0, budget=60.0)
    assert Timeouts(read=10).slow_notice == 2.0 and Timeouts(read=1).slow_notice == 0.5
    with pytest.raises(UsageError, match="BGCTL_CONNECT_TIMEOUT='soon' is not a number"):
        Timeouts.resolve({"BGCTL_CONNECT_TIMEOUT": "soon"})
    with pytest.raises(UsageError, match="out of range"):
        Timeouts.resolve({}, read=0)


def test_html_error_pages_become_one_readable_line() -> None:
    page = "<!DOCTYPE html>\n<html><head><title>503 Service\n Unavailable</title></head><body>...</body></html>"
    assert readable_message(page, 503) == ('HTTP 503 HTML error page "503 Service Unavailable" (answered by a proxy '
                                           "or an AWS front end, not the service)")
    assert readable_message("Rate exceeded\n  try later") == "Rate exceeded try later"
