"""Logic of the Slack approval gate (BeforeAllowTraffic), shared by the three handlers in this asset.

`request.py`, `callback.py` and `expiry.py` (one Lambda each, same asset directory) stay thin and
delegate here. Modules: `runtime` (env settings, lazy boto3 clients, secrets, Slack client),
`messages` (Block Kit, pure), `request_logic`, `callback_logic`, `expiry_logic`.
"""
