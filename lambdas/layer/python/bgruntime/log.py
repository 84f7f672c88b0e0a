"""Structured JSON logging: one JSON object per line, never secrets."""
from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_REDACTED_KEYS = frozenset({"token", "bot_token", "signing_secret", "secret", "authorization", "x-slack-signature"})


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            payload.update(redact(fields))
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, sort_keys=True)


def redact(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop the values of keys that could carry credentials."""
    return {k: ("[redacted]" if k.lower() in _REDACTED_KEYS else v) for k, v in fields.items()}


def get_logger(name: str) -> "StructuredLogger":
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(_JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return StructuredLogger(logger)


class StructuredLogger:
    """`log.info("approval recorded", deployment_id=..., status=...)` -> one JSON line."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def _log(self, level: int, message: str, fields: dict[str, Any], exc_info: bool = False) -> None:
        self._logger.log(level, message, extra={"fields": fields}, exc_info=exc_info)

    def info(self, message: str, **fields: Any) -> None:
        self._log(logging.INFO, message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._log(logging.WARNING, message, fields)

    def error(self, message: str, **fields: Any) -> None:
        self._log(logging.ERROR, message, fields)

    def exception(self, message: str, **fields: Any) -> None:
        self._log(logging.ERROR, message, fields, exc_info=True)
