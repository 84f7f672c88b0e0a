"""Import the Lambda assets the safety tests exercise, the same way their own suites do (no sys.path edits of the
asset directories): `approval_gate` as a package, the smoke hook as `_bg_lambda_smoke_tests.<module>`."""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"


def _no_bytecode(load):
    """No __pycache__ inside a Lambda asset directory (it would end up in the CDK asset)."""
    def wrapped(module: str) -> ModuleType:
        previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        try:
            return load(module)
        finally:
            sys.dont_write_bytecode = previous
    return wrapped


@_no_bytecode
def approval_gate(module: str) -> ModuleType:
    """`lambdas/approval/approval_gate/<module>.py` (package `approval_gate`, shared with tests/approval)."""
    if "approval_gate" not in sys.modules:
        directory = LAMBDAS / "approval" / "approval_gate"
        spec = importlib.util.spec_from_file_location("approval_gate", directory / "__init__.py",
                                                      submodule_search_locations=[str(directory)])
        package = importlib.util.module_from_spec(spec)
        sys.modules["approval_gate"] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"approval_gate.{module}")


@_no_bytecode
def smoke_tests(module: str) -> ModuleType:
    """`lambdas/smoke_tests/<module>.py` as `_bg_lambda_smoke_tests.<module>` (shared with tests/progressive)."""
    package = "_bg_lambda_smoke_tests"
    if package not in sys.modules:
        path = str(LAMBDAS / "smoke_tests")
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        spec.submodule_search_locations = [path]
        loaded = importlib.util.module_from_spec(spec)
        loaded.__path__ = [path]
        sys.modules[package] = loaded
    return importlib.import_module(f"{package}.{module}")
