"""Lambda invoked by the one-shot EventBridge Scheduler schedule at the approval's `expiresAt`.

Handler `expiry.handler`, event `{"deploymentId": "d-..."}`. PENDING -> EXPIRED, CodeDeploy told
Failed, Slack message updated; a no-op when already decided. Logic: `approval_gate.expiry_logic`.
An exception (e.g. DynamoDB unavailable) fails the invocation so that the scheduler retries it.
"""
from approval_gate import expiry_logic
from approval_gate.runtime import HOOK_CLIENT_CONFIG, LazyRuntime
from bgruntime.log import get_logger

get_logger("bgruntime")  # library warnings as structured JSON too
RUNTIME = LazyRuntime(HOOK_CLIENT_CONFIG, slack_timeout=3.0)


def handler(event, context):
    return expiry_logic.handle(event, RUNTIME.get())
