"""CloudFormation / ELB / VPC limit checks over synthesized templates (pure functions, no synthesis)."""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

from bluegreen.limits import CFN_MAX_OUTPUTS_PER_STACK, CFN_MAX_RESOURCES_PER_STACK, CFN_WARN_RESOURCES_PER_STACK

from tests.scale_support import ScaleAssembly

CFN_MAX_PARAMETERS_PER_STACK = 200
CFN_MAX_MAPPINGS_PER_STACK = 200
CFN_MAX_TEMPLATE_BYTES = 1_000_000  # template body uploaded to S3 (CDK always does)
# VPC quota "Inbound or outbound rules per security group": 60 each by default (adjustable).
SECURITY_GROUP_RULES_PER_DIRECTION = 60

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"


class ResourceBudgetWarning(UserWarning):
    """A template is within 100 resources of CloudFormation's 500-resource limit."""


def template_problems(stack: str, template: dict) -> list[str]:
    """Every CloudFormation template limit `template` breaks; warns (ResourceBudgetWarning) at >= 400 resources."""
    problems = []
    resources = len(template.get("Resources", {}))
    if resources >= CFN_MAX_RESOURCES_PER_STACK:
        problems.append(f"{stack}: {resources} resources, CloudFormation allows {CFN_MAX_RESOURCES_PER_STACK - 1} "
                        f"at most (< {CFN_MAX_RESOURCES_PER_STACK}); split the stack")
    elif resources >= CFN_WARN_RESOURCES_PER_STACK:
        warnings.warn(f"{stack}: {resources} resources is close to CloudFormation's {CFN_MAX_RESOURCES_PER_STACK}"
                      f"-resource limit (warning from {CFN_WARN_RESOURCES_PER_STACK})", ResourceBudgetWarning,
                      stacklevel=2)
    for section, limit in (("Outputs", CFN_MAX_OUTPUTS_PER_STACK), ("Parameters", CFN_MAX_PARAMETERS_PER_STACK),
                           ("Mappings", CFN_MAX_MAPPINGS_PER_STACK)):
        count = len(template.get(section, {}))
        if count > limit:
            problems.append(f"{stack}: {count} {section.lower()}, CloudFormation allows {limit}")
    size = len(json.dumps(template, separators=(",", ":")).encode())
    if size > CFN_MAX_TEMPLATE_BYTES:
        problems.append(f"{stack}: template is {size} bytes, CloudFormation accepts {CFN_MAX_TEMPLATE_BYTES} from S3")
    return problems


Ref = tuple[str, str]  # (stack name, logical id)


def _target(assembly: ScaleAssembly, stack: str, expression: Any, exports: dict[str, tuple[str, Any]]) -> Ref | None:
    """Which resource an ARN/id expression points at, following a published SSM value (or an Fn::ImportValue)
    to the stack that publishes it."""
    from tests.scale_support import ssm_parameter_source

    if isinstance(expression, dict) and len(expression) == 1:
        (fn, arg), = expression.items()
        if fn == "Ref":
            source = ssm_parameter_source(assembly.templates, stack, arg)
            if source is not None:
                publisher, value = source
                return _target(assembly, publisher, value, exports)
            return (stack, arg)
        if fn == "Fn::GetAtt":
            return (stack, arg[0] if isinstance(arg, list) else arg.split(".", 1)[0])
        if fn == "Fn::ImportValue" and isinstance(arg, str) and arg in exports:
            exporter, value = exports[arg]
            return _target(assembly, exporter, value, exports)
    return None


@dataclass
class LoadBalancerUsage:
    """What is attached to one load balancer, across all stacks of an app."""

    load_balancer: Ref
    name: Any
    listeners: list[tuple[str, str, int]] = field(default_factory=list)  # (stack, logical id, port)
    target_groups: set[Ref] = field(default_factory=set)
    stacks: set[str] = field(default_factory=set)
    security_groups: set[Ref] = field(default_factory=set)


