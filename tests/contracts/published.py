"""What the synthesized templates publish, as a deployed stack would hold it: intrinsics resolved to plausible values.

`Deployed(app)` resolves `Ref`/`Fn::GetAtt`/`Fn::Join`/`Fn::Select`/`Fn::Split`/`Fn::Sub` of the real templates
the way CloudFormation would in account 123456789012, eu-west-1: named resources by their names and ARNs,
unnamed ones by stable fake ids derived from their logical ids. An intrinsic it does not know fails the test
(a new kind of value in a published document must be resolved on purpose, not guessed).
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from tests.synth_support import Synthesized, resources_of_type

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PLATFORM = "bluegreen"


def _fake_id(logical_id: str, length: int = 7) -> str:
    return hashlib.sha256(logical_id.encode()).hexdigest()[:length]


class Deployed:
    """The default app's stacks as deployed: resolved values, published parameters, function environments."""

    def __init__(self, app: Synthesized) -> None:
        self.app = app

    # ----------------------------------------------------------------------------------- published values
    def parameter(self, name: str) -> str:
        """The resolved value of the SSM parameter `name` (whichever stack creates it)."""
        for stack, template in self.app.templates.items():
            for parameter in resources_of_type(template, "AWS::SSM::Parameter").values():
                if parameter["Properties"]["Name"] == name:
                    return self.resolve(stack, parameter["Properties"]["Value"])
        raise AssertionError(f"no stack publishes the SSM parameter {name}")

    def domain_metadata(self, domain: str) -> dict[str, Any]:
        return json.loads(self.parameter(f"/{PLATFORM}/domains/{domain}/deployment"))

    def platform_parameter(self) -> dict[str, Any]:
        return json.loads(self.parameter(f"/{PLATFORM}/platform"))

    def function_environment(self, function_name: str) -> dict[str, str]:
        for stack, template in self.app.templates.items():
            for function in resources_of_type(template, "AWS::Lambda::Function").values():
                if function["Properties"].get("FunctionName") == function_name:
                    variables = function["Properties"].get("Environment", {}).get("Variables", {})
                    return {key: self.resolve(stack, value) for key, value in variables.items()}
        raise AssertionError(f"no function {function_name}")

    def domain_resources(self, domain: str) -> dict[str, Any]:
        """The names a domain stack gives what a deployment touches (from its template, not its metadata)."""
        template = self.app.template(f"-Domain-{domain}")

        def only(kind: str) -> dict[str, Any]:
            (resource,) = resources_of_type(template, kind).values()
            return resource["Properties"]

        service, task = only("AWS::ECS::Service"), only("AWS::ECS::TaskDefinition")
        (load_balancer,) = service["LoadBalancers"]
        return {"cluster": service["Cluster"], "service": service["ServiceName"], "family": task["Family"],
                "containers": [c["Name"] for c in task["ContainerDefinitions"]],
                "loadBalancerInfo": {"ContainerName": load_balancer["ContainerName"],
                                     "ContainerPort": load_balancer["ContainerPort"]},
                "repository": only("AWS::ECR::Repository")["RepositoryName"],
                "application": only("AWS::CodeDeploy::Application")["ApplicationName"],
                "deploymentGroup": only("AWS::CodeDeploy::DeploymentGroup")["DeploymentGroupName"]}

    def github_deploy_role(self) -> tuple[str, str]:
        """(RoleName, repository) of the DeployAccess stack's GitHub deploy role (the repository its trust allows)."""
        (role,) = resources_of_type(self.app.template("-DeployAccess"), "AWS::IAM::Role").values()
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        subjects = trust["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"]
        repositories = {subject.split(":")[1] for subject in subjects}
        (repository,) = repositories
        return role["Properties"]["RoleName"], repository

    def function_arns(self) -> dict[str, str]:
        """FunctionName -> ARN of every named Lambda function of the app."""
        return {f["Properties"]["FunctionName"]: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
                                                 f"{f['Properties']['FunctionName']}"
                for template in self.app.templates.values()
                for f in resources_of_type(template, "AWS::Lambda::Function").values()
                if f["Properties"].get("FunctionName")}

    # -------------------------------------------------------------------------------------------- resolving
    def resolve(self, stack: str, value: Any) -> str:
        template = self.app.templates[stack]
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, dict) and len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref":
                return self._ref(stack, template, argument)
            if function == "Fn::GetAtt":
                return self._get_att(stack, template, *argument)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(self.resolve(stack, part) for part in parts)
            if function == "Fn::Select":
                index, values = argument
                items = values if isinstance(values, list) else self._list(stack, values)
                return self.resolve(stack, items[int(index)])
            if function == "Fn::Sub" and isinstance(argument, str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._ref(stack, template, m.group(1)) if "." not in m.group(1)
                              else self._get_att(stack, template, *m.group(1).split(".", 1)), argument)
        raise AssertionError(f"{stack}: no plausible value for {json.dumps(value)[:200]}")

    def _list(self, stack: str, value: Any) -> list[str]:
        if isinstance(value, dict) and "Fn::Split" in value:
            separator, source = value["Fn::Split"]
            return self.resolve(stack, source).split(separator)
        raise AssertionError(f"{stack}: no plausible list for {json.dumps(value)[:200]}")

    def _ref(self, stack: str, template: dict, name: str) -> str:
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws",
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": stack}
        if name in pseudo:
            return pseudo[name]
        parameters = template.get("Parameters", {})
        if name in parameters:  # an SSM-typed parameter: what the platform published under its name
            return self.parameter(parameters[name]["Default"])
        resource = template["Resources"][name]
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::ECS::TaskDefinition":
            return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{props['Family']}:1"
        if kind == "AWS::ElasticLoadBalancingV2::Listener":
            return (f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{PLATFORM}-internal-0/"
                    f"{_fake_id('alb', 16)}/{_fake_id(stack + name, 16)}")
        if kind == "AWS::ECR::Repository":
            return props["RepositoryName"]
        if kind == "AWS::DynamoDB::GlobalTable":
            return props["TableName"]
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{props['Name']}-AbCdEf"
        if kind == "AWS::ApiGateway::Stage":
            return props["StageName"]
        if kind in ("AWS::ApiGateway::RestApi", "AWS::AppConfig::Application", "AWS::AppConfig::Environment",
                    "AWS::AppConfig::ConfigurationProfile"):
            return _fake_id(stack + name, 10 if kind.startswith("AWS::ApiGateway") else 7)
        raise AssertionError(f"{stack}: no plausible Ref value for {kind} {name}")

    def _get_att(self, stack: str, template: dict, name: str, attribute: str) -> str:
        resource = template["Resources"][name]
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{ACCOUNT}:role/{props.get('RoleName') or f'{stack}-{name}'[:64]}"
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{props.get('FunctionName') or f'{stack}-{name}'[:64]}"
        if kind == "AWS::ECR::Repository" and attribute == "Arn":
            return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{props['RepositoryName']}"
        if kind.startswith("Custom::") and attribute in props:  # a custom resource echoing one of its inputs
            return self.resolve(stack, props[attribute])
        raise AssertionError(f"{stack}: no plausible Fn::GetAtt value for {kind} {name}.{attribute}")
