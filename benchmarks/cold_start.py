"""Cold start: the cost of importing each function's module from the layer, in fresh interpreters,
measured side by side in one run (interleaved, so machine noise hits every variant alike)."""

from __future__ import annotations

import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.layers import python313
from devstack.database import REPO_ROOT

# A Lambda-like environment: Tracer is on (it imports the X-Ray SDK), Powertools sees a function.
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "_HANDLER": "app.lambda_handler",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "CreatorSync",
    "SUPABASE_URL": "https://bench.supabase.co",
    "SUPABASE_ANON_KEY": "anon",
    "SCRAPE_QUEUE_URL": "https://q",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
}

FUNCTION_IMPORT = """
import sys, time
sys.path[:0] = [{code!r}, {layer!r}, {runtime!r}]
t = time.perf_counter()
import app
print(time.perf_counter() - t)
"""

NAIVE_IMPORT = """
import sys, time
sys.path[:0] = [{layer!r}, {runtime!r}]
t = time.perf_counter()
from supabase import create_client
import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
client = create_client("https://bench.supabase.co", "anon-key")
sqs = boto3.client("sqs")
app = APIGatewayHttpResolver(enable_validation=True)
print(time.perf_counter() - t)
"""

NAIVE = "naive stack (supabase + boto3 + validating resolver)"
NAIVE_TRACED = "naive stack + Powertools Tracer (the contract's tracing)"
NAIVE_WITH_TRACER = NAIVE_IMPORT.replace(
    "print(time.perf_counter() - t)",
    "from aws_lambda_powertools import Tracer\ntracer = Tracer()\nprint(time.perf_counter() - t)",
)
NO_BYTECODE = "ProfileApiFunction, same layer without bytecode"
FUNCTIONS = {
    "ProfileApiFunction": "profile_api",
    "ScrapeWorkerFunction": "scrape_worker",
    "ReconcilerFunction": "reconciler",
}


def _run(code: str, write_bytecode: bool = True) -> float:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")} | LAMBDA_ENV
    flags = ["-I"] if write_bytecode else ["-I", "-B"]  # -I ignores PYTHON* variables, so -B, not the env var
    done = subprocess.run(
        [python313(), *flags, "-c", code], env=env, capture_output=True, text=True, check=True, cwd="/"
    )
    return float(done.stdout.strip().splitlines()[-1])


def measure(layer: Path, bare_layer: Path, naive_layer: Path, runtime: Path, runs: int) -> dict[str, Any]:
    rt = str(runtime)
    api_code = str(REPO_ROOT / "functions" / "profile_api")
    variants = {
        NAIVE: NAIVE_IMPORT.format(layer=str(naive_layer), runtime=rt),
        NAIVE_TRACED: NAIVE_WITH_TRACER.format(layer=str(naive_layer), runtime=rt),
        NO_BYTECODE: FUNCTION_IMPORT.format(layer=str(bare_layer), code=api_code, runtime=rt),
    } | {
        name: FUNCTION_IMPORT.format(layer=str(layer), code=str(REPO_ROOT / "functions" / folder), runtime=rt)
        for name, folder in FUNCTIONS.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, code in variants.items():
            samples[name].append(_run(code, write_bytecode=name != NO_BYTECODE))
    return {
        name: {"median_ms": statistics.median(v) * 1000, "samples_ms": [round(x * 1000, 1) for x in v]}
        for name, v in samples.items()
    }


def import_profile(layer: Path, runtime: Path, top: int = 12) -> list[tuple[str, float]]:
    """What dominates the API module's import: `-X importtime` self time summed per top-level
    package, largest first (one run)."""
    code = FUNCTION_IMPORT.format(
        layer=str(layer), code=str(REPO_ROOT / "functions" / "profile_api"), runtime=str(runtime)
    )
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")} | LAMBDA_ENV
    done = subprocess.run(
        [python313(), "-I", "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    per_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, _cumulative_us, name = line.split(":", 1)[1].split("|")
        package = name.strip().split(".")[0]
        per_package[package] = per_package.get(package, 0.0) + int(self_us) / 1000
    return sorted(per_package.items(), key=lambda item: -item[1])[:top]
