"""Every Lambda function of every stack writes to a log group with a retention period: the platform's own
functions, CDK's provider functions (AwsCustomResource, the VPC default-security-group provider) included."""
from __future__ import annotations

from tests.synth_support import resources_of_type



def log_group_of(template: dict, function_id: str, function: dict) -> dict | None:
    groups = resources_of_type(template, "AWS::Logs::LogGroup")
    configured = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
    if isinstance(configured, dict) and "Ref" in configured:
        return groups.get(configured["Ref"])
    for group in groups.values():
        if group["Properties"].get("LogGroupName") == {"Fn::Join": ["", ["/aws/lambda/", {"Ref": function_id}]]}:
            return group
    name = function["Properties"].get("FunctionName")
    for group in groups.values():
        if isinstance(name, str) and group["Properties"].get("LogGroupName") == f"/aws/lambda/{name}":
            return group
    return None


def test_every_lambda_function_has_a_log_group_with_retention(default_app):
    missing, unbounded, functions = [], [], 0
    for stack, template in default_app.templates.items():
        for function_id, function in resources_of_type(template, "AWS::Lambda::Function").items():
            functions += 1
            group = log_group_of(template, function_id, function)
            if group is None:
                missing.append(f"{stack}/{function_id}")
            elif not group["Properties"].get("RetentionInDays"):
                unbounded.append(f"{stack}/{function_id}")
    assert functions >= 9  # 5 platform functions + the VPC provider + one trigger provider per domain (4)
    assert missing == [] and unbounded == [], f"without a log group: {missing}; never expiring: {unbounded}"
