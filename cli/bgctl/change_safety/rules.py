"""The platform's rules: one function per concern, each returning the verdict, the reason and the fix.

`classify(delta, context)` applies, in order: a duplicate by content (security-group rule, DNS record), an added
resource, a type change, the rule of the resource's type (`TYPE_RULES`), then the generic CloudFormation rule
(removal; in place; replacement of a named, retained, versioned or unnamed resource). Reasons cite DESIGN.md
section 3, the ECS API reference or the resource schema they rest on. Rules that are lists live here as data.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Mapping

from .model import Finding, Verdict
from .resources import ResourceDelta, describe_name, fixed_names, retained_by

SAFE, CODEDEPLOY, DANGEROUS = Verdict.SAFE, Verdict.THROUGH_CODEDEPLOY, Verdict.DANGEROUS

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
SERVICE = "AWS::ECS::Service"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"
TRIGGER = "Custom::CodeDeployBlueGreenDeployment"
DEPLOYMENT_GROUP = "AWS::CodeDeploy::DeploymentGroup"
SHARED_BY_NAME = ("AWS::CodeDeploy::DeploymentConfig", "AWS::AppConfig::DeploymentStrategy")

# Resources the domains live in: replacing or removing one moves (or cuts off) everything inside it.
FOUNDATIONS: dict[str, str] = {
    "AWS::EC2::VPC": "every subnet, security group, load balancer and task inside must move to the new VPC, and the "
                     "old one cannot be deleted while domain services still run in it",
    "AWS::EC2::Subnet": "load balancers and tasks in it must move, and the old subnet cannot be deleted while their "
                        "network interfaces remain",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "a new load balancer has a new DNS name and none of the domains' "
                                                 "listeners: every listener, target group pair and DNS record must "
                                                 "move with it",
    "AWS::ECS::Cluster": "a new cluster has none of the running services or their CodeDeploy task sets",
    "AWS::Route53::HostedZone": "a new zone starts empty: every domain endpoint stops resolving until its record is "
                                "re-created",
}
# Resources whose physical identity is their content: a second one with the same content is a duplicate.
CONTENT_IDENTITY: dict[str, tuple[str, ...]] = {
    "AWS::EC2::SecurityGroupIngress": ("GroupId", "GroupName", "IpProtocol", "FromPort", "ToPort", "CidrIp",
                                       "CidrIpv6", "SourceSecurityGroupId", "SourceSecurityGroupName",
                                       "SourcePrefixListId"),
    "AWS::EC2::SecurityGroupEgress": ("GroupId", "IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6",
                                      "DestinationSecurityGroupId", "DestinationPrefixListId"),
    "AWS::Route53::RecordSet": ("HostedZoneId", "HostedZoneName", "Name", "Type", "SetIdentifier"),
}
# Immutable versions: replacement is how a new version is published, and Retain keeps the old one on purpose.
VERSIONED_TYPES = ("AWS::AppConfig::HostedConfigurationVersion", "AWS::Lambda::Version", "AWS::Lambda::LayerVersion")
# What ECS lets UpdateService change on a service with the CODE_DEPLOY deployment controller (ECS API reference,
# UpdateService); network configuration, platform version, task definition and load balancers need a CodeDeploy
# deployment instead.
CODE_DEPLOY_SERVICE_UPDATABLE = ("DesiredCount", "DeploymentConfiguration", "HealthCheckGracePeriodSeconds",
                                 "PlacementConstraints", "PlacementStrategies", "EnableECSManagedTags",
                                 "PropagateTags", "Tags")

DOCS = "docs/change-safety.md"
FIX_LISTENER = (f"keep listener properties identical for every config (render the setting elsewhere: {DOCS}#listeners); "
                "if the change is intended, apply it only while the listener forwards to blue (aws elbv2 "
                "describe-listeners --listener-arns $(bgctl describe DOMAIN --field prodListenerArn)) and label the "
                "PR accepted-migration")
FIX_REMOVE_DOMAIN = f"remove a domain with the documented procedure ({DOCS}#removing-a-domain-or-a-stack)"
FIX_TASK_DEFINITION_DRIFT = ("add a deployment trigger naming this task definition (bluegreen DeploymentTrigger), or "
                             "release the revision with `bgctl deploy`")
FIX_SERVICE_LOAD_BALANCERS = (f"keep container port and target groups unchanged; changing them is a migration to a "
                              f"new service and deployment group ({DOCS}#container-port-and-target-groups)")
FIX_SERVICE_TASK_DEFINITION = ("let the service name only the task-definition family (TaskDefinitionRevision.LATEST) "
                               "and release revisions through CodeDeploy")
FIX_NAMED = ("keep the createOnly properties unchanged, or give the resource a new name (or logical id and name) in an "
             "accepted migration")
FIX_UNKNOWN = ("vendor the type's schema: python -m bgctl.change_safety.refresh_schemas --type TYPE, then run the "
               "gate again")
FIX_EXPORT = (f"keep the export until no stack imports it: deploy the importing stacks without Fn::ImportValue first "
              f"(read the value from SSM at deploy time), then change it ({DOCS}#exports)")


@dataclass(frozen=True)
class StackContext:
    """What a rule may ask about the rest of the comparison."""

    stack: str
    deltas: Mapping[str, ResourceDelta]
    # (resource name, owning stack) -> other stacks of either assembly that use the name
    name_users: Callable[[str, str], tuple[str, ...]] = lambda name, stack: ()
    # (type, name) of an added resource -> where the base assembly already holds that name ("stack/LogicalId")
    name_holder: Callable[[str, str], str | None] = lambda type_name, name: None
    # (type, content identity) -> logical id of the base resource of this stack with that identity
    identity_holder: Callable[[str, str], str | None] = lambda type_name, identity: None


Rule = Callable[[ResourceDelta, StackContext], "Finding | None"]


def classify(delta: ResourceDelta, context: StackContext) -> Finding:
    duplicate = content_clash(delta, context)
    if duplicate is not None:
        return duplicate
    if delta.kind == "added":
        return added(delta, context)
    if delta.type_changed:
        return Finding(DANGEROUS, f"the resource type changes ({delta.old.get('Type')} -> {delta.new.get('Type')}) "
                                  "under the same logical id: CloudFormation refuses the update",
                       "keep the type, or give the new resource a new logical id")
    rule = TYPE_RULES.get(delta.type)
    finding = rule(delta, context) if rule else None
    if finding is None:
        finding = removed(delta, context) if delta.kind == "removed" else generic(delta, context)
    return finding


# ---------------------------------------------------------------------------------------------- generic


def content_identity(delta: ResourceDelta) -> str | None:
    """The identity of a resource that has no name, only content (a security-group rule, a DNS record)."""
    keys = CONTENT_IDENTITY.get(delta.type)
    if not keys or delta.new is None:
        return None
    properties = (delta.new.get("Properties") or {})
    return json.dumps({key: properties.get(key) for key in keys}, sort_keys=True)


def content_clash(delta: ResourceDelta, context: StackContext) -> Finding | None:
    """A new (or replacing) resource with the content of another logical id of the base: CloudFormation creates
    it while the other still exists (a duplicate), then deletes the other, taking the shared rule or record."""
    identity = content_identity(delta)
    if identity is None or delta.kind not in ("added", "replaced"):
        return None
    keys = set(CONTENT_IDENTITY[delta.type])
    if any(path.split("/", 1)[0] in keys for path in delta.dynamic_paths):
        return None  # a referenced resource is replaced: the deploy-time content differs
    holder = context.identity_holder(delta.type, identity)
    if holder is None or holder == delta.logical_id:
        return None
    return Finding(DANGEROUS, f"same {delta.type.rsplit('::', 1)[1]} as {holder} of the base under another logical "
                              f"id: CloudFormation creates it while {holder} still exists (the create fails as a "
                              f"duplicate), and deleting {holder} afterwards would remove the shared rule or record",
                   "keep logical ids stable (derive them from the rule's content, not its position in a list), or "
                   "change the rules in two deployments: remove first, then add")


def added(delta: ResourceDelta, context: StackContext) -> Finding:
    for prop, value in fixed_names(delta.new, delta.schema).items():
        holder = context.name_holder(delta.type, describe_name(value))
        if holder:
            return Finding(DANGEROUS, f"new resource named {describe_name(value)} ({prop}) while {holder} still holds "
                                      "that name: CloudFormation creates the new resource before it deletes the old "
                                      "one, so the create fails",
                           "keep the logical id (and stack) of named resources, or rename the new one")
    return Finding(SAFE, "new resource: CloudFormation creates it")


def removed(delta: ResourceDelta, context: StackContext) -> Finding:
    names = {k: describe_name(v) for k, v in fixed_names(delta.old, delta.schema).items()}
    retained = retained_by(delta.old, "DeletionPolicy")
    named = ", ".join(f"{v} ({k})" for k, v in names.items())
    if retained and names:
        return Finding(DANGEROUS, f"removed, but DeletionPolicy Retain keeps {named} in the account: the name stays "
                                  "taken, so re-creating it (same config again, a re-added domain) fails until the "
                                  "retained resource is deleted or imported",
                       f"restore the resource (same logical id) or, if intended, follow {DOCS}#retained-resources")
    if retained:
        return Finding(DANGEROUS, "removed, but DeletionPolicy Retain keeps it in the account, no longer managed "
                                  "(an orphan)", f"restore it or, if intended, follow {DOCS}#retained-resources")
    if names:
        users = _users(names, delta, context)
        return Finding(DANGEROUS, f"deletes {named}; " + (f"used by name in {users}" if users else
                                                        "things outside this stack may use it by name"),
                       "keep it until nothing uses the name, or restore it (same logical id)")
    return Finding(SAFE, "deleted (an unnamed, unretained resource)")


def generic(delta: ResourceDelta, context: StackContext) -> Finding:
    if not delta.paths:
        return Finding(SAFE, f"only {', '.join(delta.attributes)} changed: no resource update")
    if not delta.replaced:
        return Finding(SAFE, f"in-place update of {_list(delta.paths)}")
    return replacement(delta, context)


def replacement(delta: ResourceDelta, context: StackContext) -> Finding:
    names = {k: describe_name(v) for k, v in fixed_names(delta.new, delta.schema).items()}
    if delta.unknown_schema:
        return Finding(DANGEROUS, f"{_list(delta.paths)} change; {delta.citation()}", FIX_UNKNOWN.replace(
            "TYPE", delta.type))
    if names:
        named = ", ".join(f"{v} ({k})" for k, v in names.items())
        return Finding(DANGEROUS, f"replacement: {delta.citation()}; CloudFormation cannot replace a custom-named "
                                  f"resource: the new one needs {named}, which the old one still holds", FIX_NAMED)
    retained = retained_by(delta.new, "UpdateReplacePolicy") or retained_by(delta.old, "DeletionPolicy")
    if retained and delta.type in VERSIONED_TYPES:
        return Finding(SAFE, f"new immutable version ({delta.citation()}); Retain keeps the previous version on "
                             "purpose, as history and rollback target")
    if retained:
        return Finding(DANGEROUS, f"replacement: {delta.citation()}; Retain keeps the old resource as an orphan "
                                  "(still in the account, no longer managed)",
                       f"keep the createOnly properties unchanged, or plan the orphan's clean-up ({DOCS}#retained-resources)")
    return Finding(SAFE, f"replacement of an unnamed resource ({delta.citation()}): CloudFormation creates the new "
                         "one, repoints references, then deletes the old")


# ------------------------------------------------------------------------------------------ traffic path


def listener(delta: ResourceDelta, context: StackContext) -> Finding:
    if delta.kind == "removed":
        return Finding(DANGEROUS, "removing a listener closes its port: the domain's clients are cut off, and a "
                                  "CodeDeploy deployment group that names it can no longer deploy", FIX_REMOVE_DOMAIN)
    if not delta.paths:
        return generic(delta, context)
    reason = (f"listener update ({_list(delta.paths)}): a listener update re-applies its template DefaultActions: "
              "production goes back to the blue target group whichever colour CodeDeploy made live "
              "(DESIGN.md section 3)")
    if delta.replaced:
        reason += f"; replacement: {delta.citation()}, the port is closed while the new listener is created"
    return Finding(DANGEROUS, reason, FIX_LISTENER)


def target_group(delta: ResourceDelta, context: StackContext) -> Finding | None:
    if delta.kind == "removed":
        return Finding(DANGEROUS, "removing a target group that the listeners and CodeDeploy's deployment group "
                                  "use: traffic or the next deployment breaks", FIX_REMOVE_DOMAIN)
    if delta.replaced:
        names = ", ".join(describe_name(v) for v in fixed_names(delta.new, delta.schema).values())
        return Finding(DANGEROUS, f"replacement: {delta.citation()}; the target group is named ({names or 'unnamed'})"
                                  " so CloudFormation cannot create its replacement, and CodeDeploy's deployment "
                                  "group and the live listener reference it", FIX_SERVICE_LOAD_BALANCERS)
    if delta.paths:
        return Finding(SAFE, f"in-place update of {_list(delta.paths)}: target-group health checks and attributes "
                             "change without moving traffic")
    return None


def service(delta: ResourceDelta, context: StackContext) -> Finding | None:
    if delta.kind == "removed":
        return Finding(DANGEROUS, "removing the ECS service stops the domain (every task of blue and green)",
                       FIX_REMOVE_DOMAIN)
    touched = sorted({path.split("/", 1)[0] for path in delta.paths})
    if "LoadBalancers" in touched:
        return Finding(DANGEROUS, "LoadBalancers change: ECS refuses LoadBalancers changes on a service with the "
                                  "CODE_DEPLOY deployment controller, so the stack update fails (DESIGN.md section 3)",
                       FIX_SERVICE_LOAD_BALANCERS)
    if "TaskDefinition" in touched:
        return Finding(DANGEROUS, "TaskDefinition changes: CloudFormation must never change the task definition of a "
                                  "CODE_DEPLOY service; only CodeDeploy switches revisions (DESIGN.md section 3)",
                       FIX_SERVICE_TASK_DEFINITION)
    if delta.replaced:
        return Finding(DANGEROUS, f"replacement: {delta.citation()}; a new service starts without CodeDeploy's task "
                                  "sets and its fixed name is still taken", FIX_NAMED)
    refused = [p for p in touched if p not in CODE_DEPLOY_SERVICE_UPDATABLE]
    if refused and _code_deploy_controlled(delta):
        return Finding(DANGEROUS, f"{', '.join(refused)} change: on a CODE_DEPLOY service ECS updates only desired "
                                  "count, deployment configuration, health-check grace period, placement and tag "
                                  "propagation (ECS API reference, UpdateService); the rest needs a CodeDeploy "
                                  "deployment, so the stack update fails",
                       "keep the service's network configuration and platform version unchanged, or change them "
                       "through a CodeDeploy deployment (an AppSpec with the new network configuration)")
    if delta.paths:
        return Finding(SAFE, f"in-place update of {_list(delta.paths)}")
    return None


def _code_deploy_controlled(delta: ResourceDelta) -> bool:
    controller = ((delta.new or {}).get("Properties") or {}).get("DeploymentController") or {}
    return isinstance(controller, dict) and controller.get("Type") == "CODE_DEPLOY"


def foundation(delta: ResourceDelta, context: StackContext) -> Finding | None:
    what = FOUNDATIONS[delta.type]
    if delta.kind == "removed":
        return Finding(DANGEROUS, f"removed: {what}", f"keep it; {FIX_REMOVE_DOMAIN}")
    if delta.replaced:
        return Finding(DANGEROUS, f"replacement: {delta.citation()}; {what}",
                       "keep its createOnly properties unchanged; a new network or load balancer is a new platform "
                       f"(build it beside the old one and move domains one by one: {DOCS}#foundations)")
    return None


def task_definition(delta: ResourceDelta, context: StackContext) -> Finding | None:
    if delta.kind == "removed" or not delta.replaced:
        return None
    triggers = [d.logical_id for d in context.deltas.values()
                if d.type == TRIGGER and d.kind in ("modified", "replaced") and delta.logical_id in d.references]
    if triggers:
        return Finding(CODEDEPLOY, f"new task-definition revision ({_list(delta.paths)}; {delta.citation()}), released "
                                   f"blue/green: deployment trigger {', '.join(triggers)} starts a CodeDeploy "
                                   "deployment of it", None)
    return Finding(DANGEROUS, f"silent drift: a new revision nobody deploys ({_list(delta.paths)}; "
                              f"{delta.citation()}): the CODE_DEPLOY service keeps running the old revision while the "
                              "stack reports success", FIX_TASK_DEFINITION_DRIFT)


# Trigger properties whose change means a new revision to release (lambdas/release_provider/release/trigger.py).
_TRIGGER_RELEASES = ("TaskDefinitionArn", "ConfigImage")


def deployment_trigger(delta: ResourceDelta, context: StackContext) -> Finding | None:
    if delta.kind == "modified" and delta.paths:
        new_revision = any(d.replaced for d in context.deltas.values()
                           if d.type == TASK_DEFINITION and d.logical_id in delta.references)
        if not new_revision and not any(p.split("/", 1)[0] in _TRIGGER_RELEASES for p in delta.paths):
            return Finding(SAFE, f"deployment trigger settings change ({_list(delta.paths)}) but not the revision: "
                                 "the release provider deploys only a new task-definition revision, so nothing is "
                                 "deployed; the new hooks apply to the next release")
        return Finding(CODEDEPLOY, f"deployment trigger changes ({_list(delta.paths)}): CloudFormation updates it and "
                                   "it starts a CodeDeploy blue/green deployment", None)
    if delta.kind == "replaced":
        return Finding(CODEDEPLOY, f"deployment trigger replaced ({delta.citation()}): CloudFormation creates the new "
                                   "one, which may start a CodeDeploy blue/green deployment, then deletes the old", None)
    return None


_DEPLOYMENT_GROUP_TRAFFIC = ("LoadBalancerInfo", "ECSServices")


def deployment_group(delta: ResourceDelta, context: StackContext) -> Finding | None:
    if delta.kind == "removed":
        return None
    traffic = [p for p in delta.paths if p.split("/", 1)[0] in _DEPLOYMENT_GROUP_TRAFFIC]
    if traffic:
        return Finding(DANGEROUS, f"the deployment group's target groups, listeners or service change "
                                  f"({_list(traffic)}): CodeDeploy would switch traffic between other resources than "
                                  "the ones serving now", FIX_SERVICE_LOAD_BALANCERS)
    if not delta.replaced and delta.paths:
        return Finding(SAFE, f"in-place update of {_list(delta.paths)} (deployment config, alarms, rollback or "
                             "termination wait apply to the next deployment)")
    return None


def shared_by_name(delta: ResourceDelta, context: StackContext) -> Finding | None:
    if delta.kind not in ("removed", "replaced"):
        return None
    names = {k: describe_name(v) for k, v in fixed_names(delta.old, delta.schema).items()}
    users = _users(names, delta, context)
    what = "removed" if delta.kind == "removed" else f"replaced ({delta.citation()})"
    return Finding(DANGEROUS, f"{what} while other stacks may use it by name "
                              f"({', '.join(names.values()) or 'unnamed'}): "
                              + (f"used by {users}" if users else "deployment groups or environments elsewhere may "
                                                                   "name it"),
                   "keep shared deployment configs and rollout strategies; add a new one under a new name and move "
                   "users first")


TYPE_RULES: dict[str, Rule] = {
    LISTENER: listener,
    TARGET_GROUP: target_group,
    SERVICE: service,
    TASK_DEFINITION: task_definition,
    TRIGGER: deployment_trigger,
    DEPLOYMENT_GROUP: deployment_group,
    **{type_name: shared_by_name for type_name in SHARED_BY_NAME},
    **{type_name: foundation for type_name in FOUNDATIONS},
}


def _users(names: Mapping[str, str], delta: ResourceDelta, context: StackContext) -> str:
    users = sorted({user for name in names.values() for user in context.name_users(name, delta.stack)})
    return ", ".join(users)


def _list(paths: tuple[str, ...] | list[str], limit: int = 4) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")
