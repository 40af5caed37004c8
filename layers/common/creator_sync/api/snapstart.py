"""Lambda SnapStart for the profile API (template parameter `EnableSnapStart`).

With SnapStart, Lambda runs init once when a version is published, snapshots the memory and
restores copies of it for cold starts. So: before the snapshot, prime everything a request needs
that is the same for every user (settings validated, the token verifier, the PostgREST store, the
SQS client, the OpenAPI document), and after each restore renew what must not be shared between
restored copies: network connection pools (the snapshot's sockets are dead or, worse, shared), the
JWKS cache's age (the snapshot may be days old), the AWS credentials read from the environment
(Lambda sets new ones on restore), and the random seed.

The hooks come from `snapshot_restore_py`, which only Lambda's SnapStart runtime provides: it is
imported only where present, so nothing changes anywhere else.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Hook = Callable[[], None]


def register(before_snapshot: Hook, after_restore: Hook) -> bool:
    """Register the hooks when running under SnapStart; returns whether they were registered."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


def prime_api() -> None:
    """Everything the first request would build, and nothing user-specific (the SQS sender needs
    nothing but the shared pool and the environment's credentials)."""
    from creator_sync import boundary
    from creator_sync.api import wiring

    wiring.api_settings()
    wiring.token_verifier()
    wiring.profile_service()
    boundary.build_imported_models()


def renew_after_restore() -> None:
    """Per restored copy: fresh connection pools, a JWKS cache that starts empty, a new seed."""
    from creator_sync.adapters import sqs
    from creator_sync.api import wiring
    from creator_sync.stores import rpc

    settings = wiring.api_settings()
    if rpc.shared_http_client.cache_info().currsize:
        rpc.shared_http_client(settings.postgrest_timeout_seconds).close()
    rpc.shared_http_client.cache_clear()
    # Lambda hands a restored copy fresh credentials in its environment.
    sqs.environment_credentials.cache_clear()
    # The verifier and the store hold the snapshot's JWKS and pool: rebuild them on the new pool.
    wiring.token_verifier.cache_clear()
    wiring.profile_service.cache_clear()
    random.seed()
    prime_api()
