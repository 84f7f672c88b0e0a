"""The deployment trigger tells CloudFormation the truth: a container change ends with the stack updated and
production on the new revision, or the stack rolled back and production on the old one (issue: day-2 safety,
item 4). Each scenario drives on_event / is_complete against in-memory CodeDeploy and ECS."""
from __future__ import annotations

import json

import pytest

from fakes import FakeCodeDeploy, FakeDeployApi, FakeEcs, task_definition_arn
from release import deployments, resources
from release.outcome import Refused, ReleaseFailed

TRIGGER = "Custom::CodeDeployBlueGreenDeployment"
WAITER = "Custom::CodeDeployDeploymentWaiter"
HOOKS = {"AfterAllowTestTraffic": "arn:aws:lambda:eu-west-1:111122223333:function:CodeDeployHook_p_smoke-tests"}
NOW = 1_800_000_000.0


def props(td: str, image: str = "repo/shop:1", *, last: bool = True, budget: int = 50) -> dict:
    return {"ServiceToken": "arn:token", "Domain": "shop", "StackName": "P-Domain-shop",
            "ApplicationName": "p-shop", "DeploymentGroupName": "p-shop", "ClusterName": "p-cluster",
            "ServiceName": "p-shop", "TaskDefinitionArn": td, "ContainerName": "app", "ContainerPort": "8080",
            "ConfigImage": image, "Hooks": HOOKS, "WaitBudgetMinutes": str(budget), "Last": str(last).lower()}


def event(request: str, new: dict, old: dict | None = None) -> dict:
    found = {"RequestType": request, "ResourceType": TRIGGER, "ResourceProperties": new,
             "LogicalResourceId": "DomainReleaseDeploymentTriggerRelease", "RequestId": "r-1",
             "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/P-Domain-shop/1"}
    if request != "Create":
        found["PhysicalResourceId"] = "p-shop/p-shop"
    if old is not None:
        found["OldResourceProperties"] = old
    return found


class World:
    """A domain whose service runs revision 1 (config image repo/shop:1) before each scenario."""

    def __init__(self) -> None:
        self.codedeploy = FakeCodeDeploy()
        self.deploy_api = FakeDeployApi(self.codedeploy)
        self.ecs = FakeEcs()
        self.rev1 = self.ecs.add("p-shop", 1, "repo/shop:1")
        self.ecs.live = self.rev1

    def clients(self, service: str):
        return {"codedeploy": self.codedeploy, "ecs": self.ecs, "deploy_api": self.deploy_api}[service]

    def on_event(self, evt: dict, now: float = NOW) -> dict:
        return resources.on_event(evt, self.clients, now)

    def is_complete(self, evt: dict, started: dict, now: float = NOW) -> dict:
        return resources.is_complete({**evt, **started}, self.clients, now)


@pytest.fixture
def world() -> World:
    return World()


def api_requests(world: World) -> list[dict]:
    """What the trigger asked the deploy API to start (it never calls CreateDeployment itself)."""
    assert "create_deployment" not in world.codedeploy.names()
    return world.deploy_api.calls


def test_create_deploys_nothing_the_new_service_already_runs_it(world):
    result = world.on_event(event("Create", props(world.rev1)))
    assert result["PhysicalResourceId"] == "p-shop/p-shop"
    assert result["Data"]["Action"] == "created" and result["Data"]["TaskDefinitionArn"] == world.rev1
    assert api_requests(world) == []
    assert world.is_complete(event("Create", props(world.rev1)), result)["IsComplete"] is True


def test_a_config_image_change_releases_the_stack_revision_and_waits_until_codedeploy_succeeds(world):
    rev2 = world.ecs.add("p-shop", 2, "repo/shop:2")
    evt = event("Update", props(rev2, "repo/shop:2"), props(world.rev1, "repo/shop:1"))
    started = world.on_event(evt)
    assert started["Data"]["Action"] == "deploy" and started["Data"]["TaskDefinitionArn"] == rev2
    (request,) = api_requests(world)
    assert (request["domain"], request["task_definition_arn"], request["kind"], request["source"]) == (
        "shop", rev2, "release", "cloudformation")
    assert request["stack_id"] == "arn:aws:cloudformation:eu-west-1:111122223333:stack/P-Domain-shop/1"
    assert "register_task_definition" not in [name for name, _ in world.ecs.calls]
    deployment_id = started["Data"]["DeploymentId"]
    world.codedeploy.set_status(deployment_id, "InProgress")
    assert world.is_complete(evt, started, NOW + 600) == {"IsComplete": False}
    world.codedeploy.set_status(deployment_id, "Succeeded")
    done = world.is_complete(evt, started, NOW + 1200)
    assert done["IsComplete"] is True and done["Data"]["TaskDefinitionArn"] == rev2


