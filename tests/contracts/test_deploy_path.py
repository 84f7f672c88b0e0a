"""The deploy path fed by what the templates publish: the deploy API (registrar) builds the AppSpec from the
published metadata and knows domains and GitHub deployers from the platform parameter; `bgctl describe` prints
the metadata; `bgctl deploy` registers a revision of the family the stack created and starts the deployment
through the real registrar. The AppSpec must name what the domain stack created: CodeDeploy refuses a
deployment whose LoadBalancerInfo differs from the service's load balancer, and invokes only the hooks named.
"""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from .conftest import DOMAINS
from .published import ACCOUNT, PLATFORM, Deployed

SMOKE_HOOK = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:CodeDeployHook_bluegreen_smoke-tests"
APPROVAL_HOOK = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:CodeDeployHook_bluegreen_approval-request"
HOOKS = {"auth": [{"AfterAllowTestTraffic": SMOKE_HOOK}],
         **{d: [{"AfterAllowTestTraffic": SMOKE_HOOK}, {"BeforeAllowTraffic": APPROVAL_HOOK}]
            for d in ("order", "payment", "voice")}}
#: `bgctl describe D --field releaseWindow.minutes`, by hand from config/default.yaml: start and test 15
#: + approval expiry + traffic shift + termination wait + deregistration delay (min) + margin 15
RELEASE_MINUTES = {"auth": 15 + 0 + 0 + 6 + 1 + 15, "order": 15 + 45 + 5 + 6 + 1 + 15,
                   "payment": 15 + 30 + 8 + 6 + 1 + 15, "voice": 15 + 45 + 15 + 35 + 40 + 15}


@pytest.fixture(scope="module")
def registrar():
    import approval_fakes as fx

    return fx.load_registrar()


@pytest.fixture(scope="module")
def github_key():
    import oidc_fakes

    return oidc_fakes.SigningKey()


class DeployApi:
    """The registrar with moto SSM/DynamoDB and a recording CodeDeploy, called as API Gateway calls it."""

    def __init__(self, registrar: Any, aws: Any, key: Any) -> None:
        import approval_fakes as fx
        from bgruntime.github_oidc import JwksCache

        self.registrar = registrar
        self.codedeploy = fx.FakeCodeDeploy()
        self.key = key
        self.context = registrar.Context(
            platform=PLATFORM, table=f"{PLATFORM}-deployments", region="eu-west-1", ssm=aws.ssm,
            dynamodb=aws.dynamodb, codedeploy=self.codedeploy, clock=lambda: fx.T0,
            jwks=JwksCache(fetch=lambda url, timeout: json.dumps({"keys": [key.jwk()]}).encode()))

    def token(self, repository: str, actor: str = "alice") -> str:
        import approval_fakes as fx
        import oidc_fakes

        return self.key.sign(oidc_fakes.claims(fx.T0.timestamp(), repository=repository, actor=actor,
                                               sub=f"repo:{repository}:ref:refs/heads/main"))

    def post(self, body: dict[str, Any], caller: str) -> tuple[int, dict[str, Any]]:
        import approval_fakes as fx

        event = copy.deepcopy(fx.load_event("apigw_deploy_api_start.json"))
        event["requestContext"]["identity"]["userArn"] = caller
        event["body"] = json.dumps(body)
        answer = self.registrar.handle(event, self.context)
        return answer["statusCode"], json.loads(answer["body"])

    def appspec(self) -> dict[str, Any]:
        [create] = self.codedeploy.create_calls
        return json.loads(create["revision"]["appSpecContent"]["content"])


@pytest.fixture
def deploy_api(registrar, aws, github_key) -> DeployApi:
    return DeployApi(registrar, aws, github_key)


def _caller(deployed: Deployed) -> str:
    role, _ = deployed.github_deploy_role()
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/run-1"


# ------------------------------------------------------------------------------------------ the deploy API


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_deploy_api_builds_the_appspec_the_domain_stack_accepts(domain, deployed, deploy_api):
    _, repository = deployed.github_deploy_role()
    arn = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/bluegreen-{domain}:7"
    status, body = deploy_api.post({"domain": domain, "taskDefinitionArn": arn, "source": "github-actions",
                                    "reason": "release", "githubOidcToken": deploy_api.token(repository)},
                                   _caller(deployed))
    assert status == 201, body
    assert body["requester"]["verifiedBy"] == ["iam", "github-oidc"]  # the platform lists this repository
    resources = deployed.domain_resources(domain)
    [create] = deploy_api.codedeploy.create_calls
    assert (create["applicationName"], create["deploymentGroupName"]) == (resources["application"],
                                                                          resources["deploymentGroup"])
    assert deploy_api.appspec() == {
        "version": "0.0",
        "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
            "TaskDefinition": arn, "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080}}}}],
        "Hooks": HOOKS[domain]}
    assert resources["loadBalancerInfo"] == {"ContainerName": "app", "ContainerPort": 8080}


