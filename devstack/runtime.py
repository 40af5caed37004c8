"""A local Lambda "container" for one function: a process of its own, with its own environment,
that loads the handler like Lambda (layer and code on sys.path, module imported once, so the second
invocation is warm) and takes one invocation at a time over HTTP on loopback, like the Lambda runtime
interface emulator. Its stdout (the function's logs) goes wherever the parent points it.

`RuntimePool` keeps N such processes per function for concurrency, as Lambda keeps N containers.
An invocation that outlives the function's timeout ends exactly then, as in Lambda: the caller gets
`Sandbox.Timedout`, the process is killed and replaced (the next invocation is a cold start).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from devstack.database import REPO_ROOT

READY = "DEVSTACK-RUNTIME-READY"


class FunctionError(RuntimeError):
    """The handler raised; Lambda would report an unhandled error for this invocation."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


def serve(logical_id: str) -> None:
    """Entry point of the runtime process."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from devstack.lambda_context import load_handler, new_context
    from devstack.template import function_spec

    spec = function_spec(logical_id)
    if os.environ.get("DEVSTACK_FUNCTION_TIMEOUT"):  # the pool's timeout, so the context agrees
        spec = replace(spec, timeout_seconds=float(os.environ["DEVSTACK_FUNCTION_TIMEOUT"]))
    handler = load_handler(spec)
    if os.environ.get("DEVSTACK_RUNTIME_HANDLER"):  # tests only: a stand-in handler "file.py:name"
        handler = _handler_from(os.environ["DEVSTACK_RUNTIME_HANDLER"])
    lock = threading.Lock()
    parent = os.getppid()

    class Invocations(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            event = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            with lock:  # one invocation at a time, as in a Lambda container
                try:
                    payload: dict[str, Any] = {"result": handler(event, new_context(spec))}
                except Exception as exc:  # reported to the caller like Lambda's unhandled error
                    traceback.print_exc(file=sys.stdout)
                    payload = {"error": {"errorType": type(exc).__name__, "errorMessage": str(exc)}}
                sys.stdout.flush()
            body = json.dumps(payload, default=str).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = HTTPServer(("127.0.0.1", 0), Invocations)

    def orphan_watch() -> None:  # never outlive the stack that started us
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=orphan_watch, daemon=True).start()
    print(f"{READY} {server.server_address[1]}", flush=True)
    server.serve_forever()


def _handler_from(location: str) -> Any:
    import importlib.util

    path, _, name = location.partition(":")
    module_spec = importlib.util.spec_from_file_location("_devstack_test_handler", REPO_ROOT / path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, name)


class Runtime:
    def __init__(self, logical_id: str, env: dict[str, str], log: IO[str]) -> None:
        base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ", "SYSTEMROOT") if k in os.environ}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack.runtime", logical_id],
            cwd=REPO_ROOT,
            env=base | {"PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"} | env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        self._stdout = self.process.stdout
        self._log = log
        self.port = 0

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._stdout.readline()
            if not line:
                raise RuntimeError(f"runtime exited during start (code {self.process.poll()})")
            if line.startswith(READY):
                self.port = int(line.split()[1])
                threading.Thread(target=self._copy_logs, daemon=True).start()
                return
            self._log.write(line)
            self._log.flush()
        raise TimeoutError("runtime did not start in time")

    def _copy_logs(self) -> None:
        for line in self._stdout:
            self._log.write(line)
            self._log.flush()

    def invoke(self, event: dict[str, Any], timeout: float) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/invoke",
            data=json.dumps(event).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - loopback
                payload = json.loads(reply.read())
        except TimeoutError:
            raise FunctionError("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds") from None
        if "error" in payload:
            raise FunctionError(payload["error"]["errorType"], payload["error"]["errorMessage"])
        return payload["result"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RuntimePool:
    """N warm containers of one function; an invocation takes a free one, as Lambda would."""

    def __init__(
        self, logical_id: str, env: dict[str, str], size: int, log_path: Path, timeout_seconds: float
    ) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.logical_id = logical_id
        self.timeout = timeout_seconds  # exactly the template's, as Lambda enforces it
        self._env = env | {"DEVSTACK_FUNCTION_TIMEOUT": str(timeout_seconds)}
        self._log = log_path.open("a", encoding="utf-8")
        self._all = [Runtime(logical_id, self._env, self._log) for _ in range(size)]
        self._free: queue.Queue[Runtime] = queue.Queue()
        self.invocations = 0

    def wait_ready(self, timeout: float = 30) -> RuntimePool:
        for runtime in self._all:
            runtime.wait_ready(timeout)
            self._free.put(runtime)
        return self

    def invoke(self, event: dict[str, Any]) -> Any:
        runtime: Runtime | None = self._free.get()
        assert runtime is not None
        self.invocations += 1
        try:
            return runtime.invoke(event, self.timeout)
        except FunctionError as exc:
            if exc.error_type == "Sandbox.Timedout":
                # Lambda discards an environment whose invocation timed out: answer now, replace it
                # in the background (the next invocation waits for the fresh one: a cold start).
                runtime.process.kill()
                threading.Thread(target=self._replace, args=(runtime,), daemon=True).start()
                runtime = None
            raise
        finally:
            if runtime is not None:
                self._free.put(runtime)

    def _replace(self, timed_out: Runtime) -> None:
        timed_out.process.wait()
        fresh = Runtime(self.logical_id, self._env, self._log)
        fresh.wait_ready(30)
        self._all[self._all.index(timed_out)] = fresh
        self._free.put(fresh)

    def pids(self) -> list[int]:
        return [r.process.pid for r in self._all]

    def stop(self) -> None:
        for runtime in self._all:
            runtime.stop()
        self._log.close()


if __name__ == "__main__":
    serve(sys.argv[1])
