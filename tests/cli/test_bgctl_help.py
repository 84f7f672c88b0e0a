"""`bgctl --help` documents the commands and the exit codes (golden), and every command has help."""
from __future__ import annotations

import pytest

from bgctl.errors import EXIT_CODES_HELP
from bgctl.main import COMMANDS
from bgctl_testkit import Cli, golden


@pytest.fixture(autouse=True)
def fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")


def test_help_golden_lists_exit_codes(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--help").code == 0
    text = capsys.readouterr().out
    golden("help.txt", text)
    for code in ("0 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "8 ", "9 ", "130", "143"):
        assert f"\n  {code}" in text
    assert EXIT_CODES_HELP in text


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(cli: Cli, capsys: pytest.CaptureFixture[str], command: str) -> None:
    assert cli(command, "--help").code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: bgctl {command}") and "exit codes:" in text


def test_deploy_help_golden(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("deploy", "--help").code == 0
    golden("help_deploy.txt", capsys.readouterr().out)
