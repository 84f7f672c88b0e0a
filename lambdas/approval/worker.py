"""Lambda fed by the audit table's stream: tells CodeDeploy, updates Slack, answers clickers.

Handler `worker.handler` (event source mapping with ReportBatchItemFailures). Logic:
`approval_gate.worker_logic`.
"""
from approval_gate import worker_logic
from approval_gate.runtime import HOOK_CLIENT_CONFIG, LazyRuntime
from bgruntime.log import get_logger

get_logger("bgruntime")
RUNTIME = LazyRuntime(HOOK_CLIENT_CONFIG, slack_timeout=3.0)


def handler(event, context):
    return worker_logic.handle(event, RUNTIME.get())
