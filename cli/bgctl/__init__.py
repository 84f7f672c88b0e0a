"""bgctl: the operator and pipeline CLI of the ECS Blue/Green platform (stdlib + boto3 + bgruntime only)."""

__version__ = "0.2.0"
