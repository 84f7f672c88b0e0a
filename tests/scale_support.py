"""Generated platform configs for scale tests and benchmarks (deterministic: same n, same config).

`generated_config(n)` builds `n` HTTP domains `d001..dNNN` on ALB group `internal` through the real
loader (so validation and shard assignment are the production code paths). Domain `i` (1-based):

* ports: production `10000 + i`, test `20000 + i` (unique per group, stable when domains are appended);
* traffic: cycles all_at_once / canary / linear, including two custom shapes that need shared
  CodeDeploy deployment configs in the platform stack (canary 20%/10 min, linear 25%/every 2 min);
* every domain has a deep health smoke check, every 2nd a business read, every 6th also a POST with a body;
* every 4th domain needs a Slack approval (every 8th with a shorter expiry);
* every 10th domain carries a custom rollback alarm, every 5th some environment variables.

Also imported by the bench/ scripts, which put the repository root on `sys.path` first.
"""
from __future__ import annotations

import copy
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bluegreen.config.default import DEFAULT_CONFIG
from bluegreen.config.loader import parse_config
from bluegreen.config.model import PlatformConfig

GROUP = "internal"
PROD_PORT_BASE = 10000
TEST_PORT_BASE = 20000
IMAGE = "public.ecr.aws/nginx/nginx:1.27-alpine"
_APPROVERS = {"users": ["U0PLATFORM1", "U0PLATFORM2"], "groups": ["S0RELEASERS"]}
_TRAFFIC = (
    {"style": "all_at_once"},
    {"style": "canary", "percentage": 10, "interval_minutes": 5},      # predefined
    {"style": "linear", "percentage": 10, "interval_minutes": 1},      # predefined
    {"style": "canary", "percentage": 20, "interval_minutes": 10},     # custom, shared
    {"style": "all_at_once"},
    {"style": "linear", "percentage": 25, "interval_minutes": 2},      # custom, shared
)
_SIZES = ((256, 512), (512, 1024), (1024, 2048))


def domain_name(index: int) -> str:
    """1-based index -> `d001`; names stay valid (<= 12 chars) up to d999999."""
    return f"d{index:03d}"


def generated_domain(index: int) -> dict[str, Any]:
    """The raw config entry of domain `index` (1-based); depends only on the index."""
    name = domain_name(index)
    cpu, memory = _SIZES[index % len(_SIZES)]
    raw: dict[str, Any] = {
        "alb_group": GROUP, "port": PROD_PORT_BASE + index, "test_port": TEST_PORT_BASE + index,
        "image": IMAGE, "container_port": 8080, "health_check_path": "/health",
        "cpu": cpu, "memory_mib": memory, "desired_count": 2 + index % 2,
        "traffic": copy.deepcopy(_TRAFFIC[(index - 1) % len(_TRAFFIC)]),
    }
    # Every domain needs at least one smoke check (the loader refuses traffic without a test-traffic check).
    checks: list[dict[str, Any]] = [{"name": "health-deep", "method": "GET", "path": f"/v1/{name}/health/deep",
                                     "expect_status": 200, "expect_json": {"status": "UP"}, "latency_budget_ms": 1000}]
    if index % 2 == 0:
        checks.append({"name": "list-items", "method": "GET", "path": f"/v1/{name}/items?limit=1",
                       "headers": {"Accept": "application/json"}, "expect_status": 200, "latency_budget_ms": 1500})
    if index % 6 == 0:
        checks.append({"name": "create-item", "method": "POST", "path": f"/v1/{name}/items",
                       "headers": {"Content-Type": "application/json", "X-Smoke-Test": "true"},
                       "body": json.dumps({"sku": f"SMOKE-{name.upper()}", "qty": 1}),
                       "expect_status": 201, "expect_json": {"status": "CREATED"}, "latency_budget_ms": 1500})
    raw["smoke_checks"] = checks
    if index % 4 == 0:
        raw["approval"] = {"required": True, "channel": f"C0TEAM{index % 7}", "approvers": copy.deepcopy(_APPROVERS),
                           "expiry_minutes": 30 if index % 8 == 0 else 45}
    if index % 10 == 0:
        raw["alarms"] = {"custom": [{"name": f"{name}-business-errors", "namespace": "Domains",
                                     "metric": "BusinessErrors", "threshold": 5,
                                     "dimensions": {"Domain": name}}]}
    if index % 5 == 0:
        raw["environment"] = {"LOG_LEVEL": "info", "FEATURE_SOURCE": "appconfig"}
    return raw


