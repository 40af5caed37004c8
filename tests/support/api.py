"""Drives the real profile API handler (loaded from template.yaml like `devstack invoke` loads it)
with API Gateway v2.0 events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from devstack.api_gateway import http_event
from devstack.lambda_context import Handler, new_context
from devstack.template import function_spec


@dataclass
class ApiReply:
    status: int
    headers: dict[str, str]
    text: str
    request_id: str

    @property
    def body(self) -> Any:
        return json.loads(self.text)

    def header(self, name: str) -> str | None:
        return {k.lower(): v for k, v in self.headers.items()}.get(name.lower())


@dataclass
class ApiClient:
    handler: Handler
    sent: list[dict[str, Any]] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiReply:
        all_headers = {"user-agent": "pytest"}
        if token is not None:
            all_headers["authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body)
            all_headers["content-type"] = "application/json"
        all_headers |= headers or {}
        return self.send(http_event(method, path, headers=all_headers, body=body))

    def send(self, event: Any) -> ApiReply:
        """An event exactly as given (raw paths, base64 bodies, repeated headers; or not an API
        Gateway event at all)."""
        self.sent.append(event)
        context = event.get("requestContext") if isinstance(event, dict) else None
        result = self.handler(event, new_context(function_spec("ProfileApiFunction")))
        return ApiReply(
            status=result["statusCode"],
            headers=result.get("headers") or {},
            text=result.get("body") or "",
            request_id=str(context.get("requestId", "")) if isinstance(context, dict) else "",
        )


def new_container() -> None:
    """Forget every per-container cache, as a cold start would (tests change the environment)."""
    from creator_sync.adapters import sqs
    from creator_sync.api import wiring as api_wiring
    from creator_sync.scraping import wiring as scraping_wiring
    from creator_sync.stores import rpc

    for cached in (
        api_wiring.api_settings,
        api_wiring.token_verifier,
        api_wiring.profile_service,
        scraping_wiring.worker_settings,
        scraping_wiring.scrape_batch,
        scraping_wiring.reconciler_settings,
        scraping_wiring.reconciler,
        rpc.shared_http_client,
        sqs.environment_credentials,
    ):
        cached.cache_clear()
