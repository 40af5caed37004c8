"""Loading a function's handler from its template spec, and the context object Lambda passes it."""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from devstack.template import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that Powertools and the handlers read."""

    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def new_context(spec: FunctionSpec) -> LocalLambdaContext:
    return LocalLambdaContext(function_name=spec.logical_id, timeout_seconds=spec.timeout_seconds)


def load_handler(spec: FunctionSpec) -> Handler:
    handler = getattr(load_module(spec), spec.function)
    assert callable(handler)
    return handler  # type: ignore[no-any-return]


def load_module(spec: FunctionSpec) -> ModuleType:
    """Import the function's module as Lambda would: layer folders and the code folder on sys.path.
    The module gets a name of its own, so several functions can be loaded into one process."""
    for path in (*spec.layer_dirs, spec.code_dir):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    name = f"_function_{spec.logical_id}"
    module = sys.modules.get(name)
    if module is None:
        source = spec.code_dir / f"{spec.module}.py"
        module_spec = importlib.util.spec_from_file_location(name, source)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {source}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
    return module
