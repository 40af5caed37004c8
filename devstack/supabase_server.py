"""Supabase-like endpoints on one port (54321 by default, the Supabase CLI's): `/rest/v1/rpc/<fn>`
(the PostgREST stand-in) and `/auth/v1/.well-known/jwks.json` (the stack's ES256 public key).
`GET /_devstack/calls` reports how many times each RPC was called (for round-trip counts).
Every other path is answered 404 with a message that says the stand-in does not cover it."""

from __future__ import annotations

from typing import Any

from devstack.http_server import JsonHandler, LoopbackServer
from devstack.postgrest import PostgrestError, PostgrestStandIn

RPC_PREFIX = "/rest/v1/rpc/"


def supabase_server(port: int, postgrest: PostgrestStandIn) -> LoopbackServer:
    class Handler(JsonHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/auth/v1/.well-known/jwks.json":
                self.send_json(200, postgrest.keys.jwks(), {"Cache-Control": "public, max-age=600"})
            elif path == "/_devstack/calls":
                self.send_json(200, dict(postgrest.calls))
            elif path.startswith(RPC_PREFIX):
                self._error(
                    PostgrestError(405, "PGRST117", "Only POST is covered for RPC by the local stand-in")
                )
            else:
                self._not_covered(path)

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            body = self.read_body()
            if not path.startswith(RPC_PREFIX):
                self._not_covered(path)
                return
            profile = self.headers.get("Content-Profile") or self.headers.get("Accept-Profile") or "public"
            if profile != "public":
                self._error(
                    PostgrestError(406, "PGRST106", "The schema must be one of the following: public")
                )
                return
            try:
                result: Any = postgrest.call(
                    path[len(RPC_PREFIX) :],
                    body,
                    self.headers.get("Authorization"),
                    self.headers.get("apikey"),
                    {k.lower(): v for k, v in self.headers.items()},
                )
            except PostgrestError as exc:
                self._error(exc)
                return
            self.send_json(200, result)

        def do_PATCH(self) -> None:
            self._not_covered(self.path)

        do_PUT = do_DELETE = do_HEAD = do_PATCH

        def _not_covered(self, path: str) -> None:
            self.read_body()
            self._error(
                PostgrestError(
                    404,
                    "PGRST125",
                    f"{self.command} {path} is not covered by the local PostgREST stand-in",
                    hint="It serves POST /rest/v1/rpc/<function> and GET /auth/v1/.well-known/jwks.json",
                )
            )

        def _error(self, exc: PostgrestError) -> None:
            self.send_json(exc.status, exc.body(), exc.headers)

    return LoopbackServer(port, Handler, "Supabase stand-in")
