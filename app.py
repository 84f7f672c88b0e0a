#!/usr/bin/env python3
"""CDK entry point: read config (embedded default, or `-c config=path.yaml`), validate, build, synth.

Configuration is parsed and validated here only; everything below receives typed values.
A bad config prints one line naming the file, the field and the fix, and exits 2 before any
construct is built.
"""
from __future__ import annotations

import os
import sys

# jsii prints a Node end-of-life banner (as Python byte strings) when aws-cdk-lib starts its Node
# runtime; silence it here, before the import, so every `cdk` command the README shows prints only
# its own output whatever the caller's environment. Supported Node versions: README "Requirements".
for _name, _value in (("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1"),
                      ("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"),
                      ("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")):
    os.environ.setdefault(_name, _value)

import aws_cdk as cdk  # noqa: E402 - after the jsii settings above

from bluegreen.config.errors import ConfigError
from bluegreen.config.loader import load_config


def main() -> int:
    app = cdk.App()
    path = app.node.try_get_context("config")
    try:
        config = load_config(path)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    from stacks.app_builder import build_app

    build_app(config, app=app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
