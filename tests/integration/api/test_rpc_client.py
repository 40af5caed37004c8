"""The PostgREST client wrapper: one retry on a stale pooled connection, timeouts as 503, and
PostgREST error codes mapped to the API's errors."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from creator_sync.errors import InternalError, Unauthorized, Unavailable, ValidationFailed
from creator_sync.stores.rpc import Rpc


class ScriptedServer:
    """Answers each connection per a script: "drop" closes it without a reply, "slow" never replies,
    (status, body) sends the body as JSON, (status, headers, raw bytes) sends those as they are."""

    def __init__(self, script: list[object]) -> None:
        self.script = list(script)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests = 0
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.script:
            conn, _ = self.sock.accept()
            self.received.append(_read_request(conn))  # all of it: unread bytes would reset, not close
            self.requests += 1
            step = self.script.pop(0)
            if step == "drop":
                conn.close()
                continue
            if step == "slow":
                threading.Event().wait(10)
                conn.close()
                continue
            assert isinstance(step, tuple)
            if len(step) == 2:
                status, body = step
                headers, payload = "Content-Type: application/json\r\n", json.dumps(body).encode()
            else:
                status, headers, payload = step
            conn.sendall(
                f"HTTP/1.1 {status} X\r\n{headers}Content-Length: {len(payload)}\r\n"
                f"Connection: close\r\n\r\n".encode()
                + payload
            )
            conn.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(1.0)) as client:
        yield client


def call(server: ScriptedServer, http: httpx.Client) -> object:
    return Rpc(f"{server.url}/rest/v1", "key", "token", http).call("get_profile", {})


def test_a_dropped_connection_is_retried_once(http: httpx.Client) -> None:
    server = ScriptedServer(["drop", (200, {"ok": True})])
    assert call(server, http) == {"ok": True}
    assert server.requests == 2


def test_two_dropped_connections_are_unavailable(http: httpx.Client) -> None:
    server = ScriptedServer(["drop", "drop"])
    with pytest.raises(Unavailable):
        call(server, http)
    assert server.requests == 2


def test_a_timeout_is_unavailable_without_a_retry(http: httpx.Client) -> None:
    server = ScriptedServer(["slow", (200, {})])
    with pytest.raises(Unavailable):
        call(server, http)
    assert server.requests == 1


def test_a_refused_connection_is_unavailable(http: httpx.Client) -> None:
    with pytest.raises(Unavailable):
        Rpc("http://127.0.0.1:9/rest/v1", "key", "token", http).call("get_profile", {})


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (401, "PGRST303", Unauthorized),
        (403, "42501", Unauthorized),
        (503, "PGRST001", Unavailable),
        (400, "22023", ValidationFailed),
        (409, "23503", Unauthorized),
        (400, "XX999", InternalError),
    ],
)
def test_postgrest_errors_become_api_errors(
    http: httpx.Client, status: int, code: str, error: type[Exception]
) -> None:
    server = ScriptedServer([(status, {"code": code, "message": "m", "details": None, "hint": None})])
    with pytest.raises(error):
        call(server, http)


def test_the_call_is_one_post_of_the_arguments_as_the_user(http: httpx.Client) -> None:
    server = ScriptedServer([(200, {"ok": True})])
    Rpc(f"{server.url}/rest/v1", "anon-key", "user-token", http).call("update_profile", {"p_niche": "x"})
    head, _, body = server.received[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0] == "POST /rest/v1/rpc/update_profile HTTP/1.1"
    assert (headers["apikey"], headers["authorization"]) == ("anon-key", "Bearer user-token")
    assert headers["content-type"] == "application/json"
    assert float(headers["x-creator-sync-deadline"]) > 0
    assert json.loads(body) == {"p_niche": "x"}


def test_a_void_function_answers_none(http: httpx.Client) -> None:
    server = ScriptedServer([(204, "", b"")])
    assert call(server, http) is None


def test_a_success_that_is_not_json_is_an_internal_error(http: httpx.Client) -> None:
    server = ScriptedServer([(200, "Content-Type: text/html\r\n", b"<html>ok</html>")])
    with pytest.raises(InternalError):
        call(server, http)


def test_a_gateway_error_page_is_unavailable(http: httpx.Client) -> None:
    server = ScriptedServer([(502, "Content-Type: text/html\r\n", b"<html>Bad Gateway</html>")])
    with pytest.raises(Unavailable):
        call(server, http)
    assert server.requests == 1


def test_a_proxy_status_names_the_error_when_the_body_cannot(http: httpx.Client) -> None:
    server = ScriptedServer([(400, 'Proxy-Status: PostgREST; error="PGRST301"\r\n', b"")])
    with pytest.raises(Unauthorized):
        call(server, http)


def test_json_without_a_code_is_read_by_its_http_status(http: httpx.Client) -> None:
    server = ScriptedServer([(503, {"message": "upstream busy"})])
    with pytest.raises(Unavailable):
        call(server, http)