def generated_raw(n: int) -> dict[str, Any]:
    """The raw (dict) config with `n` domains; the platform section is the embedded default's."""
    if n < 1:
        raise ValueError("n must be >= 1")
    raw: dict[str, Any] = {
        "platform": copy.deepcopy(DEFAULT_CONFIG["platform"]),
        "alb_groups": {GROUP: {"scheme": "internal", "protocol": "HTTP", "idle_timeout_seconds": 60}},
        "domains": {domain_name(i): generated_domain(i) for i in range(1, n + 1)},
    }
    return raw


def generated_config(n: int) -> PlatformConfig:
    """`n` generated HTTP domains, parsed and validated (shards assigned) by the real loader."""
    return parse_config(generated_raw(n), source=f"generated config ({n} domains)")


def expected_shards(n: int, per_alb: int = 25) -> int:
    return math.ceil(n / per_alb)



# --- synthesis into a cloud assembly on disk, read back as plain JSON (no jsii round trips) ------

def synth_to_disk(config: PlatformConfig, outdir: Path, *, nag: bool = False, validation: bool = False) -> float:
    """Synthesize `config` like `cdk synth` into `outdir`; return the wall seconds of build + synth.

    `nag=False` skips the cdk-nag packs and `validation=False` the CDK's built-in CloudFormation
    validation plugin (a WASM rule engine: ~7 s to start per process plus ~0.3 s per template).
    Neither changes a template, and both run elsewhere in the suite (tests/stacks/test_compliance.py).
    """
    import aws_cdk as cdk

    from stacks.app_builder import build_app
    from tests.synth_support import cdk_json_context

    started = time.perf_counter()
    app = cdk.App(outdir=str(outdir), context=cdk_json_context(), builtin_cloud_formation_validation=validation)
    build_app(config, app=app, nag=nag)
    app.synth()
    return time.perf_counter() - started


def read_templates(outdir: Path) -> dict[str, dict]:
    """Stack name -> template, from the assembly's manifest.json (much faster than `stack.template`
    through jsii, which re-serializes every template across the Python/Node pipe)."""
    manifest = json.loads((Path(outdir) / "manifest.json").read_text())
    templates = {}
    for artifact_id, artifact in sorted(manifest["artifacts"].items()):
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        properties = artifact["properties"]
        name = properties.get("stackName", artifact_id)
        templates[name] = json.loads((Path(outdir) / properties["templateFile"]).read_text())
    return templates


@dataclass(frozen=True)
class ScaleAssembly:
    """A synthesized generated config: its templates by stack name and the config it came from."""

    n: int
    config: PlatformConfig
    outdir: Path
    templates: dict[str, dict]
    synth_seconds: float

    @property
    def platform_stack_name(self) -> str:
        return f"{self.config.platform.name.title().replace('-', '')}-Platform"

    @property
    def platform_template(self) -> dict:
        return self.templates[self.platform_stack_name]

    def domain_stack_name(self, domain: str) -> str:
        return f"{self.config.platform.name.title().replace('-', '')}-Domain-{domain}"

    def domain_template(self, domain: str) -> dict:
        return self.templates[self.domain_stack_name(domain)]

    def exports(self) -> dict[str, tuple[str, Any]]:
        """Export name -> (exporting stack name, value expression), over every stack of the app."""
        found: dict[str, tuple[str, Any]] = {}
        for stack, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output:
                    found[output["Export"]["Name"]] = (stack, output["Value"])
        return found

    def published(self) -> dict[str, tuple[str, Any]]:
        """SSM parameter name -> (publishing stack, value expression): how domain stacks reach the platform."""
        return published_values(self.templates)


def published_values(templates: dict[str, dict]) -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, Any]] = {}
    for stack, template in templates.items():
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == "AWS::SSM::Parameter" and isinstance(resource["Properties"].get("Name"), str):
                found[resource["Properties"]["Name"]] = (stack, resource["Properties"]["Value"])
    return found


