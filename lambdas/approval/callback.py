"""Lambda behind API Gateway `POST /slack/interactions`: Slack Approve / Reject clicks.

Handler `callback.handler`. Verifies the Slack signature, authorizes the clicker, records the
decision once (`bgruntime.approvals.decide`) and answers Slack within 3 s; never 5xx.
Logic: `approval_gate.callback_logic`.
"""
from approval_gate import callback_logic
from approval_gate.runtime import CALLBACK_CLIENT_CONFIG, LazyRuntime
from bgruntime.log import get_logger

get_logger("bgruntime")  # library warnings as structured JSON too
RUNTIME = LazyRuntime(CALLBACK_CLIENT_CONFIG, slack_timeout=1.0)


def handler(event, context):
    return callback_logic.handle(event, RUNTIME.get())
