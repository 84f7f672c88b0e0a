"""The platform's release provider: CloudFormation custom resources that go through CodeDeploy.

One Provider-framework service token serves four resource types (see `resources.py`); every handler is a pure
function of the event, injected AWS clients and a clock, so tests drive it without AWS.
"""