def ssm_parameter_source(templates: dict[str, dict], stack: str, name: str) -> tuple[str, Any] | None:
    """Where a template parameter of type AWS::SSM::Parameter::Value<...> gets its value at deploy time."""
    parameter = templates[stack].get("Parameters", {}).get(name)
    if not parameter or not str(parameter.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
        return None
    return published_values(templates).get(parameter["Default"])


# --- published SSM metadata: its size once CloudFormation resolves the tokens -------------------

ACCOUNT = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
_HEX16 = "0123456789abcdef"
_RANDOM_SUFFIX = "-ABCDEFGHIJKLM"  # CloudFormation appends 13 random characters to generated names
# Maximum physical-name lengths CloudFormation generates names up to, by resource type.
_NAME_LIMITS = {"AWS::IAM::Role": 64, "AWS::Lambda::Function": 64, "AWS::ECS::Cluster": 255,
                "AWS::DynamoDB::Table": 255, "AWS::ECR::Repository": 256, "AWS::ECS::Service": 255,
                "AWS::ElasticLoadBalancingV2::LoadBalancer": 32, "AWS::ElasticLoadBalancingV2::TargetGroup": 32}
_NAME_PROPERTIES = {"AWS::IAM::Role": "RoleName", "AWS::Lambda::Function": "FunctionName",
                    "AWS::ECS::Cluster": "ClusterName", "AWS::DynamoDB::Table": "TableName",
                    "AWS::ECR::Repository": "RepositoryName", "AWS::ECS::Service": "ServiceName",
                    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
                    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
                    "AWS::SSM::Parameter": "Name", "AWS::CodeDeploy::DeploymentConfig": "DeploymentConfigName",
                    "AWS::CodeDeploy::Application": "ApplicationName", "AWS::ECS::TaskDefinition": "Family"}


@dataclass(frozen=True)
class CfnRenderer:
    """Renders CloudFormation string expressions with realistic (worst-case length) values.

    Only lengths matter: physical ids use the longest names CloudFormation would generate
    (`<stack>-<logicalId>-<13 random>` capped by the service limit), 16-hex ELB ids, 12-digit accounts.
    `Fn::ImportValue` is followed to the exporting stack and rendered there.
    """

    templates: dict[str, dict]
    region: str = "eu-west-1"

    def render(self, stack: str, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return json.dumps(value)
        if isinstance(value, dict) and len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Fn::Join":
                separator, parts = arg
                return separator.join(self.render(stack, part) for part in parts)
            if fn == "Ref":
                return self._ref(stack, arg)
            if fn == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._get_att(stack, logical_id, attribute)
            if fn == "Fn::ImportValue":
                exporter, expression = self._export(self.render(stack, arg))
                return self.render(exporter, expression)
            if fn == "Fn::Select":
                index, items = arg
                return self._list(stack, items)[int(index)]
            if fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return re.sub(r"\$\{([^}!]+)\}", lambda m: self.render(
                    stack, variables[m.group(1)] if m.group(1) in variables
                    else {"Fn::GetAtt": m.group(1).split(".", 1)} if "." in m.group(1)
                    else {"Ref": m.group(1)}), text)
        raise ValueError(f"{stack}: cannot render CloudFormation expression {json.dumps(value)[:200]}")

    def resolve(self, stack: str, value: Any) -> Any:
        """A JSON value (e.g. a policy document) with every intrinsic function rendered to a string."""
        if isinstance(value, dict):
            if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::Join", "Fn::GetAtt", "Fn::ImportValue",
                                                         "Fn::Select", "Fn::Sub"):
                return self.render(stack, value)
            return {key: self.resolve(stack, item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(stack, item) for item in value]
        return value

    def _list(self, stack: str, items: Any) -> list[str]:
        if isinstance(items, list):
            return [self.render(stack, item) for item in items]
        if isinstance(items, dict) and "Fn::Split" in items:
            delimiter, source = items["Fn::Split"]
            return self.render(stack, source).split(delimiter)
        if isinstance(items, dict) and "Fn::GetAZs" in items:
            return [f"{self.region}a", f"{self.region}b", f"{self.region}c"]
        raise ValueError(f"{stack}: cannot render list expression {json.dumps(items)[:200]}")

    def _export(self, name: str) -> tuple[str, Any]:
        for stack, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                if output.get("Export", {}).get("Name") == name:
                    return stack, output["Value"]
        raise ValueError(f"no stack exports {name!r}")

    def _resource(self, stack: str, logical_id: str) -> dict:
        resources = self.templates[stack].get("Resources", {})
        if logical_id not in resources:
            raise ValueError(f"{stack}: no resource {logical_id!r}")
        return resources[logical_id]

    def _name(self, stack: str, logical_id: str) -> str:
        resource = self._resource(stack, logical_id)
        prop = _NAME_PROPERTIES.get(resource["Type"])
        given = resource.get("Properties", {}).get(prop) if prop else None
        if given is not None:
            return self.render(stack, given)
        limit = _NAME_LIMITS.get(resource["Type"], 64)
        return (f"{stack}-{logical_id}"[: limit - len(_RANDOM_SUFFIX)] + _RANDOM_SUFFIX)[:limit]

    def _arn(self, service: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
        return (f"arn:{PARTITION}:{service}:{self.region if regional else ''}:"
                f"{ACCOUNT if account else ''}:{resource}")

    def _ref(self, stack: str, name: str) -> str:
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": self.region, "AWS::Partition": PARTITION,
                  "AWS::URLSuffix": URL_SUFFIX, "AWS::StackName": stack, "AWS::NoValue": "",
                  "AWS::StackId": self._arn("cloudformation", f"stack/{stack}/{'0' * 8}-{'0' * 4}-{'0' * 4}-"
                                                               f"{'0' * 4}-{'0' * 12}")}
        if name in pseudo:
            return pseudo[name]
        template = self.templates[stack]
        source = ssm_parameter_source(self.templates, stack, name)
        if source is not None:  # a value another stack of the app publishes to SSM
            publisher, expression = source
            value = self.render(publisher, expression)
            return value.split(",")[0] if str(template["Parameters"][name]["Type"]).endswith("List<String>>") \
                else value
        if name in template.get("Parameters", {}):
            return "x" * 64  # asset hashes: assume long
        resource = self._resource(stack, name)
        kind = resource["Type"]
        physical = self._name(stack, name)
        if kind == "AWS::ECS::TaskDefinition":
            return self._arn("ecs", f"task-definition/{physical}:99999")
        if kind == "AWS::ElasticLoadBalancingV2::Listener":
            return self._arn("elasticloadbalancing", f"listener/app/{'l' * 32}/{_HEX16}/{_HEX16}")
        if kind == "AWS::ElasticLoadBalancingV2::TargetGroup":
            return self._arn("elasticloadbalancing", f"targetgroup/{physical}/{_HEX16}")
        if kind == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            return self._arn("elasticloadbalancing", f"loadbalancer/app/{physical}/{_HEX16}")
        if kind == "AWS::ECS::Service":
            cluster = resource.get("Properties", {}).get("Cluster")
            cluster_name = self.render(stack, cluster) if cluster is not None else "default"
            return self._arn("ecs", f"service/{cluster_name}/{physical}")
        if kind == "AWS::KMS::Key":
            return "01234567-89ab-cdef-0123-456789abcdef"
        if kind == "AWS::EC2::SecurityGroup":
            return "sg-0123456789abcdef0"
        return physical

    def _get_att(self, stack: str, logical_id: str, attribute: str) -> str:
        resource = self._resource(stack, logical_id)
        kind = resource["Type"]
        physical = self._name(stack, logical_id)
        if attribute == "Arn":
            service = kind.split("::")[1].lower()
            if kind == "AWS::IAM::Role":
                return self._arn("iam", f"role/{physical}", regional=False)
            if kind == "AWS::Lambda::Function":
                return self._arn("lambda", f"function:{physical}")
            if kind == "AWS::ECR::Repository":
                return self._arn("ecr", f"repository/{physical}")
            if kind == "AWS::KMS::Key":
                return self._arn("kms", "key/01234567-89ab-cdef-0123-456789abcdef")
            if kind == "AWS::DynamoDB::Table":
                return self._arn("dynamodb", f"table/{physical}")
            return self._arn(service, f"{kind.split('::')[2].lower()}/{physical}")
        if attribute in ("Name", "ServiceName", "RepositoryUri") and kind != "AWS::ECR::Repository":
            return physical
        if attribute == "RepositoryUri":
            return f"{ACCOUNT}.dkr.ecr.{self.region}.{URL_SUFFIX}/{physical}"
        if attribute == "GroupId":
            return "sg-0123456789abcdef0"
        if attribute == "DNSName":
            return f"internal-{physical}-1234567890.{self.region}.elb.{URL_SUFFIX}"
        if attribute == "LoadBalancerFullName":
            return f"app/{physical}/{_HEX16}"
        if attribute == "CanonicalHostedZoneID":
            return "Z32O12XQLNTSW2"
        if attribute == "TaskDefinitionArn" and kind.startswith("Custom::"):
            return self._arn("ecs", f"task-definition/{'f' * 40}:99999")
        return "x" * 64


def resolved_length(renderer: CfnRenderer, stack: str, expression: Any) -> tuple[int, str]:
    """(UTF-8 bytes, rendered text) of `expression` in `stack` once CloudFormation resolves it."""
    text = renderer.render(stack, expression)
    return len(text.encode("utf-8")), text