def test_the_reason_carries_what_later_events_read_back_from_the_deployment(world):
    """The registrar writes the reason into the deployment's description; a CloudFormation rollback or a delete
    reads the tokens back to find this stack's own deployment and what ran before it."""
    rev2 = world.ecs.add("p-shop", 2, "repo/shop:2")
    result = world.on_event(event("Update", props(rev2, "repo/shop:2"), props(world.rev1)))
    (request,) = api_requests(world)
    assert len(request["reason"]) <= 300  # the deploy API's limit
    description = world.codedeploy.deployments[result["Data"]["DeploymentId"]]["description"]
    assert deployments.parse_tokens(description) == {
        "source": "cloudformation", "stack": "P-Domain-shop", "cfn-revision": "p-shop:2",
        "from-revision": "p-shop:1", "previous": "p-shop:1", "image": "repo/shop:2"}


def test_an_env_change_keeps_the_image_the_pipeline_shipped(world):
    """Production runs revision 5 with the pipeline's image repo/shop:9; a config env change must not revert it."""
    pipeline = world.ecs.add("p-shop", 5, "repo/shop:9")
    world.ecs.live = pipeline
    rev6 = world.ecs.add("p-shop", 6, "repo/shop:1", {"FEATURE_X": "on"})  # what CloudFormation registered
    started = world.on_event(event("Update", props(rev6, "repo/shop:1"), props(world.rev1, "repo/shop:1")))
    (name, registered), = [c for c in world.ecs.calls if c[0] == "register_task_definition"]
    app = next(c for c in registered["containerDefinitions"] if c["name"] == "app")
    assert app["image"] == "repo/shop:9" and app["environment"] == [{"name": "FEATURE_X", "value": "on"}]
    assert registered["family"] == "p-shop" and "tags" not in registered
    derived = task_definition_arn("p-shop", 7)
    assert started["Data"]["TaskDefinitionArn"] == derived
    assert [r["task_definition_arn"] for r in world.deploy_api.calls] == [derived]


def test_a_config_image_change_wins_over_the_pipeline_image(world):
    world.ecs.live = world.ecs.add("p-shop", 5, "repo/shop:9")
    rev6 = world.ecs.add("p-shop", 6, "repo/shop:10")
    started = world.on_event(event("Update", props(rev6, "repo/shop:10"), props(world.rev1, "repo/shop:1")))
    assert started["Data"]["TaskDefinitionArn"] == rev6
    assert "register_task_definition" not in [name for name, _ in world.ecs.calls]


def test_an_in_flight_deployment_refuses_at_once_and_changes_nothing(world):
    busy = world.codedeploy.add("InProgress", "Deploy shop | requester=github:alice source=bgctl")
    rev2 = world.ecs.add("p-shop", 2, "repo/shop:2")
    with pytest.raises(Refused, match=f"{busy} .*in flight.*changed nothing.*bgctl watch {busy}"):
        world.on_event(event("Update", props(rev2, "repo/shop:2"), props(world.rev1)))
    assert api_requests(world) == []
    assert [name for name, _ in world.ecs.calls if name == "register_task_definition"] == []


