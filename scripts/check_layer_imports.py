"""Fail unless every function's module imports from the layer as Lambda would load it: the layer
built for this machine by its own Makefile (same requirements, bytecode), then what the python3.13
runtime provides (boto3, botocore) after it on sys.path. Guards the layer's exclusion list."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.cold_start import FUNCTIONS, LAMBDA_ENV
from benchmarks.layers import WORK, build_layer, build_runtime, python313
from devstack.database import REPO_ROOT

# What the functions import only when first used: build every collaborator, verify an ES256 token,
# validate a time zone, make the Apify client (its native HTTP layer), the SQS client.
LAZY_PATHS = """
import os
os.environ.update(CREATOR_SYNC_LOCAL="1", APIFY_TOKEN="t", SUPABASE_SERVICE_ROLE_KEY="k")
from creator_sync.api import wiring as api
from creator_sync.scraping import wiring as scraping
api.token_verifier(); api.profile_service()
scraping.scrape_batch(); scraping.reconciler()
if hasattr(app, "openapi_json"):  # the API's document: Powertools' event handler, imported on first use
    app.openapi_json()
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
jwt.decode(jwt.encode({"a": 1}, key, algorithm="ES256"), key.public_key(), algorithms=["ES256"])
from creator_sync.api.models import ProfilePatch
ProfilePatch.model_validate({"timezone": "Europe/Paris"})
"""


def main() -> int:
    layer = build_layer(WORK / "check-layer")
    runtime = build_runtime(WORK / "check-runtime")
    failures = 0
    for name, folder in FUNCTIONS.items():
        paths = [str(REPO_ROOT / "functions" / folder), str(layer), str(runtime)]
        code = f"import sys; sys.path[:0] = {paths!r}\nimport app; assert callable(app.lambda_handler)\n"
        code += LAZY_PATHS
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")} | LAMBDA_ENV
        done = subprocess.run(
            [python313(), "-I", "-c", code], env=env, capture_output=True, text=True, cwd="/", check=False
        )
        if done.returncode != 0:
            failures += 1
            print(f"FAIL: {name} does not import from the layer:\n{done.stderr[-2000:]}")
        else:
            print(f"OK: {name} imports from the layer")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
