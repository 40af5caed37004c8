"""SnapStart hooks (DESIGN §11): registered only where Lambda's SnapStart runtime provides
`snapshot_restore_py`; before the snapshot they prime what every request needs, after a restore
they renew what restored copies must not share."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from creator_sync.adapters import sqs
from creator_sync.api import wiring
from creator_sync.boundary import build_imported_models
from creator_sync.stores import rpc

from devstack.lambda_context import new_context
from tests.integration.conftest import MakeApi
from tests.support.api import ApiClient

STAND_IN = Path(__file__).resolve().parents[2] / "support" / "snapstart_runtime"


@pytest.fixture
def snapstart_runtime() -> Iterator[ModuleType]:
    sys.path.insert(0, str(STAND_IN))
    import snapshot_restore_py

    snapshot_restore_py.before_snapshot.clear()
    snapshot_restore_py.after_restore.clear()
    sys.modules.pop("_function_ProfileApiFunction", None)  # import the handler anew, as at init
    try:
        yield snapshot_restore_py
    finally:
        sys.path.remove(str(STAND_IN))
        sys.modules.pop("snapshot_restore_py", None)
        sys.modules.pop("_function_ProfileApiFunction", None)


def test_without_snapstart_nothing_is_registered_or_primed(make_api: MakeApi) -> None:
    sys.modules.pop("_function_ProfileApiFunction", None)
    make_api()
    assert "snapshot_restore_py" not in sys.modules
    assert wiring.token_verifier.cache_info().currsize == 0


def test_the_snapshot_holds_primed_clients_and_a_restore_renews_them(
    snapstart_runtime: ModuleType, make_api: MakeApi, token: str
) -> None:
    # Given the handler imported under SnapStart: one hook each way
    api: ApiClient = make_api()
    assert len(snapstart_runtime.before_snapshot) == 1
    assert len(snapstart_runtime.after_restore) == 1
    # When Lambda takes the snapshot
    snapstart_runtime.before_snapshot[0]()
    # Then settings, verifier, store, SQS client are built: nothing left for the first request
    assert wiring.api_settings.cache_info().currsize == 1
    assert wiring.token_verifier.cache_info().currsize == 1
    assert wiring.profile_service.cache_info().currsize == 1
    assert build_imported_models() == []  # every model the function imported is built
    timeout = wiring.api_settings().postgrest_timeout_seconds
    snapshot_pool = rpc.shared_http_client(timeout)
    snapshot_verifier = wiring.token_verifier()
    snapshot_credentials = sqs.environment_credentials()
    # and nothing user-specific was touched (no request has been made)
    assert api.sent == []
    # When a copy is restored
    random.seed(1)
    before = random.random()
    random.seed(1)
    snapstart_runtime.after_restore[0]()
    # Then it has its own connection pool, a fresh JWKS cache, its own SQS client and seed
    assert snapshot_pool.is_closed
    assert rpc.shared_http_client(timeout) is not snapshot_pool
    assert wiring.token_verifier() is not snapshot_verifier
    assert sqs.environment_credentials.cache_info().currsize == 0  # read again after restore
    assert sqs.environment_credentials() == snapshot_credentials
    assert random.random() != before
    # and serves requests
    assert api.request("GET", "/profile", token=token).status == 200


def test_the_handler_works_when_invoked_after_a_restore(
    snapstart_runtime: ModuleType, make_api: MakeApi, token: str
) -> None:
    api: ApiClient = make_api()
    snapstart_runtime.before_snapshot[0]()
    snapstart_runtime.after_restore[0]()
    from devstack.api_gateway import http_event
    from devstack.template import function_spec

    event = http_event("GET", "/profile", headers={"authorization": f"Bearer {token}"})
    assert api.handler(event, new_context(function_spec("ProfileApiFunction")))["statusCode"] == 200
