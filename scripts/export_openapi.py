"""`make openapi`: write the API's OpenAPI document, as the function generates it, to
docs/openapi.json, so a front end can generate its types from the repository. `make test` fails
when the committed copy drifts from the code (tests/integration/api/test_openapi_document.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from devstack.database import REPO_ROOT

OUTPUT = REPO_ROOT / "docs" / "openapi.json"
# The document depends on no setting, but the module reads its settings lazily: placeholders suffice.
PLACEHOLDER_ENV = {
    "SUPABASE_URL": "https://project.supabase.co",
    "SUPABASE_ANON_KEY": "unused",
    "SCRAPE_QUEUE_URL": "unused",
    "POWERTOOLS_TRACE_DISABLED": "1",
}


def generated_document() -> dict[str, object]:
    for name, value in PLACEHOLDER_ENV.items():
        os.environ.setdefault(name, value)
    from devstack.lambda_context import load_module
    from devstack.template import function_spec

    served = load_module(function_spec("ProfileApiFunction")).openapi_json()
    document: dict[str, object] = json.loads(json.dumps(served))  # a copy: the function caches it
    return document


def render(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    Path(OUTPUT).write_text(render(generated_document()))
    print(f"wrote {OUTPUT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
