"""Slack credentials in Secrets Manager, created with a placeholder the operator overwrites."""
from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, SecretValue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge

PLACEHOLDER = "PLACEHOLDER: set with aws secretsmanager put-secret-value (see README, Slack app set-up)"


class SlackSecrets(Construct):
    """`signing_secret` and `bot_token`: bare-string secrets, values never in templates, env vars or logs."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(self, "Key", alias=f"alias/{platform_name}/slack", enable_key_rotation=True,
                           description=f"{platform_name}: encrypts the Slack credentials",
                           removal_policy=RemovalPolicy.RETAIN)

        def secret(construct_id: str, name: str, description: str) -> secretsmanager.Secret:
            created = secretsmanager.Secret(
                self, construct_id, secret_name=f"{platform_name}/slack/{name}", description=description,
                secret_string_value=SecretValue.unsafe_plain_text(PLACEHOLDER), encryption_key=self.key,
                removal_policy=RemovalPolicy.RETAIN)
            rotation = ("Slack issues and rotates this credential in the Slack app settings; there is no API a "
                        "rotation Lambda could call. Operators rotate it in Slack and put the new value here.")
            acknowledge(created, Ack("AwsSolutions-SMG4", rotation),
                        Ack("HIPAA.Security-SecretsManagerRotationEnabled", rotation))
            return created

        self.signing_secret = secret("SigningSecret", "signing-secret",
                                     "Slack app signing secret: verifies interactive requests")
        self.bot_token = secret("BotToken", "bot-token", "Slack bot token (xoxb-...): posts and updates messages")
        CfnOutput(self, "SigningSecretArn", value=self.signing_secret.secret_arn,
                  description="put the Slack signing secret here (SLACK_SIGNING_SECRET_ARN)")
        CfnOutput(self, "BotTokenSecretArn", value=self.bot_token.secret_arn,
                  description="put the Slack bot token (xoxb-...) here (SLACK_BOT_TOKEN_SECRET_ARN)")
