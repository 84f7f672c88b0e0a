"""Change-safety gate: compare two cloud assemblies and classify every change as safe, through CodeDeploy or
dangerous (`bgctl check-changes`, docs/change-safety.md). Standard library only: no aws-cdk-lib, boto3 or cfn-lint."""
