#!/usr/bin/env python3
"""CDK entry point: read config (embedded default, or `-c config=path.yaml`), validate, build, synth.

Configuration is parsed and validated here only; everything below receives typed values.
A bad config prints one line naming the file, the field and the fix, and exits 2 before any
construct is built.
"""
from __future__ import annotations

import sys

import aws_cdk as cdk

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