def test_the_deploy_api_refusing_a_second_deployment_is_a_clear_refusal(world):
    from bgruntime.deploy_api_client import Conflict, Forbidden

    world.deploy_api.refuse_with = Conflict("deployment_in_flight", "busy", body={"deploymentId": "d-OTHER0001"})
    rev2 = world.ecs.add("p-shop", 2, "repo/shop:2")
    with pytest.raises(Refused, match="d-OTHER0001 is in flight .*changed nothing"):
        world.on_event(event("Update", props(rev2, "repo/shop:2"), props(world.rev1)))
    world.deploy_api.refuse_with = Forbidden("forbidden", "not the release provider's role")
    with pytest.raises(Refused, match="refused the release \\(forbidden: not the release provider's role\\); "
                                      "nothing started"):
        world.on_event(event("Update", props(rev2, "repo/shop:2"), props(world.rev1)))


def test_a_failed_release_fails_the_resource_once_production_is_back(world):
    rev2 = world.ecs.add("p-shop", 2, "repo/shop:2")
    evt = event("Update", props(rev2, "repo/shop:2"), props(world.rev1))
    started = world.on_event(evt)
    deployment_id = started["Data"]["DeploymentId"]
    world.codedeploy.set_status(deployment_id, "Failed", error="smoke checks failed", rollback_status="InProgress")
    assert world.is_complete(evt, started) == {"IsComplete": False}  # CodeDeploy still rolling back
    rollback_id = world.codedeploy.deployments[deployment_id]["rollbackInfo"]["rollbackDeploymentId"]
    world.codedeploy.set_status(rollback_id, "Succeeded")
    with pytest.raises(ReleaseFailed, match=f"{deployment_id} failed: HEALTH_CONSTRAINTS smoke checks failed. "
                                            "Production runs p-shop:1 again"):
        world.is_complete(evt, started)


def test_cloudformation_rolling_back_a_failed_release_does_nothing(world):
    rev2 = world.ecs.add("p-shop", 2, "repo/shop:2")
    forward = event("Update", props(rev2, "repo/shop:2"), props(world.rev1))
    started = world.on_event(forward)
    world.codedeploy.set_status(started["Data"]["DeploymentId"], "Failed")
    rollback = event("Update", props(world.rev1, "repo/shop:1"), props(rev2, "repo/shop:2"))
    result = world.on_event(rollback)
    assert result["Data"]["Action"] == "none" and "already returned production to p-shop:1" in result["Data"]["Reason"]
    assert len(api_requests(world)) == 1  # only the forward release
    assert world.is_complete(rollback, result)["IsComplete"] is True


def test_rolling_back_while_the_release_is_still_running_stops_it(world):
    """E.g. the last waiter's budget ran out: CloudFormation rolls back, the rollback stops the deployment."""
    rev2 = world.ecs.add("p-shop", 2, "repo/shop:2")
    started = world.on_event(event("Update", props(rev2, "repo/shop:2"), props(world.rev1)))
    deployment_id = started["Data"]["DeploymentId"]
    world.codedeploy.set_status(deployment_id, "InProgress")
    rollback = event("Update", props(world.rev1, "repo/shop:1"), props(rev2, "repo/shop:2"))
    result = world.on_event(rollback)
    assert ("stop_deployment", {"deploymentId": deployment_id, "autoRollbackEnabled": True}) in world.codedeploy.calls
    assert result["Data"]["Action"] == "stop"
    assert world.is_complete(rollback, result) == {"IsComplete": False}
    world.codedeploy.set_status(deployment_id, "Stopped")
    assert world.is_complete(rollback, result)["IsComplete"] is True


def test_rolling_back_after_a_successful_release_restores_what_ran_before(world):
    """Another resource of the stack failed after the release succeeded: production must follow the stack back."""
    world.ecs.live = world.ecs.add("p-shop", 5, "repo/shop:9")
    rev6 = world.ecs.add("p-shop", 6, "repo/shop:10")
    started = world.on_event(event("Update", props(rev6, "repo/shop:10"), props(world.rev1, "repo/shop:1")))
    world.codedeploy.set_status(started["Data"]["DeploymentId"], "Succeeded")
    world.ecs.live = rev6
    rollback = event("Update", props(world.rev1, "repo/shop:1"), props(rev6, "repo/shop:10"))
    result = world.on_event(rollback)
    assert result["Data"]["Action"] == "deploy" and result["Data"]["TaskDefinitionArn"] == task_definition_arn("p-shop", 5)
    restore = api_requests(world)[-1]
    # Back to what ran in production before: a rollback (all at once; the approval gate's rollback rule applies).
    assert (restore["task_definition_arn"], restore["kind"]) == (task_definition_arn("p-shop", 5), "rollback")


