"""Every resource type a template keeps after its stack is deleted and that carries a fixed name is listed in the
README's "Deleting and re-creating a platform" table (re-creating under the same name finds the name taken)."""
from __future__ import annotations

import re

from tests.synth_support import REPO_ROOT

NAME_PROPERTIES = ("Name", "TableName", "RepositoryName", "LogGroupName", "FunctionName", "RoleName", "BucketName",
                   "SecretName", "ClusterName", "ServiceName", "Family", "AlarmName", "DeploymentConfigName")


def documented_types() -> set[str]:
    section = (REPO_ROOT / "README.md").read_text().split("## Deleting and re-creating a platform", 1)[1]
    section = section.split("\n## ", 1)[0]
    return set(re.findall(r"`(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)`", section))


def test_retained_named_resources_are_documented(default_app):
    retained = {}
    for stack, template in default_app.templates.items():
        for logical_id, resource in template["Resources"].items():
            props = resource.get("Properties", {})
            if resource.get("DeletionPolicy") == "Retain" and any(isinstance(props.get(p), str)
                                                                  for p in NAME_PROPERTIES):
                retained.setdefault(resource["Type"], f"{stack}/{logical_id}")
    assert {"AWS::ECR::Repository", "AWS::DynamoDB::GlobalTable", "AWS::SecretsManager::Secret"} <= set(retained)
    missing = {kind: where for kind, where in retained.items() if kind not in documented_types()}
    assert missing == {}, "add these to README 'Deleting and re-creating a platform'"
