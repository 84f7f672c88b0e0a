"""docs/change-safety.md stays true: its scenario table, its JSON schema and the anchors the fixes point to."""
from __future__ import annotations

import json
import re
from pathlib import Path

from tests.change_safety.scenarios import markdown_table
from tests.change_safety.test_command import REPORT_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "change-safety.md").read_text()


def _anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.M)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


def test_the_scenario_table_is_the_tests_table() -> None:
    assert markdown_table() in DOC


def test_the_documented_json_schema_is_the_one_the_tests_validate() -> None:
    section = DOC.split("## JSON report", 1)[1]
    block = section.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(block) == REPORT_SCHEMA


def test_every_docs_link_of_the_gate_resolves() -> None:
    sources = "".join(p.read_text() for p in (ROOT / "cli" / "bgctl" / "change_safety").glob("*.py"))
    links = set(re.findall(r"change-safety\.md#([a-z0-9-]+)", sources + DOC)) | set(
        re.findall(r"\{DOCS\}#([a-z0-9-]+)", sources)) | set(re.findall(r"\]\(#([a-z0-9-]+)\)", DOC))
    assert links >= {"listeners", "exports", "retained-resources", "removing-a-domain-or-a-stack", "foundations",
                     "container-port-and-target-groups"}
    assert links <= _anchors(DOC), sorted(links - _anchors(DOC))
