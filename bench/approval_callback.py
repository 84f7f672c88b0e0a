"""Benchmark of the Slack approval callback (prints figures; never asserts).

    .venv/bin/python bench/approval_callback.py [--requests 1000]

In-process latency of `callback_logic.handle` over N signed Slack requests, against moto
(DynamoDB, Secrets Manager), a thread-safe in-memory CodeDeploy fake and the local Slack HTTP
server used by the tests:
  - approve:  a fresh PENDING request per click (full path: verify, read, authorize, GetDeployment,
              conditional write, PutLifecycleEventHookExecutionStatus, result write, event, chat.update)
  - repeat:   a second click on an already decided request (read + refusal)
  - forged:   a bad signature (refused before any AWS call)
plus the cold import time of the three handler modules in a fresh interpreter (no boto3 at import)
and, for context, the cost of the first boto3 import and of one moto GetItem.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.update({"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench",
                   "AWS_SECRET_ACCESS_KEY": "bench", "AWS_EC2_METADATA_DISABLED": "true"})
sys.path.insert(0, str(REPO / "tests" / "approval"))  # the test doubles (plain module, unique name)

import approval_fakes as fx  # noqa: E402

fx.load_approval_modules()
for _name in ("approval.callback", "approval.request", "approval.expiry", "bgruntime"):  # keep the output readable
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    return (f"p50 {pick(0.50):6.2f} ms   p95 {pick(0.95):6.2f} ms   p99 {pick(0.99):6.2f} ms   "
            f"max {ordered[-1]:6.2f} ms   (n={len(ordered)})")


def cold_import(runs: int = 5) -> None:
    """Fresh interpreters importing the handlers from a copy of the asset + layer without any
    __pycache__ and with bytecode writing off: like a Lambda zip of sources, every import compiles."""
    with tempfile.TemporaryDirectory() as tmp:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(REPO / "lambdas" / "approval", Path(tmp) / "task", ignore=ignore)
        shutil.copytree(REPO / "lambdas" / "layer" / "python", Path(tmp) / "opt", ignore=ignore)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(tmp) / "task"), str(Path(tmp) / "opt")]),
               "PYTHONDONTWRITEBYTECODE": "1"}
        for module in ("callback", "request", "expiry"):
            walls = []
            for _ in range(runs):
                out = subprocess.run([sys.executable, "-S", "-c",
                                      f"import time; t = time.perf_counter(); import {module}, sys; "
                                      "print((time.perf_counter() - t) * 1000, 'boto3' in sys.modules)"],
                                     env=env, capture_output=True, text=True, check=True, cwd=tmp)
                wall, boto = out.stdout.split()
                walls.append(float(wall))
            lines = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", f"import {module}"], env=env,
                                   capture_output=True, text=True, check=True, cwd=tmp).stderr.splitlines()
            own = next(line for line in reversed(lines) if line.rstrip().endswith(f"| {module}"))
            print(f"  cold import {module:8s}: median {statistics.median(walls):6.1f} ms wall over {runs} fresh "
                  f"interpreters (sources compiled); -X importtime cumulative {int(own.split('|')[1]) / 1000:6.1f} ms; "
                  f"boto3 imported: {boto}")
    out = subprocess.run([sys.executable, "-c", "import time; t = time.perf_counter(); import boto3; "
                          "s = boto3.session.Session(region_name='eu-west-1'); c = s.client('dynamodb'); "
                          "print((time.perf_counter() - t) * 1000)"], capture_output=True, text=True,
                         check=True, cwd=REPO)
    print(f"  first invocation extra: import boto3 + first client {float(out.stdout):6.1f} ms "
          "(paid once per container, on the first request)")


def latency(requests: int) -> None:
    import boto3
    from moto import mock_aws

    from approval_gate import callback_logic
    from approval_gate.runtime import CALLBACK_CLIENT_CONFIG, Runtime, Settings
    from bgruntime import approvals

    slack = fx.FakeSlack()
    clock = fx.Clock()
    try:
        with mock_aws():
            session = boto3.session.Session(region_name="eu-west-1")
            dynamodb, sm = session.client("dynamodb"), session.client("secretsmanager")
            fx.create_table(dynamodb)
            signing = sm.create_secret(Name="signing", SecretString=fx.SIGNING_SECRET)["ARN"]
            token = sm.create_secret(Name="token", SecretString=fx.BOT_TOKEN)["ARN"]
            codedeploy, events = fx.FakeCodeDeploy(), fx.FakeEvents()
            settings = Settings(platform=fx.PLATFORM, ssm_prefix=f"/{fx.PLATFORM}", table=fx.TABLE,
                                region="eu-west-1", slack_base_url=slack.base_url, signing_secret_arn=signing,
                                bot_token_secret_arn=token)
            rt = Runtime(settings, clients={"dynamodb": dynamodb, "secretsmanager": sm, "codedeploy": codedeploy,
                                            "events": events}, client_config=CALLBACK_CLIENT_CONFIG, clock=clock)
            ids = [f"d-BENCH{index:05d}" for index in range(requests)]
            # the PENDING items exactly as create_pending writes them (+ the posted message), in batches
            approvals.create_pending(**fx.pending_item(clock, deployment_id="d-TEMPLATE01"), dynamodb=dynamodb)
            template = approvals.get_approval(table_name=fx.TABLE, deployment_id="d-TEMPLATE01", dynamodb=dynamodb)
            template.update(slackChannel=fx.CHANNEL, slackTs="1900000001.000100")
            for start in range(0, requests, 25):
                batch = []
                for deployment_id in ids[start:start + 25]:
                    codedeploy.add(deployment_id)
                    item = dict(template, pk=f"DEPLOYMENT#{deployment_id}", deploymentId=deployment_id)
                    batch.append({"PutRequest": {"Item": {k: approvals.to_attr(v) for k, v in item.items()}}})
                dynamodb.batch_write_item(RequestItems={fx.TABLE: batch})

            def run(make_event, label: str) -> None:
                events_ = [make_event(i) for i in range(requests)]
                samples, statuses = [], {}
                for event in events_:
                    started = time.perf_counter()
                    response = callback_logic.handle(event, rt)
                    samples.append((time.perf_counter() - started) * 1000)
                    statuses[response["statusCode"]] = statuses.get(response["statusCode"], 0) + 1
                print(f"  {label:8s}: {percentiles(samples)}  statuses {statuses}")

            # one warm-up click (secret fetch, connection set-up) on a request of its own
            codedeploy.add("d-WARMUP0001")
            approvals.create_pending(**fx.pending_item(clock, deployment_id="d-WARMUP0001"), dynamodb=dynamodb)
            callback_logic.handle(fx.click_event(clock, deployment_id="d-WARMUP0001"), rt)

            run(lambda i: fx.click_event(clock, user_id="U0BOB", deployment_id=ids[i]), "approve")
            run(lambda i: fx.click_event(clock, user_id="U0BOB", deployment_id=ids[i]), "repeat")
            run(lambda i: fx.apigw_event(fx.form_body(fx.block_actions_payload(deployment_id=ids[i])),
                                         timestamp=clock.epoch(), secret="forged"), "forged")
            print(f"  CodeDeploy status calls: {len(codedeploy.put_calls)} (one per approved request + warm-up); "
                  f"chat.update calls: {len(slack.calls_to('chat.update'))}")
            samples = []
            for deployment_id in ids[:200]:
                started = time.perf_counter()
                dynamodb.get_item(TableName=fx.TABLE, Key=approvals.approval_key(deployment_id))
                samples.append((time.perf_counter() - started) * 1000)
            print(f"  context : one moto GetItem {percentiles(samples)}")
    finally:
        slack.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    print(f"approval callback bench (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print("cold import (fresh interpreter, Lambda-like sys.path: asset dir + layer):")
    cold_import()
    print(f"in-process latency over {args.requests} signed requests (moto + local Slack server + CodeDeploy fake):")
    latency(args.requests)


if __name__ == "__main__":
    main()