def load_balancer_usage(assembly: ScaleAssembly) -> dict[Ref, LoadBalancerUsage]:
    """Listeners counted by the load balancer they reference (through the cross-stack import), and the
    target groups of every stack with a listener on it (blue and green: CodeDeploy attaches both)."""
    exports = assembly.exports()
    usage: dict[Ref, LoadBalancerUsage] = {}
    for stack, template in assembly.templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            if resource["Type"] == LOAD_BALANCER:
                props = resource.get("Properties", {})
                entry = usage.setdefault((stack, logical_id), LoadBalancerUsage((stack, logical_id), props.get("Name")))
                for group in props.get("SecurityGroups", []):
                    target = _target(assembly, stack, group, exports)
                    if target:
                        entry.security_groups.add(target)
    for stack, template in assembly.templates.items():
        resources = template.get("Resources", {})
        for logical_id, resource in resources.items():
            if resource["Type"] != LISTENER:
                continue
            lb = _target(assembly, stack, resource["Properties"]["LoadBalancerArn"], exports)
            assert lb in usage, f"{stack}/{logical_id}: LoadBalancerArn {resource['Properties']['LoadBalancerArn']} " \
                                f"does not lead to a load balancer of this app"
            usage[lb].listeners.append((stack, logical_id, resource["Properties"]["Port"]))
            usage[lb].stacks.add(stack)
            usage[lb].target_groups.update((stack, tg) for tg, r in resources.items() if r["Type"] == TARGET_GROUP)
    return usage


def security_group_rules(assembly: ScaleAssembly, group: Ref) -> tuple[int, int]:
    """(inbound, outbound) rules of `group`: inline ones plus standalone ingress/egress resources anywhere."""
    exports = assembly.exports()
    stack, logical_id = group
    props = assembly.templates[stack]["Resources"][logical_id].get("Properties", {})
    inbound, outbound = len(props.get("SecurityGroupIngress", [])), len(props.get("SecurityGroupEgress", []))
    for other, template in assembly.templates.items():
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == "AWS::EC2::SecurityGroupIngress":
                if _target(assembly, other, resource["Properties"].get("GroupId"), exports) == group:
                    inbound += 1
            elif resource["Type"] == "AWS::EC2::SecurityGroupEgress":
                if _target(assembly, other, resource["Properties"].get("GroupId"), exports) == group:
                    outbound += 1
    return inbound, outbound


def domains_by_load_balancer(assembly: ScaleAssembly) -> dict[Ref, set[str]]:
    """Load balancer -> names of the domains whose listeners it carries."""
    stack_to_domain = {assembly.domain_stack_name(d.name): d.name for d in assembly.config.domains}
    return {lb: {stack_to_domain[s] for s in use.stacks if s in stack_to_domain}
            for lb, use in load_balancer_usage(assembly).items()}


def by_type(template: dict, type_name: str) -> dict[str, dict]:
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == type_name}



# IAM quotas (characters, whitespace not counted): managed policy 6,144; a role's inline policies
# together 10,240; a role's trust policy 2,048 (adjustable to 4,096).
IAM_MANAGED_POLICY_MAX_CHARS = 6144
IAM_ROLE_INLINE_POLICIES_MAX_CHARS = 10240
IAM_TRUST_POLICY_MAX_CHARS = 2048


def _policy_chars(renderer, stack: str, document: Any) -> int:
    return len(json.dumps(renderer.resolve(stack, document), separators=(",", ":")))


def iam_policy_sizes(assembly: ScaleAssembly) -> list[tuple[str, str, int, int]]:
    """(stack/logical id, what, resolved characters, quota) for every IAM policy document of the app."""
    from tests.scale_support import CfnRenderer

    renderer = CfnRenderer(assembly.templates, region=assembly.config.platform.region)
    exports = assembly.exports()
    sizes = []
    inline_per_role: dict[Ref, int] = {}
    for stack, template in assembly.templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::IAM::ManagedPolicy":
                sizes.append((f"{stack}/{logical_id}", "managed policy",
                              _policy_chars(renderer, stack, props["PolicyDocument"]), IAM_MANAGED_POLICY_MAX_CHARS))
            elif resource["Type"] == "AWS::IAM::Role":
                sizes.append((f"{stack}/{logical_id}", "trust policy",
                              _policy_chars(renderer, stack, props["AssumeRolePolicyDocument"]),
                              IAM_TRUST_POLICY_MAX_CHARS))
                for policy in props.get("Policies", []):
                    key = (stack, logical_id)
                    inline_per_role[key] = inline_per_role.get(key, 0) + _policy_chars(
                        renderer, stack, policy["PolicyDocument"])
            elif resource["Type"] == "AWS::IAM::Policy":
                chars = _policy_chars(renderer, stack, props["PolicyDocument"])
                for role in props.get("Roles", []):
                    target = _target(assembly, stack, role, exports) or (stack, json.dumps(role))
                    inline_per_role[target] = inline_per_role.get(target, 0) + chars
    sizes.extend((f"{stack}/{logical_id}", "inline policies of the role", chars, IAM_ROLE_INLINE_POLICIES_MAX_CHARS)
                 for (stack, logical_id), chars in inline_per_role.items())
    return sizes
