"""Captures what the Powertools logger writes, as the JSON lines it would print."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from creator_sync.observability import logger


class _Collector(logging.Handler):
    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        if formatter is not None:
            self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class CapturedLogs:
    def __init__(self, collector: _Collector) -> None:
        self._collector = collector

    @property
    def lines(self) -> list[str]:
        return list(self._collector.lines)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._collector.lines]

    def text(self) -> str:
        return "\n".join(self._collector.lines)


@contextmanager
def captured_logs() -> Iterator[CapturedLogs]:
    collector = _Collector(logger.registered_handler.formatter)
    logger.addHandler(collector)
    try:
        yield CapturedLogs(collector)
    finally:
        logging.getLogger(logger.name).removeHandler(collector)
