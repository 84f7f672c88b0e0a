"""docs/topology.md is generated from the config and kept current; the diagram shows what the config deploys."""
from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bluegreen import topology
from bluegreen.config.default import DEFAULT_CONFIG
from bluegreen.config.loader import load_config, parse_config
from tests.seed import free_port_pair
from bluegreen.config.model import PlatformConfig, Protocol

from tests.scale_support import generated_config

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "topology.md"
NODE_DEFINITION = re.compile(r"^\s+([A-Za-z0-9_]+)(\[|\(|\{\{|>)")


@pytest.fixture(scope="module")
def default_config() -> PlatformConfig:
    return load_config(None)


@pytest.fixture(scope="module")
def diagram(default_config: PlatformConfig) -> str:
    return topology.render_mermaid(default_config)


def _domain_lines(diagram: str, domain: str) -> str:
    """The node definitions inside `domain`'s subgraph (full form)."""
    block = diagram.split(f"subgraph {topology._id('domain', domain)}[", 1)[1]
    return block.split("\n    end\n", 1)[0]


# --- the committed document ----------------------------------------------------------------------

def test_committed_topology_doc_is_up_to_date(default_config: PlatformConfig) -> None:
    ok, message = topology.check(default_config, DOC)
    assert ok, (f"{message}\ndocs/topology.md is generated from the embedded default config; regenerate it with "
                f"`.venv/bin/python -m bluegreen.topology --write docs/topology.md` (or `make diagram`) and commit it")


