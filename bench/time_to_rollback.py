#!/usr/bin/env python3
"""Print each domain's time from a bad release to CodeDeploy's rollback decision, read from the
synthesized alarms in cdk.out/ (run `make synth` first). Prints figures; asserts nothing.

decision time = Period x DatapointsToAlarm of the fastest alarm (the first bad minute to ALARM);
CloudWatch publishes ALB metrics about a minute late, so add up to ~60 s in practice.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")


def alarm_seconds(props: dict) -> int:
    period = props.get("Period") or max(m.get("MetricStat", {}).get("Period", 0) for m in props.get("Metrics", []))
    return int(period) * int(props.get("DatapointsToAlarm") or props["EvaluationPeriods"])


def main() -> int:
    templates = sorted(OUT.glob("*-Domain-*.template.json"))
    if not templates:
        print(f"no domain templates in {OUT}: run `make synth` first", file=sys.stderr)
        return 1
    print("| domain | rollback alarms | fastest decision | slowest decision |")
    print("|---|---|---|---|")
    for path in templates:
        resources = json.loads(path.read_text())["Resources"].values()
        alarms = {r["Properties"]["AlarmName"]: alarm_seconds(r["Properties"])
                  for r in resources if r["Type"] == "AWS::CloudWatch::Alarm" and "AlarmName" in r["Properties"]}
        domain = path.name.split("-Domain-")[1].removesuffix(".template.json")
        print(f"| {domain} | {len(alarms)} | {min(alarms.values())} s | {max(alarms.values())} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
