"""IAM as readable grants: every role and resource policy of a synthesized app, one line per grant.

A grant is a tuple of strings, `(action, resource)` or `(action, resource, condition)`:
- `action` is the IAM action, prefixed `Deny ` for Deny statements; pseudo actions describe what is not a
  statement: `trust <sts action>` (who may assume the role; resource = the principal), `managed-policy`
  (resource = the attached AWS-managed policy) and `tag bluegreen-audit-writer` (the tag the audit table's
  resource policy requires of writers; resource = its value);
- CloudFormation intrinsics become readable strings: `${AWS::AccountId}` stays a placeholder, the partition is
  `aws`, a named resource is written as its ARN with its name
  (`arn:aws:dynamodb:eu-west-1:${AWS::AccountId}:table/bluegreen-deployments`), anything else as
  `${LogicalIdWithoutHash}` or `${LogicalIdWithoutHash.Attribute}`;
- `condition` lists `Operator key=value,value` clauses, sorted, joined by ` & `.

Roles are named by what does not change with construct paths: `role <RoleName>`, else `function <FunctionName>`
(a Lambda service role), else `logical <LogicalIdWithoutHash>`. Resource policies: `table <name>`,
`bucket <logical>`, `queue <name>`, `key <logical>`, `invoke <function name>` (Lambda permissions).
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from tests.synth_support import Synthesized, resources_of_type

Grant = tuple[str, ...]
_HASH = re.compile(r"[0-9A-F]{8}$")
_SECURITY_TAGS = ("bluegreen-audit-writer",)


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def logical_name(logical_id: str) -> str:
    """`PlatformAuditTableDE7FEA3F` -> `PlatformAuditTable` (the hash CDK appends to construct paths)."""
    return _HASH.sub("", logical_id)


# ------------------------------------------------------------------------------------------- statements


def role_statements(app: Synthesized) -> dict[tuple[str, str], list[dict]]:
    """(stack, role logical id) -> every Allow/Deny statement attached to the role (inline, policies, managed)."""
    found: dict[tuple[str, str], list[dict]] = {}
    for stack, template in app.templates.items():
        for logical_id, role in resources_of_type(template, "AWS::IAM::Role").items():
            statements = found.setdefault((stack, logical_id), [])
            for policy in role["Properties"].get("Policies", []):
                statements += policy["PolicyDocument"]["Statement"]
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for policy in resources_of_type(template, kind).values():
                for role_ref in policy["Properties"].get("Roles", []):
                    key = (stack, role_ref["Ref"]) if isinstance(role_ref, dict) else (stack, str(role_ref))
                    found.setdefault(key, []).extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def function_role(app: Synthesized, function_name: str) -> list[dict]:
    """Every statement of the role of the Lambda function named `function_name`."""
    for stack, template in app.templates.items():
        for fn in resources_of_type(template, "AWS::Lambda::Function").values():
            if fn["Properties"].get("FunctionName") == function_name:
                return role_statements(app)[(stack, fn["Properties"]["Role"]["Fn::GetAtt"][0])]
    raise AssertionError(f"no function {function_name}")


# ------------------------------------------------------------------------------------------- rendering


class Renderer:
    """CloudFormation values of one template as readable strings (see the module docstring)."""

    def __init__(self, template: dict) -> None:
        self.template = template
        self.resources = template.get("Resources", {})
        self.region = "eu-west-1"

    def __call__(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float, bool)):
            return str(value).lower() if isinstance(value, bool) else str(value)
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self._ref(argument)
            if function == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self._get_att(logical_id, attribute)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(self(part) for part in parts)
            if function == "Fn::Sub" and isinstance(argument, str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._ref(m.group(1)) if "." not in m.group(1)
                              else self._get_att(*m.group(1).split(".", 1)), argument)
        raise ValueError(f"cannot render {value!r}")

    def _ref(self, name: str) -> str:
        if name == "AWS::Partition":
            return "aws"
        if name.startswith("AWS::"):
            return "${" + name + "}"
        resource = self.resources.get(name)
        if resource is None:
            return "${" + name + "}"  # a template parameter
        kind, props = resource["Type"], resource.get("Properties", {})
        named = {
            "AWS::SecretsManager::Secret": lambda: self._arn("secretsmanager", f"secret:{props['Name']}-<suffix>"),
            "AWS::StepFunctions::StateMachine": lambda: self._arn(
                "states", f"stateMachine:{props.get('StateMachineName') or self._placeholder(name)}"),
            "AWS::DynamoDB::GlobalTable": lambda: props["TableName"],
            "AWS::IAM::Role": lambda: props.get("RoleName") or "${" + role_name(self.template, name) + "}",
            "AWS::ApiGateway::RestApi": lambda: "${api " + props["Name"] + "}",
            "AWS::ApiGateway::Stage": lambda: props["StageName"],
        }
        return named[kind]() if kind in named else self._placeholder(name)

    def _get_att(self, name: str, attribute: str) -> str:
        resource = self.resources.get(name)
        if resource is None:
            return "${" + f"{logical_name(name)}.{attribute}" + "}"
        kind, props = resource["Type"], resource.get("Properties", {})
        label = lambda key: props.get(key) or self._placeholder(name)  # noqa: E731
        arns = {
            ("AWS::DynamoDB::GlobalTable", "Arn"): lambda: self._arn("dynamodb", f"table/{props['TableName']}"),
            ("AWS::DynamoDB::GlobalTable", "StreamArn"): lambda: self._arn(
                "dynamodb", f"table/{props['TableName']}/stream/<label>"),
            ("AWS::Lambda::Function", "Arn"): lambda: self._arn("lambda", f"function:{label('FunctionName')}"),
            ("AWS::IAM::Role", "Arn"): lambda: "arn:aws:iam::${AWS::AccountId}:role/" + self._ref(name),
            ("AWS::SQS::Queue", "Arn"): lambda: self._arn("sqs", label("QueueName")),
            ("AWS::Logs::LogGroup", "Arn"): lambda: self._arn("logs", f"log-group:{label('LogGroupName')}:*"),
            ("AWS::ECR::Repository", "Arn"): lambda: self._arn("ecr", f"repository/{label('RepositoryName')}"),
            ("AWS::CloudWatch::Alarm", "Arn"): lambda: self._arn("cloudwatch", f"alarm:{label('AlarmName')}"),
            ("AWS::S3::Bucket", "Arn"): lambda: f"arn:aws:s3:::{label('BucketName')}",
            ("AWS::KMS::Key", "Arn"): lambda: self._arn("kms", f"key/{self._placeholder(name)}"),
        }
        render = arns.get((kind, attribute))
        return render() if render else "${" + f"{logical_name(name)}.{attribute}" + "}"

    def _arn(self, service: str, rest: str) -> str:
        return f"arn:aws:{service}:{self.region}:${{AWS::AccountId}}:{rest}"

    @staticmethod
    def _placeholder(logical_id: str) -> str:
        return "${" + logical_name(logical_id) + "}"

    def condition(self, condition: dict | None) -> str:
        clauses = []
        for operator, keys in sorted((condition or {}).items()):
            for key, values in sorted(keys.items()):
                clauses.append(f"{operator} {key}=" + ",".join(sorted(self(v) for v in as_list(values))))
        return " & ".join(clauses)

    def principals(self, principal: Any) -> list[str]:
        """`Service lambda.amazonaws.com`, `AWS arn:...`, `Federated arn:...`, or `*`: one string per principal."""
        if principal == "*":
            return ["*"]
        return sorted(f"{kind} {self(value)}" for kind, values in principal.items() for value in as_list(values))


def statement_grants(statement: dict, render: Renderer, *, with_principal: bool = False) -> set[Grant]:
    """One grant per action x resource (x principal, for resource policies) of a policy statement."""
    effect = "" if statement.get("Effect", "Allow") == "Allow" else "Deny "
    actions = [f"{effect}{a}" for a in as_list(statement.get("Action", []))] + \
              [f"{effect}NOT {a}" for a in as_list(statement.get("NotAction", []))]
    resources = [render(r) for r in as_list(statement.get("Resource", []))] + \
                [f"NOT {render(r)}" for r in as_list(statement.get("NotResource", []))]
    condition = render.condition(statement.get("Condition"))
    principals = render.principals(statement["Principal"]) if with_principal and "Principal" in statement else [""]
    grants: set[Grant] = set()
    for action in actions:
        for resource in resources:
            for principal in principals:
                target = f"{resource} for {principal}" if principal else resource
                grants.add((action, target, condition) if condition else (action, target))
    return grants


# ------------------------------------------------------------------------------------------------ roles


def role_name(template: dict, logical_id: str) -> str:
    """`role <RoleName>`, else `function <FunctionName>` (its Lambda), else `logical <logical id without hash>`."""
    role = template["Resources"][logical_id]["Properties"]
    if role.get("RoleName"):
        return f"role {role['RoleName']}"
    functions = [fn["Properties"] for fn in resources_of_type(template, "AWS::Lambda::Function").values()]
    users = sorted(fn["FunctionName"] for fn in functions
                   if fn.get("Role") == {"Fn::GetAtt": [logical_id, "Arn"]} and fn.get("FunctionName"))
    return f"function {' + '.join(users)}" if users else f"logical {logical_name(logical_id)}"


def role_grants(app: Synthesized) -> dict[tuple[str, str], set[Grant]]:
    """(stack, role name) -> every grant of the role: trust, managed policies, security tags, statements."""
    statements = role_statements(app)
    found: dict[tuple[str, str], set[Grant]] = {}
    for stack, template in app.templates.items():
        render = Renderer(template)
        for logical_id, role in resources_of_type(template, "AWS::IAM::Role").items():
            props = role["Properties"]
            key = (stack, role_name(template, logical_id))
            assert key not in found, f"two roles are both named {key}"
            grants: set[Grant] = set()
            for trust in props["AssumeRolePolicyDocument"]["Statement"]:
                for action in as_list(trust["Action"]):
                    condition = render.condition(trust.get("Condition"))
                    for principal in render.principals(trust["Principal"]):
                        grants.add((f"trust {action}", principal, condition) if condition else
                                   (f"trust {action}", principal))
            grants |= {("managed-policy", render(arn)) for arn in props.get("ManagedPolicyArns", [])}
            grants |= {(f"tag {tag['Key']}", tag["Value"]) for tag in props.get("Tags", [])
                       if tag["Key"] in _SECURITY_TAGS}
            for statement in statements[(stack, logical_id)]:
                grants |= statement_grants(statement, render)
            found[key] = grants
    return found


# ------------------------------------------------------------------------------------- resource policies


def _named(template: dict, logical_id: str, kind: str, name_key: str) -> str:
    props = template["Resources"][logical_id].get("Properties", {})
    return f"{kind} {props.get(name_key) or logical_name(logical_id)}"


def _resource_of(value: Any, template: dict) -> str:
    """The logical id a `Ref`/`Fn::GetAtt` points at."""
    return value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]


def resource_policy_grants(app: Synthesized) -> dict[tuple[str, str], set[Grant]]:
    """(stack, resource) -> the grants of its resource policy (principal included in the resource column)."""
    found: dict[tuple[str, str], set[Grant]] = {}

    def add(key: tuple[str, str], statements: Iterable[dict], render: Renderer) -> None:
        grants = found.setdefault(key, set())
        for statement in statements:
            grants |= statement_grants(statement, render, with_principal=True)

    for stack, template in app.templates.items():
        render = Renderer(template)
        for logical_id, table in resources_of_type(template, "AWS::DynamoDB::GlobalTable").items():
            for replica in table["Properties"].get("Replicas", []):
                if "ResourcePolicy" in replica:
                    add((stack, _named(template, logical_id, "table", "TableName")),
                        replica["ResourcePolicy"]["PolicyDocument"]["Statement"], render)
        for policy in resources_of_type(template, "AWS::S3::BucketPolicy").values():
            bucket = _resource_of(policy["Properties"]["Bucket"], template)
            add((stack, _named(template, bucket, "bucket", "BucketName")),
                policy["Properties"]["PolicyDocument"]["Statement"], render)
        for policy in resources_of_type(template, "AWS::SQS::QueuePolicy").values():
            for queue in policy["Properties"]["Queues"]:
                add((stack, _named(template, _resource_of(queue, template), "queue", "QueueName")),
                    policy["Properties"]["PolicyDocument"]["Statement"], render)
        for logical_id, key in resources_of_type(template, "AWS::KMS::Key").items():
            add((stack, f"key {logical_name(logical_id)}"), key["Properties"]["KeyPolicy"]["Statement"], render)
        for permission in resources_of_type(template, "AWS::Lambda::Permission").values():
            props = permission["Properties"]
            function = _resource_of(props["FunctionName"], template)
            statement = {"Effect": "Allow", "Action": props["Action"], "Principal": {"Service": props["Principal"]},
                         "Resource": props.get("SourceArn", "*")}
            add((stack, _named(template, function, "invoke", "FunctionName")), [statement], render)
    return found
