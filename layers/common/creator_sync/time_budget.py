"""The time a request may spend calling out (DESIGN §3 "Time budget").

Every API request answers within 8 s of its 10 s Lambda timeout, whatever the database or SQS do:
the handler opens a budget when the request starts, each outbound call takes at most what is left
(a database call its own timeout or less, the SQS send its whole 3 s or not at all), and the
database is told the moment after which it must not commit (`Deadline`), so a request answered
503 never lands later.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

ANSWER_WITHIN_SECONDS = 8.0
MIN_CALL_SECONDS = 0.5


@dataclass
class RequestBudget:
    """Seconds left for outbound calls, on the monotonic clock."""

    deadline: float

    @classmethod
    def opened(cls, remaining_seconds: float | None = None) -> RequestBudget:
        """A budget of 8 s, or of the Lambda's remaining time less 2 s when that is shorter."""
        seconds = ANSWER_WITHIN_SECONDS
        if remaining_seconds is not None:
            seconds = min(seconds, remaining_seconds - 2.0)
        return cls(time.monotonic() + seconds)

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def call_timeout(self, wanted: float) -> float | None:
        """The timeout for a call that would like `wanted` seconds; None when too little is left."""
        left = min(wanted, self.seconds_left())
        return left if left >= MIN_CALL_SECONDS else None

    def allows(self, seconds: float) -> bool:
        return self.seconds_left() >= seconds


_current = RequestBudget(float("inf"))


def current() -> RequestBudget:
    """The running request's budget (unbounded outside a request: worker, reconciler, tests)."""
    return _current


def start_request(remaining_seconds: float | None) -> RequestBudget:
    global _current  # noqa: PLW0603 - one request at a time per Lambda container
    _current = RequestBudget.opened(remaining_seconds)
    return _current


def end_request() -> None:
    global _current  # noqa: PLW0603
    _current = RequestBudget(float("inf"))
