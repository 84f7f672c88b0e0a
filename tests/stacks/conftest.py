"""The `default_app` fixture (the embedded default app, synthesized once per worker) lives in tests/conftest.py."""
