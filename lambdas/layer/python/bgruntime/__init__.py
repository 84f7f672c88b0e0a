"""Runtime helpers shared by the platform's Lambda functions and the `bgctl` CLI.

stdlib + boto3 only. Deployed to Lambda as a layer built from `lambdas/layer/` (no Docker),
installed for the CLI and the tests by the project's root `pyproject.toml`.
"""
