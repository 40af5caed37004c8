"""What a python3.13 Lambda container gives a function beyond its code: Lambda's environment
(so Powertools Tracer and the X-Ray SDK take their Lambda path, tracing on) and an X-Ray daemon
address. Used by the tracing tests and the cold-start benchmark alike."""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def xray_daemon() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A UDP listener where the X-Ray SDK sends its segments, as Lambda's daemon receives them:
    yields its address and the list the documents it receives are appended to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    received: list[dict[str, Any]] = []
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                datagram = sock.recv(65536)
            except OSError:
                continue
            # `{"format": "json", "version": 1}` then one newline, then the document.
            _, _, document = datagram.decode().partition("\n")
            received.append(json.loads(document))

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}", received
    finally:
        stop.set()
        thread.join()
        sock.close()


def lambda_environment(xray_address: str, code: Path) -> dict[str, str]:
    trace = f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")} | {
        "LAMBDA_TASK_ROOT": str(code),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "AWS_LAMBDA_FUNCTION_NAME": "ProfileApiFunction",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "_HANDLER": "app.lambda_handler",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_XRAY_DAEMON_ADDRESS": xray_address,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_X_AMZN_TRACE_ID": trace,
        "POWERTOOLS_SERVICE_NAME": "profile-api",
        "POWERTOOLS_METRICS_NAMESPACE": "CreatorSync",
    }