def test_nothing_to_release_when_the_revision_did_not_change(world):
    result = world.on_event(event("Update", props(world.rev1, "repo/shop:1"), props(world.rev1, "repo/shop:1")))
    assert result["Data"]["Action"] == "none" and "did not change" in result["Data"]["Reason"]
    assert api_requests(world) == []


def test_nothing_to_release_when_production_already_runs_the_same_content(world):
    same = world.ecs.add("p-shop", 2, "repo/shop:1")  # e.g. a tag-only change re-registered the revision
    result = world.on_event(event("Update", props(same, "repo/shop:1"), props(world.rev1, "repo/shop:1")))
    assert result["Data"]["Action"] == "none" and "already runs this (p-shop:1)" in result["Data"]["Reason"]


def test_deleting_the_stack_stops_only_its_own_deployment(world):
    mine = world.codedeploy.add("InProgress", "x | source=cloudformation stack=P-Domain-shop")
    world.codedeploy.add("InProgress", "y | source=bgctl requester=github:alice")
    result = world.on_event(event("Delete", props(world.rev1)))
    stops = [r for n, r in world.codedeploy.calls if n == "stop_deployment"]
    assert stops == [{"deploymentId": mine, "autoRollbackEnabled": True}]
    assert result["Data"]["Action"] == "stop" and result["Data"]["DeploymentId"] == mine


def test_the_wait_hands_over_to_the_next_waiter_then_fails_at_the_end_of_the_chain(world):
    rev2 = world.ecs.add("p-shop", 2, "repo/shop:2")
    evt = event("Update", props(rev2, "repo/shop:2", last=False), props(world.rev1))
    started = world.on_event(evt)
    deployment_id = started["Data"]["DeploymentId"]
    world.codedeploy.set_status(deployment_id, "InProgress")  # e.g. waiting for a Slack approval
    assert world.is_complete(evt, started, NOW + 49 * 60) == {"IsComplete": False}
    handed = world.is_complete(evt, started, NOW + 50 * 60)
    assert handed["IsComplete"] is True and handed["Data"]["HandedOver"] == "true"

    waiter_props = {"Domain": "shop", "DeploymentId": deployment_id, "WaitBudgetMinutes": "50", "Last": "true"}
    waiter_event = {"RequestType": "Update", "ResourceType": WAITER, "ResourceProperties": waiter_props,
                    "LogicalResourceId": "Waiter1", "PhysicalResourceId": "shop/waiter/Waiter1"}
    waiting = resources.on_event(waiter_event, world.clients, NOW + 3000)
    assert waiting["Data"]["Action"] == "wait"
    assert resources.is_complete({**waiter_event, **waiting}, world.clients, NOW + 3000 + 1200) == {"IsComplete": False}
    with pytest.raises(ReleaseFailed, match="still InProgress after this stack's whole wait budget"):
        resources.is_complete({**waiter_event, **waiting}, world.clients, NOW + 3000 + 50 * 60)


def test_a_waiter_without_a_deployment_completes_at_once(world):
    waiter_event = {"RequestType": "Update", "ResourceType": WAITER, "LogicalResourceId": "Waiter1",
                    "ResourceProperties": {"Domain": "shop", "DeploymentId": "none", "WaitBudgetMinutes": "50",
                                           "Last": "true"}}
    result = resources.on_event(waiter_event, world.clients, NOW)
    assert resources.is_complete({**waiter_event, **result}, world.clients, NOW)["IsComplete"] is True


def test_malformed_properties_fail_with_the_property_name(world):
    broken = props(world.rev1)
    broken["ContainerPort"] = "eighty"
    with pytest.raises(ValueError, match="ContainerPort must be a whole number"):
        world.on_event(event("Create", broken))


def test_an_unknown_resource_type_is_refused(world):
    with pytest.raises(resources.UnknownResourceType, match="Custom::Nope"):
        resources.on_event({"RequestType": "Create", "ResourceType": "Custom::Nope", "ResourceProperties": {}},
                           world.clients, NOW)
