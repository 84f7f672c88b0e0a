"""Links and commands printed for operators (console, resume)."""
from __future__ import annotations


def console_url(region: str, deployment_id: str) -> str:
    """The CodeDeploy console page of a deployment (stop / roll back buttons, lifecycle events)."""
    return (f"https://{region}.console.aws.amazon.com/codesuite/codedeploy/deployments/{deployment_id}"
            f"?region={region}")


def resume_command(deployment_id: str) -> str:
    return f"bgctl watch {deployment_id}"
