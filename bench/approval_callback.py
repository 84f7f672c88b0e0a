"""Benchmark of the Slack approval callback's ack time (prints figures; never asserts).

    .venv/bin/python bench/approval_callback.py [--clicks 100] [--latency 1.0] [--threads 1]

Every AWS call (moto DynamoDB and Secrets Manager, through a botocore `before-send` hook) and every Slack
call (the local Slack HTTP server used by the tests) gets `--latency` seconds of injected delay. Measured:
the wall time of `callback_logic.handle` (what Slack waits for) per signed click, for

  - approve (warm):   a fresh request per click, approver in the recorded list; Query + TransactWriteItems
  - refused (warm):   a non-approver; Query + PutItem of the refusal record
  - approve (cold):   the signing-secret cache emptied before each click; secret and Query side by side
  - live group check: members not recorded at request time, so the clicker's group is asked on Slack
                      (budgeted: refused with "try again" rather than missing Slack's 3 s)
  - forged:           bad signature, refused before any AWS call

Clicks run one at a time by default, like Lambda (one request per container). `--threads N` shortens the run
but adds moto's own contention (its TransactWriteItems deep-copies the tables under the GIL), which is an
artefact of the fake, not of DynamoDB.
The worker's work after the ack (CodeDeploy, chat.update, chat.postEphemeral) is not on this path.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.update({"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench",
                   "AWS_SECRET_ACCESS_KEY": "bench", "AWS_EC2_METADATA_DISABLED": "true"})
sys.path.insert(0, str(REPO / "tests" / "approval"))  # the test doubles (plain module, unique name)

import approval_fakes as fx  # noqa: E402

fx.load_approval_modules()
for _name in ("approval.callback", "approval.request", "approval.expiry", "approval.worker", "bgruntime"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    over = sum(1 for s in ordered if s >= 3000)
    return (f"p50 {pick(0.50):7.0f} ms  p95 {pick(0.95):7.0f} ms  p99 {pick(0.99):7.0f} ms  max {ordered[-1]:7.0f} ms"
            f"  >=3 s: {over}/{len(ordered)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=100)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import boto3
    from moto import mock_aws

    from approval_gate import callback_logic
    from approval_gate.runtime import CALLBACK_CLIENT_CONFIG, Runtime, Settings
    from bgruntime import secrets

    slack = fx.FakeSlack()
    for method in ("usergroups.users.list", "chat.update", "chat.postEphemeral", "chat.postMessage"):
        slack.delays[method] = args.latency
    slack.usergroups["S0RELEASE"] = ["U0CAROL"]
    with mock_aws():
        session = boto3.session.Session(region_name="eu-west-1")
        dynamodb, secretsmanager = session.client("dynamodb"), session.client("secretsmanager")
        signing = secretsmanager.create_secret(Name="s", SecretString=fx.SIGNING_SECRET)["ARN"]
        token = secretsmanager.create_secret(Name="t", SecretString=fx.BOT_TOKEN)["ARN"]
        clock = fx.Clock()
        latency = {"seconds": 0.0}

        def delay(**_: object) -> None:
            if latency["seconds"]:
                time.sleep(latency["seconds"])

        for client in (dynamodb, secretsmanager):
            client.meta.events.register("before-send", delay)
        runtime = Runtime(Settings(platform="bluegreen", ssm_prefix="/bluegreen", table=fx.TABLE, region="eu-west-1",
                                   slack_base_url=slack.base_url, signing_secret_arn=signing,
                                   bot_token_secret_arn=token),
                          clients={"dynamodb": dynamodb, "secretsmanager": secretsmanager},
                          client_config=CALLBACK_CLIENT_CONFIG, clock=clock, slack_timeout=1.0)

        def fresh_requests(count: int, members: list[str] | None) -> list[str]:
            """A new, small table per scenario: moto's TransactWriteItems deep-copies every table, so a big one
            would measure moto rather than the callback."""
            saved, latency["seconds"] = latency["seconds"], 0.0
            try:
                dynamodb.delete_table(TableName=fx.TABLE)
            except dynamodb.exceptions.ResourceNotFoundException:
                pass
            fx.create_table(dynamodb)
            ids = [f"d-BENCH{index:05d}" for index in range(count)]
            for deployment_id in ids:
                fx.seed_request(dynamodb, clock, deployment_id, approverMembers=members)
            latency["seconds"] = saved
            return ids

        def timed(event: dict, cold: bool = False) -> float:
            if cold:
                secrets.clear_cache()
            started = time.perf_counter()
            callback_logic.handle(event, runtime)
            return (time.perf_counter() - started) * 1000

        def run(label: str, events: list[dict], cold: bool = False) -> None:
            with ThreadPoolExecutor(max_workers=1 if cold else args.threads) as pool:
                samples = list(pool.map(lambda e: timed(e, cold), events))
            print(f"  {label:18s} {percentiles(samples)}")

        def clicks(user: str, ids: list[str]) -> list[dict]:
            return [fx.click_event(clock, user_id=user, deployment_id=i) for i in ids]

        secrets.get_secret(signing, client=secretsmanager)  # a warm container
        print("baseline without injected latency (the fakes' own cost: moto, local Slack, Python):")
        run("approve (warm)", clicks("U0BOB", fresh_requests(args.clicks, ["U0CAROL"])))
        latency["seconds"] = args.latency
        print(f"ack time of callback.handle with {args.latency:.1f} s injected on every AWS and Slack call "
              f"({args.clicks} clicks each):")
        run("approve (warm)", clicks("U0BOB", fresh_requests(args.clicks, ["U0CAROL"])))
        run("refused (warm)", clicks("U0STRANGER", fresh_requests(args.clicks, ["U0CAROL"])))
        run("live group check", clicks("U0CAROL", fresh_requests(args.clicks, None)))
        run("click (cold)", clicks("U0BOB", fresh_requests(min(args.clicks, 20), ["U0CAROL"])), cold=True)
        forged = [fx.apigw_event(fx.form_body(fx.block_actions_payload()), timestamp=clock.epoch(), secret="forged")
                  for _ in range(args.clicks)]
        run("forged", forged)
    slack.close()


if __name__ == "__main__":
    main()
