"""The Lambda asset: stdlib + boto3 + the bgruntime layer only, handlers importable without boto3."""
from __future__ import annotations

import ast
import os
import subprocess
import sys

import approval_fakes as fx

ALLOWED = set(sys.stdlib_module_names) | {"boto3", "botocore", "bgruntime", "approval_gate", "registrar"}


def _python_files():
    for directory in (fx.APPROVAL_DIR, fx.DEPLOY_API_DIR, fx.LAYER_DIR / "bgruntime"):
        yield from directory.rglob("*.py")


def test_only_stdlib_boto3_and_layer_imports():
    for path in _python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path}: imports {name}"


def test_handlers_import_without_boto3():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fx.APPROVAL_DIR), str(fx.LAYER_DIR)]),
           "PYTHONDONTWRITEBYTECODE": "1"}
    code = ("import sys, request, callback, expiry, worker\n"
            "assert all(callable(m.handler) for m in (request, callback, expiry, worker))\n"
            "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=fx.APPROVAL_DIR.parent)
    assert out.stdout.strip() == "[]"


def test_deploy_api_handler_imports_without_boto3():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fx.DEPLOY_API_DIR), str(fx.LAYER_DIR)]),
           "PYTHONDONTWRITEBYTECODE": "1"}
    code = ("import sys, handler\nassert callable(handler.handler)\n"
            "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=fx.DEPLOY_API_DIR.parent)
    assert out.stdout.strip() == "[]"
