"""The reviewed IAM allow-list of the default app: every role and resource policy, one grant per line.

Read with tests/library/iam_grants.py (the format) and enforced by tests/library/test_iam_allowlist.py: any grant
in a template that is not listed here fails, and so does any line here that no template grants any more.
Changing a line is a security review: say in the commit why the role needs it. `${AWS::AccountId}` is the
deploying account; `<suffix>`/`<label>` are parts AWS generates; `${X}` is a resource without a fixed name.
"""
from __future__ import annotations

Grant = tuple[str, ...]

ACCOUNT = "${AWS::AccountId}"
AUDIT_TABLE = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/bluegreen-deployments"
APPROVAL_KEYS = "ForAllValues:StringLike dynamodb:LeadingKeys=DEPLOYMENT#*"
DEPLOYMENT_GROUPS = f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}:deploymentgroup:bluegreen-*/bluegreen-*"
APPLICATIONS = f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}:application:bluegreen-*"
PLATFORM_PARAMETERS = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/bluegreen/*"
DEFAULT_BUS = f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/default"
BOT_TOKEN = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:bluegreen/slack/bot-token-<suffix>"
SIGNING_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:bluegreen/slack/signing-secret-<suffix>"
DOMAIN_FAMILIES = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/bluegreen-*:*"
DOMAIN_SERVICES = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/bluegreen-cluster/bluegreen-*"
TO_ECS_TASKS = "StringEquals iam:PassedToService=ecs-tasks.amazonaws.com"
BREAKGLASS = f"ArnNotEquals aws:PrincipalArn=arn:aws:iam::{ACCOUNT}:role/bluegreen-audit-breakglass"
VIA_SECRETS_MANAGER = "StringEquals kms:ViaService=secretsmanager.eu-west-1.amazonaws.com"


def lambda_function(*, vpc: bool = True, xray: bool = True) -> list[Grant]:
    """What every Lambda role holds: Lambda may assume it; logs (and ENIs in the VPC); X-Ray traces."""
    return [("trust sts:AssumeRole", "Service lambda.amazonaws.com"),
            ("managed-policy", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
            *([("managed-policy", "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")]
              if vpc else []),
            *([("xray:PutTelemetryRecords", "*"), ("xray:PutTraceSegments", "*")] if xray else [])]


def audit_writer(*reads: str) -> list[Grant]:
    """Appends (conditional puts) and optional reads of approval records only (`DEPLOYMENT#*`), plus the tag
    without which the audit table's resource policy denies every put."""
    return [*((action, AUDIT_TABLE, APPROVAL_KEYS)
              for action in (*reads, "dynamodb:ConditionCheckItem", "dynamodb:PutItem")),
            ("tag bluegreen-audit-writer", "bluegreen")]


def domain_roles(domain: str, alarms: list[str]) -> dict[tuple[str, str], list[Grant]]:
    stack = f"Bluegreen-Domain-{domain}"
    flags = (f"arn:aws:appconfig:eu-west-1:{ACCOUNT}:application/${{DomainFeatureFlagsApplication}}/environment/"
             "${DomainFeatureFlagsEnvironment}/configuration/${DomainFeatureFlagsConfigurationProfile}")
    repository = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/bluegreen/{domain}"
    logs = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/bluegreen/{domain}:*"
    return {
        # The app's own identity: reads its own feature flags through the AppConfig agent, nothing else.
        (stack, f"role bluegreen-{domain}-task"): [
            ("trust sts:AssumeRole", "Service ecs-tasks.amazonaws.com"),
            ("appconfig:GetLatestConfiguration", flags),
            ("appconfig:StartConfigurationSession", flags),
        ],
        # ECS starting the task: pulls the domain's image, writes the domain's log group.
        (stack, f"role bluegreen-{domain}-execution"): [
            ("trust sts:AssumeRole", "Service ecs-tasks.amazonaws.com"),
            ("ecr:BatchCheckLayerAvailability", repository),
            ("ecr:BatchGetImage", repository),
            ("ecr:GetAuthorizationToken", "*"),  # no resource-level permission exists
            ("ecr:GetDownloadUrlForLayer", repository),
            ("logs:CreateLogStream", logs),
            ("logs:PutLogEvents", logs),
        ],
        # CodeDeploy's service role: the least-privileged managed policy (invokes only CodeDeployHook_*) and
        # passing this domain's two task roles to the replacement task set.
        (stack, "logical DomainReleaseCodeDeployRole"): [
            ("trust sts:AssumeRole", "Service codedeploy.amazonaws.com"),
            ("managed-policy", "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECSLimited"),
            ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bluegreen-{domain}-execution"),
            ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bluegreen-{domain}-task"),
        ],
        # AppConfig watching the rollback alarms during a flag rollout: reads exactly those alarms.
        (stack, "logical DomainFeatureFlagsMonitorRole"): [
            ("trust sts:AssumeRole", "Service appconfig.amazonaws.com"),
            *(("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:bluegreen-{domain}-{alarm}")
              for alarm in alarms),
        ],
    }


STANDARD_ALARMS = ["5xx-rate", "elb-5xx-rate", "p99-latency", "unhealthy-hosts"]
RELEASE_FUNCTIONS = [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:bluegreen-release-provider",
                     f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:bluegreen-release-provider-waiter"]


def provider_framework() -> list[Grant]:
    """A CDK Provider framework function: runs (and looks up) the release provider's two functions."""
    return [*lambda_function(xray=False),
            *(("lambda:GetFunction", arn) for arn in RELEASE_FUNCTIONS),
            *(("lambda:InvokeFunction", arn) for arn in RELEASE_FUNCTIONS),
            *(("lambda:InvokeFunction", f"{arn}:*") for arn in RELEASE_FUNCTIONS)]


ROLES: dict[tuple[str, str], list[Grant]] = {
    # GitHub Actions of example-org/domain-services (main, or an environment per domain): pushes images,
    # registers task definitions of platform families, passes only domain task roles, starts a deployment only
    # through the deploy API (execute-api, never CreateDeployment), follows and stops deployments, reads the
    # published metadata, the audit trail and the rollback alarms.
    ("Bluegreen-DeployAccess", "role bluegreen-deploy-example-org-domain-services"): [
        ("trust sts:AssumeRoleWithWebIdentity",
         f"Federated arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com",
         "StringEquals token.actions.githubusercontent.com:aud=sts.amazonaws.com & "
         "StringLike token.actions.githubusercontent.com:sub=repo:example-org/domain-services:environment:auth,"
         "repo:example-org/domain-services:environment:order,repo:example-org/domain-services:environment:payment,"
         "repo:example-org/domain-services:environment:voice,repo:example-org/domain-services:ref:refs/heads/main"),
        ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:bluegreen-*"),
        ("codedeploy:BatchGetDeployments", DEPLOYMENT_GROUPS),
        ("codedeploy:GetApplication", APPLICATIONS),
        ("codedeploy:GetApplicationRevision", APPLICATIONS),
        ("codedeploy:GetDeployment", DEPLOYMENT_GROUPS),
        ("codedeploy:GetDeploymentConfig", f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}:deploymentconfig:*"),
        ("codedeploy:GetDeploymentGroup", DEPLOYMENT_GROUPS),
        ("codedeploy:GetDeploymentTarget", DEPLOYMENT_GROUPS),
        ("codedeploy:ListDeploymentTargets", DEPLOYMENT_GROUPS),
        ("codedeploy:ListDeployments", DEPLOYMENT_GROUPS),
        ("codedeploy:RegisterApplicationRevision", APPLICATIONS),
        ("codedeploy:StopDeployment", DEPLOYMENT_GROUPS),
        ("dynamodb:BatchGetItem", AUDIT_TABLE),
        ("dynamodb:BatchGetItem", f"{AUDIT_TABLE}/index/*"),
        ("dynamodb:Query", AUDIT_TABLE),
        ("dynamodb:Query", f"{AUDIT_TABLE}/index/*"),
        ("ecr:BatchCheckLayerAvailability", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/bluegreen/*"),
        ("ecr:BatchGetImage", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/bluegreen/*"),
        ("ecr:CompleteLayerUpload", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/bluegreen/*"),
        ("ecr:DescribeImages", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/bluegreen/*"),
        ("ecr:GetAuthorizationToken", "*"),
        ("ecr:InitiateLayerUpload", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/bluegreen/*"),
        ("ecr:PutImage", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/bluegreen/*"),
        ("ecr:UploadLayerPart", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/bluegreen/*"),
        ("ecs:DescribeServices", DOMAIN_SERVICES),
        ("ecs:DescribeTaskDefinition", "*"),
        ("ecs:ListTaskDefinitions", "*"),
        ("ecs:RegisterTaskDefinition", DOMAIN_FAMILIES),
        ("ecs:TagResource", DOMAIN_FAMILIES, "StringEquals ecs:CreateAction=RegisterTaskDefinition"),
        ("execute-api:Invoke", f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:*/v1/POST/deployments"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bluegreen-*-execution", TO_ECS_TASKS),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bluegreen-*-task", TO_ECS_TASKS),
        ("ssm:GetParameter", PLATFORM_PARAMETERS),
    ],
    **domain_roles("auth", STANDARD_ALARMS),
    **domain_roles("order", STANDARD_ALARMS),
    **domain_roles("payment", [*STANDARD_ALARMS, "failed-payments"]),
    **domain_roles("voice", STANDARD_ALARMS),
    # BeforeAllowTraffic hook: reads the deployment, its image and who started it (CloudTrail for cdk deploy), the
    # metadata and smoke results, claims the request (approval records only), posts to Slack (bot token), puts
    # `Approval Requested`, schedules the expiry, and answers at once when no approval is required.
    ("Bluegreen-Platform", "function CodeDeployHook_bluegreen_approval-request"): [
        *lambda_function(),
        *audit_writer(),
        ("cloudtrail:LookupEvents", "*"),  # no resource-level permission exists
        ("codedeploy:BatchGetDeployments", DEPLOYMENT_GROUPS),
        ("codedeploy:GetDeployment", DEPLOYMENT_GROUPS),
        ("codedeploy:ListDeployments", APPLICATIONS),
        ("codedeploy:ListDeployments", DEPLOYMENT_GROUPS),
        ("codedeploy:PutLifecycleEventHookExecutionStatus", DEPLOYMENT_GROUPS),
        ("dynamodb:GetItem", AUDIT_TABLE, "ForAllValues:StringLike dynamodb:LeadingKeys=DEPLOYMENT#*,SMOKE#*"),
        ("dynamodb:Query", AUDIT_TABLE, "ForAllValues:StringLike dynamodb:LeadingKeys=DEPLOYMENT#*,SMOKE#*"),
        ("ecs:DescribeTaskDefinition", "*"),  # no resource-level permission exists
        ("events:PutEvents", DEFAULT_BUS),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/${{logical PlatformApprovalGateSchedulerRole}}",
         "StringEquals iam:PassedToService=scheduler.amazonaws.com"),
        ("scheduler:CreateSchedule", f"arn:aws:scheduler:eu-west-1:{ACCOUNT}:schedule/bluegreen-approvals/*"),
        ("secretsmanager:DescribeSecret", BOT_TOKEN),
        ("secretsmanager:GetSecretValue", BOT_TOKEN),
        ("ssm:GetParameter", PLATFORM_PARAMETERS),
        ("ssm:GetParameters", PLATFORM_PARAMETERS),
    ],
    # AfterAllowTestTraffic hook: reads the deployment and metadata, writes its own SMOKE# records only (cannot
    # read approvals nor learn the approval hook's id), puts `Smoke Checks Completed`, answers its hook.
    ("Bluegreen-Platform", "function CodeDeployHook_bluegreen_smoke-tests"): [
        *lambda_function(),
        ("codedeploy:GetDeployment", DEPLOYMENT_GROUPS),
        ("codedeploy:PutLifecycleEventHookExecutionStatus", DEPLOYMENT_GROUPS),
        ("dynamodb:ConditionCheckItem", AUDIT_TABLE, "ForAllValues:StringLike dynamodb:LeadingKeys=SMOKE#*"),
        ("dynamodb:PutItem", AUDIT_TABLE, "ForAllValues:StringLike dynamodb:LeadingKeys=SMOKE#*"),
        ("events:PutEvents", DEFAULT_BUS),
        ("ssm:GetParameter", PLATFORM_PARAMETERS),
        ("ssm:GetParameters", PLATFORM_PARAMETERS),
        ("tag bluegreen-audit-writer", "bluegreen"),
    ],
    # Slack interactivity endpoint: verifies the signature (signing secret), records votes/decisions (approval
    # records only), answers Slack (bot token). Never calls CodeDeploy: the worker does, after the ack.
    ("Bluegreen-Platform", "function bluegreen-approval-callback"): [
        *lambda_function(),
        *audit_writer("dynamodb:GetItem", "dynamodb:Query"),
        ("secretsmanager:DescribeSecret", BOT_TOKEN),
        ("secretsmanager:DescribeSecret", SIGNING_SECRET),
        ("secretsmanager:GetSecretValue", BOT_TOKEN),
        ("secretsmanager:GetSecretValue", SIGNING_SECRET),
    ],
    # Expiry (one-shot schedule): records EXPIRED and answers the hook Failed. No Slack, no events.
    ("Bluegreen-Platform", "function bluegreen-approval-expiry"): [
        *lambda_function(),
        *audit_writer("dynamodb:GetItem", "dynamodb:Query"),
        ("codedeploy:PutLifecycleEventHookExecutionStatus", DEPLOYMENT_GROUPS),
    ],
    # Decision worker (the audit table's stream): tells CodeDeploy the recorded decision, updates Slack, puts
    # `Approval Decided`, keeps failed records in its dead-letter queue.
    ("Bluegreen-Platform", "function bluegreen-approval-worker"): [
        *lambda_function(),
        *audit_writer("dynamodb:GetItem", "dynamodb:Query"),
        ("codedeploy:PutLifecycleEventHookExecutionStatus", DEPLOYMENT_GROUPS),
        ("dynamodb:DescribeStream", f"{AUDIT_TABLE}/stream/<label>"),
        ("dynamodb:GetRecords", f"{AUDIT_TABLE}/stream/<label>"),
        ("dynamodb:GetShardIterator", f"{AUDIT_TABLE}/stream/<label>"),
        ("dynamodb:ListStreams", f"{AUDIT_TABLE}/stream/<label>"),
        ("events:PutEvents", DEFAULT_BUS),
        ("secretsmanager:DescribeSecret", BOT_TOKEN),
        ("secretsmanager:GetSecretValue", BOT_TOKEN),
        ("sqs:GetQueueAttributes", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:bluegreen-approval-worker-dlq"),
        ("sqs:GetQueueUrl", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:bluegreen-approval-worker-dlq"),
        ("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:bluegreen-approval-worker-dlq"),
    ],
    # Deploy API: the only CreateDeployment in the account's platform (AppSpec from the published metadata),
    # registers the requester (approval records only), answers the hook for `bgctl approve|reject`.
    ("Bluegreen-Platform", "function bluegreen-deploy-api"): [
        *lambda_function(),
        *audit_writer("dynamodb:GetItem", "dynamodb:Query"),
        ("codedeploy:BatchGetDeployments", DEPLOYMENT_GROUPS),
        ("codedeploy:CreateDeployment", DEPLOYMENT_GROUPS),
        ("codedeploy:GetApplicationRevision", APPLICATIONS),
        ("codedeploy:GetDeployment", DEPLOYMENT_GROUPS),
        ("codedeploy:GetDeploymentConfig", f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}:deploymentconfig:*"),
        ("codedeploy:ListDeployments", DEPLOYMENT_GROUPS),
        ("codedeploy:PutLifecycleEventHookExecutionStatus", DEPLOYMENT_GROUPS),
        ("codedeploy:RegisterApplicationRevision", APPLICATIONS),
        ("ssm:GetParameter", PLATFORM_PARAMETERS),
        ("ssm:GetParameters", PLATFORM_PARAMETERS),
    ],
    # Deployment timeline: reads deployments, metadata and alarm states; its own bookkeeping table (never the
    # audit table; UpdateItem only there); posts to Slack (bot token). Not an audit writer.
    ("Bluegreen-Platform", "function bluegreen-deployment-notifier"): [
        *lambda_function(),
        ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:bluegreen-*"),
        ("codedeploy:GetDeployment", DEPLOYMENT_GROUPS),
        ("codedeploy:GetDeploymentGroup", DEPLOYMENT_GROUPS),
        ("dynamodb:GetItem", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/bluegreen-timeline"),
        ("dynamodb:PutItem", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/bluegreen-timeline"),
        ("dynamodb:UpdateItem", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/bluegreen-timeline"),
        ("secretsmanager:DescribeSecret", BOT_TOKEN),
        ("secretsmanager:GetSecretValue", BOT_TOKEN),
        ("ssm:GetParameter", PLATFORM_PARAMETERS),
        ("ssm:GetParameters", PLATFORM_PARAMETERS),
    ],
    # CDK's custom resource that strips the VPC's default security group rules: that one group only.
    ("Bluegreen-Platform", "logical CustomVpcRestrictDefaultSGCustomResourceProviderRole"): [
        *lambda_function(vpc=False, xray=False),
        *((action, f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/${{PlatformFoundationVpc.DefaultSecurityGroup}}")
          for action in ("ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
                         "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress")),
    ],
    # EventBridge Scheduler running a one-shot expiry schedule: invokes the expiry function only.
    ("Bluegreen-Platform", "logical PlatformApprovalGateSchedulerRole"): [
        ("trust sts:AssumeRole", "Service scheduler.amazonaws.com"),
        ("lambda:InvokeFunction", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:bluegreen-approval-expiry"),
        ("lambda:InvokeFunction", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:bluegreen-approval-expiry:*"),
    ],
    # VPC flow logs delivery: the flow-log group only.
    ("Bluegreen-Platform", "logical PlatformFoundationVpcFlowLogIAMRole"): [
        ("trust sts:AssumeRole", "Service vpc-flow-logs.amazonaws.com"),
        *((action, f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:${{PlatformFoundationFlowLogs}}:*")
          for action in ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")),
    ],
    # The release provider's CDK Provider framework (onEvent, isComplete, onTimeout) and its waiter state machine.
    ("Bluegreen-Platform", "logical PlatformReleaseProviderframeworkisCompleteServiceRole"): provider_framework(),
    ("Bluegreen-Platform", "logical PlatformReleaseProviderframeworkonEventServiceRole"): [
        *provider_framework(),
        ("states:StartExecution",
         f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:${{PlatformReleaseProviderwaiterstatemachine}}"),
    ],
    ("Bluegreen-Platform", "logical PlatformReleaseProviderframeworkonTimeoutServiceRole"): provider_framework(),
    ("Bluegreen-Platform", "logical PlatformReleaseProviderwaiterstatemachineRole"): [
        ("trust sts:AssumeRole", "Service states.amazonaws.com"),
        *(("lambda:InvokeFunction", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:${{{name}}}{alias}")
          for name in ("PlatformReleaseProviderframeworkisComplete", "PlatformReleaseProviderframeworkonTimeout")
          for alias in ("", ":*")),
        # Step Functions' log delivery (CDK's standard grant; these actions have no resource-level permissions)
        *((action, "*") for action in (
            "logs:CreateLogDelivery", "logs:CreateLogStream", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
            "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutLogEvents",
            "logs:PutResourcePolicy", "logs:UpdateLogDelivery")),
    ],
    # `cdk deploy` of a config change (both release provider functions): starts the deployment as this named
    # requester through the deploy API only (no CreateDeployment, no hook answers), registers the running image's
    # revision, creates the platform's shared deployment configs, follows/stops deployments, and keeps the
    # production listener's stickiness in step with the live target group.
    ("Bluegreen-Platform", "role bluegreen-release-provider"): [
        ("trust sts:AssumeRole", "Service lambda.amazonaws.com"),
        ("managed-policy", "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"),
        ("xray:PutTelemetryRecords", "*"),
        ("xray:PutTraceSegments", "*"),
        ("codedeploy:BatchGetDeployments", DEPLOYMENT_GROUPS),
        ("codedeploy:CreateDeploymentConfig", f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}:deploymentconfig:bluegreen-*"),
        ("codedeploy:GetDeployment", DEPLOYMENT_GROUPS),
        ("codedeploy:GetDeploymentConfig",
         f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}:deploymentconfig:CodeDeployDefault.*"),
        ("codedeploy:GetDeploymentConfig", f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}:deploymentconfig:bluegreen-*"),
        ("codedeploy:GetDeploymentGroup", DEPLOYMENT_GROUPS),
        ("codedeploy:ListDeployments", DEPLOYMENT_GROUPS),
        ("codedeploy:StopDeployment", DEPLOYMENT_GROUPS),
        ("ecs:DescribeServices", DOMAIN_SERVICES),
        ("ecs:DescribeTaskDefinition", "*"),  # no resource-level permission exists
        ("ecs:RegisterTaskDefinition", DOMAIN_FAMILIES),
        ("elasticloadbalancing:DescribeListeners", "*"),  # no resource-level permission exists
        ("elasticloadbalancing:ModifyListener",
         f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:listener/app/bluegreen-*/*/*"),
        ("execute-api:Invoke",
         f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:${{api bluegreen-deploy-api}}/v1/POST/deployments"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bluegreen-*-execution", TO_ECS_TASKS),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bluegreen-*-task", TO_ECS_TASKS),
    ],
}

ROOT = f"AWS arn:aws:iam::{ACCOUNT}:root"
ALB_LOGS = "arn:aws:s3:::${PlatformFoundationAlbAccessLogs}"
LOGS_SERVICE = "Service logs.eu-west-1.amazonaws.com"
LOG_GROUPS_OF_ACCOUNT = f"ArnLike kms:EncryptionContext:aws:logs:arn=arn:aws:logs:eu-west-1:{ACCOUNT}:*"
DEPLOY_API = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:${{api bluegreen-deploy-api}}"
APPROVALS_API = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:${{api bluegreen-approvals}}"

RESOURCE_POLICIES: dict[tuple[str, str], list[Grant]] = {
    # Append-only audit trail: nobody but the break-glass role rewrites, deletes, imports or restores; only
    # principals tagged as this platform's writers append.
    ("Bluegreen-Platform", "table bluegreen-deployments"): [
        *((f"Deny {action}", "* for AWS *", BREAKGLASS) for action in (
            "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:DeleteTable", "dynamodb:ImportTable",
            "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate",
            "dynamodb:RestoreTableFromBackup", "dynamodb:UpdateItem")),
        *((f"Deny {action}", "* for AWS *",
           f"{BREAKGLASS} & StringNotEquals aws:PrincipalTag/bluegreen-audit-writer=bluegreen")
          for action in ("dynamodb:ConditionCheckItem", "dynamodb:PutItem")),
    ],
    # ALB access logs: TLS only; ELB's eu-west-1 account and the log delivery service write under AWSLogs/<account>.
    ("Bluegreen-Platform", "bucket PlatformFoundationAlbAccessLogs"): [
        ("Deny s3:*", f"{ALB_LOGS} for AWS *", "Bool aws:SecureTransport=false"),
        ("Deny s3:*", f"{ALB_LOGS}/* for AWS *", "Bool aws:SecureTransport=false"),
        ("s3:GetBucketAcl", f"{ALB_LOGS} for Service delivery.logs.amazonaws.com"),
        ("s3:PutObject", f"{ALB_LOGS}/internal/AWSLogs/{ACCOUNT}/* for AWS arn:aws:iam::156460612806:root"),
        ("s3:PutObject", f"{ALB_LOGS}/internal/AWSLogs/{ACCOUNT}/* for Service delivery.logs.amazonaws.com",
         "StringEquals s3:x-amz-acl=bucket-owner-full-control"),
        ("s3:PutObject", f"{ALB_LOGS}/realtime/AWSLogs/{ACCOUNT}/* for AWS arn:aws:iam::156460612806:root"),
        ("s3:PutObject", f"{ALB_LOGS}/realtime/AWSLogs/{ACCOUNT}/* for Service delivery.logs.amazonaws.com",
         "StringEquals s3:x-amz-acl=bucket-owner-full-control"),
    ],
    # The worker's dead letters: TLS only.
    ("Bluegreen-Platform", "queue bluegreen-approval-worker-dlq"): [
        ("Deny sqs:*", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:bluegreen-approval-worker-dlq for AWS *",
         "Bool aws:SecureTransport=false"),
    ],
    # Slack credentials' key: the account administers it; Secrets Manager uses it; the four functions that read
    # a Slack secret may decrypt, through Secrets Manager only.
    ("Bluegreen-Platform", "key PlatformApprovalGateSlackSecretsKey"): [
        ("kms:*", f"* for {ROOT}"),
        *((action, f"* for {ROOT}", VIA_SECRETS_MANAGER) for action in (
            "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*",
            "kms:ReEncrypt*")),
        *(("kms:Decrypt", f"* for AWS arn:aws:iam::{ACCOUNT}:role/${{function {name}}}", VIA_SECRETS_MANAGER)
          for name in ("CodeDeployHook_bluegreen_approval-request", "bluegreen-approval-callback",
                       "bluegreen-approval-worker", "bluegreen-deployment-notifier")),
    ],
    # Log groups' key: CloudWatch Logs of this account and region only.
    ("Bluegreen-Platform", "key PlatformFoundationLogsKey"): [
        ("kms:*", f"* for {ROOT}"),
        *((action, f"* for {LOGS_SERVICE}", LOG_GROUPS_OF_ACCOUNT) for action in (
            "kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*")),
    ],
    # Who may invoke: API Gateway for the two routes of each API (its stage and the console's test stage);
    # EventBridge for the notifier's two rules.
    ("Bluegreen-Platform", "invoke bluegreen-approval-callback"): [
        ("lambda:InvokeFunction",
         f"{APPROVALS_API}/{stage}/POST/slack/interactions for Service apigateway.amazonaws.com")
        for stage in ("test-invoke-stage", "v1")
    ],
    ("Bluegreen-Platform", "invoke bluegreen-deploy-api"): [
        ("lambda:InvokeFunction", f"{DEPLOY_API}/{stage}/POST/{route} for Service apigateway.amazonaws.com")
        for stage in ("test-invoke-stage", "v1") for route in ("deployments", "deployments/*/decisions")
    ],
    ("Bluegreen-Platform", "invoke bluegreen-deployment-notifier"): [
        ("lambda:InvokeFunction", "${PlatformTimelineCodeDeployStateChanges.Arn} for Service events.amazonaws.com"),
        ("lambda:InvokeFunction", "${PlatformTimelinePlatformEvents.Arn} for Service events.amazonaws.com"),
    ],
}
