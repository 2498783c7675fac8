"""Structured logging: structlog over the standard `logging` logger "secondapproval".

A library must not print on its own: events go through stdlib logging, silent below WARNING until
the embedding application configures it (the CLI does, with -v).
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

_stdlib = logging.getLogger("secondapproval")


def get_logger(**context: Any) -> Any:
    """A structlog logger bound to `context`, rendering JSON events into stdlib logging."""
    return structlog.wrap_logger(
        _stdlib,
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(sort_keys=True, ensure_ascii=False),
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
    ).bind(**context)
