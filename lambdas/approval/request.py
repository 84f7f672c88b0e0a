"""Lambda `CodeDeployHook_<platform>_approval-request`: the BeforeAllowTraffic hook.

Handler `request.handler`. Records the PENDING approval, posts the Slack request, schedules the
expiry and returns at once; the decision arrives through `callback.handler` (or bgctl / expiry).
Logic: `approval_gate.request_logic`.
"""
from approval_gate import request_logic
from approval_gate.runtime import HOOK_CLIENT_CONFIG, LazyRuntime
from bgruntime.log import get_logger

get_logger("bgruntime")  # library warnings as structured JSON too
RUNTIME = LazyRuntime(HOOK_CLIENT_CONFIG, slack_timeout=3.0)


def handler(event, context):
    return request_logic.handle(event, RUNTIME.get())
