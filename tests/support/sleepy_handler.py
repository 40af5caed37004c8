"""A stand-in handler for the local runtime's timeout test: sleeps as long as the event says."""

from __future__ import annotations

import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(float(event.get("sleep", 0)))
    return {"slept": event.get("sleep", 0), "remaining_ms": context.get_remaining_time_in_millis()}