def test_module_entry_point_checks_the_committed_doc() -> None:
    result = subprocess.run([sys.executable, "-m", "bluegreen.topology", "--check", str(DOC)],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert result.returncode == 0, result.stderr


def test_check_fails_on_a_stale_doc_and_write_fixes_it_keeping_hand_written_text(tmp_path: Path,
                                                                                  capsys) -> None:
    doc = tmp_path / "topology.md"
    stale_block = topology.generated_block_of(DOC.read_text()).replace("prod listener :8081", "prod listener :7000")
    doc.write_text(f"# My own title\n\nHand-written words.\n\n{topology.BEGIN_MARKER}\n{stale_block}"
                   f"{topology.END_MARKER}\n\nAfter the block.\n")
    assert topology.main(["--check", str(doc)]) == 1
    assert "out of date" in capsys.readouterr().err and "--write docs/topology.md" in topology.REGENERATE
    assert topology.main(["--write", str(doc)]) == 0
    assert topology.main(["--check", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# My own title\n\nHand-written words.") and text.rstrip().endswith("After the block.")
    assert "prod listener :8081" in text and ":7000" not in text


def test_check_reports_a_missing_doc_or_missing_markers(tmp_path: Path, default_config: PlatformConfig) -> None:
    ok, message = topology.check(default_config, tmp_path / "nope.md")
    assert not ok and "does not exist" in message
    (tmp_path / "plain.md").write_text("# no markers\n")
    ok, message = topology.check(default_config, tmp_path / "plain.md")
    assert not ok and "markers" in message


def test_write_creates_a_new_doc_with_intro(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "topology.md"
    assert topology.main(["--write", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Platform topology") and topology.BEGIN_MARKER in text and "```mermaid" in text


def test_bad_config_exits_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("platform: {name: x}\n")
    assert topology.main(["--config", str(bad)]) == 2
    assert "config error" in capsys.readouterr().err


# --- what the diagram says -----------------------------------------------------------------------

def test_rendering_is_deterministic(default_config: PlatformConfig) -> None:
    assert topology.render_mermaid(default_config) == topology.render_mermaid(load_config(None))
    assert topology.render_document(default_config) == topology.render_document(load_config(None))


def test_every_domain_appears_with_name_ports_target_groups_service_and_style(default_config: PlatformConfig,
                                                                              diagram: str) -> None:
    platform, zone = default_config.platform.name, default_config.platform.hosted_zone.name
    for spec in default_config.domains:
        nodes = _domain_lines(diagram, spec.name)
        assert f'"{spec.name}.{zone}"' in nodes
        assert f"prod listener :{spec.port}" in nodes and f"test listener :{spec.test_port}" in nodes
        assert f"{platform}-{spec.name}-blue" in nodes and f"{platform}-{spec.name}-green" in nodes
        assert f"Fargate service {platform}-{spec.name}" in nodes
        assert spec.traffic.config_name(platform) in nodes
        assert {"all_at_once": "all at once", "canary": "canary", "linear": "linear"}[spec.traffic.style] in nodes


def test_hooks_appear_exactly_where_configured(default_config: PlatformConfig, diagram: str) -> None:
    for spec in default_config.domains:
        nodes = _domain_lines(diagram, spec.name)
        assert ("AfterAllowTestTraffic" in nodes) == bool(spec.smoke_checks), spec.name
        assert ("BeforeAllowTraffic" in nodes) == spec.approval.required, spec.name
        for check in spec.smoke_checks:
            assert check.name in nodes
        if spec.approval.required:
            assert f"Slack approval in {spec.approval.channel}" in nodes
            assert f"expires after {spec.approval.expiry_minutes} min" in nodes


def test_drain_policy_shown_for_websocket_domains_only(default_config: PlatformConfig, diagram: str) -> None:
    assert any(d.protocol is Protocol.WEBSOCKET for d in default_config.domains)
    for spec in default_config.domains:
        nodes = _domain_lines(diagram, spec.name)
        if spec.protocol is Protocol.WEBSOCKET:
            assert f"deregistration delay {spec.drain.deregistration_delay_seconds} s" in nodes
            assert f"blue kept {spec.drain.termination_wait_minutes} min" in nodes
        else:
            assert "drain" not in nodes


def test_edges_connect_each_domain_to_its_own_load_balancer(default_config: PlatformConfig, diagram: str) -> None:
    for spec in default_config.domains:
        lb = topology._id("lb", spec.alb_group, spec.shard or 0)
        d = topology._id(spec.name)
        assert f"  {d}_dns -->|alias| {lb}\n" in diagram
        assert f"  {lb} --> {d}_prod\n" in diagram and f"  {lb} -.-> {d}_test\n" in diagram
        assert f"  {d}_prod -->|live| {d}_blue\n" in diagram


def test_node_ids_are_unique_and_safe_for_hyphenated_names() -> None:
    raw = copy.deepcopy(DEFAULT_CONFIG)
    port, test_port = free_port_pair(raw, raw["domains"]["order"]["alb_group"])
    raw["domains"]["order-v2"] = {**copy.deepcopy(raw["domains"]["order"]), "port": port, "test_port": test_port}
    config = parse_config(raw, source="test config")
    diagram = topology.render_mermaid(config)
    ids = [m.group(1) for line in diagram.splitlines() if (m := NODE_DEFINITION.match(line))]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert "order_v2_prod" in ids and not any("-" in i for i in ids)


def test_labels_escape_quotes_and_angle_brackets() -> None:
    assert topology._label('a "b" <c>') == '"a #quot;b#quot; #lt;c#gt;"'


def test_sharded_config_shows_several_load_balancers() -> None:
    config = generated_config(30)  # 2 shards, still small enough for the full form
    diagram = topology.render_mermaid(config)
    assert "ALB bluegreen-internal<br/>" in diagram and "ALB bluegreen-internal-1<br/>" in diagram
    assert "25 domains · 50/50 listeners" in diagram and "5 domains · 10/50 listeners" in diagram
    assert "  d026_dns -->|alias| lb_internal_1\n" in diagram and "  d025_dns -->|alias| lb_internal_0\n" in diagram
    assert topology.edge_count(diagram) <= topology.MERMAID_MAX_EDGES


def test_hundred_domains_fold_into_a_compact_diagram_mermaid_can_draw() -> None:
    config = generated_config(101)
    full = topology.render_mermaid(config, compact=False)
    assert topology.edge_count(full) > topology.MERMAID_MAX_EDGES  # why the compact form exists
    diagram = topology.render_mermaid(config)
    assert topology.edge_count(diagram) <= topology.MERMAID_MAX_EDGES
    assert len(diagram) <= topology.MERMAID_MAX_TEXT
    for shard in range(5):
        assert f"lb_internal_{shard}[" in diagram
    for spec in config.domains:
        assert f"  lb_internal_{spec.shard} --> domain_{spec.name}\n" in diagram
        assert f"prod :{spec.port} · test :{spec.test_port}" in diagram
    assert "BeforeAllowTraffic: Slack approval" in diagram and "AfterAllowTestTraffic: smoke checks" in diagram


def test_table_lists_every_domain_endpoint(default_config: PlatformConfig) -> None:
    table = topology.render_table(default_config)
    for spec in default_config.domains:
        assert f"`http://{spec.name}.{default_config.platform.hosted_zone.name}:{spec.port}`" in table


def test_pinned_shard_leaves_an_empty_load_balancer_labelled_as_such() -> None:
    raw = copy.deepcopy(DEFAULT_CONFIG)
    raw["domains"]["voice"]["shard"] = 1  # realtime shard 0 stays empty
    config = parse_config(raw, source="test config")
    diagram = topology.render_mermaid(config)
    assert "ALB bluegreen-realtime<br/>" in diagram and "no domains · 0/50 listeners" in diagram
    assert "  voice_dns -->|alias| lb_realtime_1\n" in diagram