def test_the_deploy_api_knows_exactly_the_published_domains(deployed, deploy_api):
    arn = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/bluegreen-billing:1"
    status, body = deploy_api.post({"domain": "billing", "taskDefinitionArn": arn, "source": "bgctl"},
                                   _caller(deployed))
    assert (status, body["error"]["code"]) == (404, "unknown_domain")
    assert deploy_api.codedeploy.create_calls == []


def test_the_deploy_api_accepts_tokens_only_of_the_published_github_deployers(deployed, deploy_api):
    arn = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/bluegreen-order:3"
    status, body = deploy_api.post({"domain": "order", "taskDefinitionArn": arn, "source": "github-actions",
                                    "githubOidcToken": deploy_api.token("example-org/other-repo")},
                                   _caller(deployed))
    assert (status, body["error"]["code"]) == (403, "bad_attestation")
    assert deploy_api.codedeploy.create_calls == []


# ------------------------------------------------------------------------------------------------- bgctl


@pytest.fixture
def cli(monkeypatch, tmp_path):
    from bgctl_testkit import Cli

    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "CI", "BGCTL_PLATFORM",
                 "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return Cli()


@pytest.mark.parametrize("domain", DOMAINS)
def test_bgctl_describe_prints_the_published_metadata_and_its_release_window(domain, deployed, aws, cli):
    result = cli("describe", domain, "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)["data"]
    assert {k: v for k, v in document.items() if k != "releaseWindow"} == deployed.domain_metadata(domain)
    assert document["releaseWindow"]["minutes"] == RELEASE_MINUTES[domain]
    for field, expected in (("ecrRepository", f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/{domain}"),
                            ("hooks.AfterAllowTestTraffic", SMOKE_HOOK),
                            ("releaseWindow.roleDurationSeconds", str(RELEASE_MINUTES[domain] * 60))):
        answer = cli("describe", domain, "--field", field)
        assert (answer.code, answer.out.strip()) == (0, expected), answer.err


def _create_domain(aws: Any, resources: dict[str, Any], image: str) -> str:
    """What the domain stack and its first release leave in ECS, ECR and CodeDeploy, named from its template."""
    aws.ecs.create_cluster(clusterName=resources["cluster"])
    arn = aws.ecs.register_task_definition(
        family=resources["family"], networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512",
        memory="1024", containerDefinitions=[{"name": name, "image": image, "essential": name == "app"}
                                             for name in resources["containers"]],
    )["taskDefinition"]["taskDefinitionArn"]
    aws.ecs.create_service(cluster=resources["cluster"], serviceName=resources["service"], taskDefinition=arn,
                           desiredCount=2, deploymentController={"type": "CODE_DEPLOY"}, launchType="FARGATE")
    aws.ecs.create_task_set(cluster=resources["cluster"], service=resources["service"], taskDefinition=arn,
                            launchType="FARGATE")
    aws.ecr.create_repository(repositoryName=resources["repository"])
    aws.ecr.put_image(repositoryName=resources["repository"], imageTag="v2", imageManifest=json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "config": {"digest": "sha256:v2"}, "layers": []}))
    aws.codedeploy.create_application(applicationName=resources["application"], computePlatform="ECS")
    aws.codedeploy.create_deployment_group(
        applicationName=resources["application"], deploymentGroupName=resources["deploymentGroup"],
        serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"serviceName": resources["service"], "clusterName": resources["cluster"]}])
    return arn


@pytest.mark.parametrize("domain", ["auth", "order"])
def test_bgctl_deploy_registers_a_revision_and_starts_it_through_the_real_registrar(domain, deployed, aws, cli,
                                                                                    deploy_api):
    """The pipeline's path: the image goes to the published ECR repository; bgctl registers a revision of the
    stack's family from the running one (new image in the published container) and asks the deploy API (here
    the real registrar behind a local HTTP server), which starts CodeDeploy with the AppSpec above."""
    from deploy_api_fake import DeployApiFake

    resources = deployed.domain_resources(domain)
    metadata = deployed.domain_metadata(domain)
    _create_domain(aws, resources, image=f"{metadata['ecrRepository']}:v1")
    server = DeployApiFake(registrar=lambda body: deploy_api.post(body, _caller(deployed)))
    try:
        # the deploy API's URL is the only value not taken as published: it points at the local server
        aws.ssm.put_parameter(Name=f"/{PLATFORM}/platform", Type="String", Overwrite=True,
                              Value=json.dumps({**deployed.platform_parameter(), "deployApiUrl": server.url}))
        image = f"{metadata['ecrRepository']}:v2"
        result = cli("deploy", domain, "--image", image, "--wait-until", "started")
    finally:
        server.close()

    assert result.code == 0, result.err
    new_arn = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/bluegreen-{domain}:2"
    registered = aws.ecs.describe_task_definition(taskDefinition=new_arn)["taskDefinition"]
    assert {c["name"]: c["image"] for c in registered["containerDefinitions"]} == {
        "app": image, "appconfig-agent": f"{metadata['ecrRepository']}:v1"}
    assert deploy_api.appspec() == {
        "version": "0.0",
        "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
            "TaskDefinition": new_arn, "LoadBalancerInfo": resources["loadBalancerInfo"]}}}],
        "Hooks": HOOKS[domain]}
