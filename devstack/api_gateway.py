"""The local HTTP API: turns real HTTP requests into API Gateway HTTP API payload v2.0 events for the
profile function and its responses back into HTTP, as the deployed `$default` route does. CORS is
answered here, as the HttpApi's CorsConfiguration answers it in AWS.

As HTTP APIs build the event: `rawPath` percent-decoded; repeated headers joined with commas;
`cookies` as a list; a body passed as text only when it is text (a text media type and valid
UTF-8), otherwise base64 with `isBase64Encoded`; bodies over 10 MB refused with 413 before the
function runs. Differences that remain are listed in the README ("Local stack fidelity").
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from devstack.http_server import JsonHandler, LoopbackServer

Invoke = Callable[[dict[str, Any]], Any]
TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # HTTP API's request payload quota


def _is_text(raw: bytes, content_type: str) -> bool:
    if not raw:
        return True
    if content_type and not content_type.strip().lower().startswith(TEXT_TYPES):
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def http_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes | str | None = None,
    query: str = "",
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API v2.0 event, as the `$default` route delivers it."""
    lowered: dict[str, str] = {}
    cookies: list[str] = []
    pairs = headers.items() if isinstance(headers, dict) else (headers or [])
    for name, value in pairs:
        key = name.lower()
        if key == "cookie":  # every cookie of every Cookie header, one entry each
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    raw = body.encode("utf-8", errors="surrogatepass") if isinstance(body, str) else (body or b"")
    is_text = _is_text(raw, lowered.get("content-type", ""))
    path = unquote(path, errors="surrogateescape")
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id or uuid.uuid4().hex[:20],
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        params: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    if raw:
        event["body"] = raw.decode("utf-8") if is_text else base64.b64encode(raw).decode()
    return event


def api_server(port: int, invoke: Invoke, allowed_origins: list[str]) -> LoopbackServer:
    class Handler(JsonHandler):
        def _handle(self) -> None:
            started = time.perf_counter()
            if int(self.headers.get("Content-Length") or 0) > MAX_PAYLOAD_BYTES:
                self.close_connection = True
                self.send_json(413, {"message": "Request Entity Too Large"})
                return
            body = self.read_body()
            origin = self.headers.get("Origin")
            if self.command == "OPTIONS" and origin and self.headers.get("Access-Control-Request-Method"):
                self._preflight(origin)
                return
            parts = urlsplit(self.path)
            event = http_event(
                self.command, parts.path, headers=list(self.headers.items()), body=body, query=parts.query
            )
            try:
                result = invoke(event)
            except Exception as exc:  # the function crashed: API Gateway answers 500 itself
                self.send_json(
                    500, {"message": "Internal Server Error"}, {"X-Local-Error": type(exc).__name__}
                )
                return
            self._reply(result, origin, time.perf_counter() - started)

        def __getattr__(self, name: str) -> Any:
            # Every method reaches the function, as the `$default` route sends them all.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def _preflight(self, origin: str) -> None:
            self.send_response(204)
            if origin in allowed_origins or "*" in allowed_origins:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Allow-Methods", "GET,PATCH,POST,OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "authorization,content-type")
                self.send_header("Access-Control-Max-Age", "600")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _reply(self, result: Any, origin: str | None, elapsed: float) -> None:
            if not (isinstance(result, dict) and "statusCode" in result):
                result = {
                    "statusCode": 200,
                    "body": json.dumps(result),
                    "headers": {"content-type": "application/json"},
                }
            raw = result.get("body") or ""
            payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
            self.send_response(int(result["statusCode"]))
            headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
            for key, values in (result.get("multiValueHeaders") or {}).items():
                headers[str(key)] = ",".join(str(v) for v in values)
            for name, value in headers.items():
                if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                    self.send_header(name, value)
            for cookie in result.get("cookies") or []:
                self.send_header("Set-Cookie", cookie)
            if origin and (origin in allowed_origins or "*" in allowed_origins):
                self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("X-Local-Latency-Ms", f"{elapsed * 1000:.1f}")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

    return LoopbackServer(port, Handler, "local API")
