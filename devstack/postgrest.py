"""A PostgREST stand-in for exactly what creator-sync calls: `POST /rest/v1/rpc/<function>` on the
`public` schema. Anything else is answered 404/405 with PostgREST-style JSON.

Like PostgREST it verifies the JWT (signature, exp, role claim) and runs each call in one
transaction after `set_config('role', ..., true)` and `set_config('request.jwt.claims', ..., true)`,
connected as `authenticator`. SQLSTATEs map to HTTP statuses as PostgREST maps them. Like Supabase's
gateway it also requires a known `apikey` header. Not covered: table routes, GET/HEAD RPC, filters,
`Prefer` headers, schemas other than public, OpenAPI at /rest/v1/.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import jwt
import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from devstack.keys import StackKeys

JWT_LEEWAY_SECONDS = 30  # PostgREST allows 30 s of clock skew on exp, nbf and iat


class PostgrestError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.hint, self.headers = details, hint, headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "hint": self.hint, "message": self.message}


def status_for_sqlstate(sqlstate: str, *, anonymous: bool) -> int:
    """PostgREST's SQLSTATE → HTTP table (docs: Errors, 'SQLSTATE to HTTP status')."""
    exact = {"23503": 409, "23505": 409, "25006": 405, "P0001": 400, "42883": 404, "42P01": 404, "42P17": 500}
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():  # RAISE ... USING ERRCODE 'PT429' → 429
        return int(sqlstate[2:])
    if sqlstate == "42501":
        return 401 if anonymous else 403
    if sqlstate in exact:
        return exact[sqlstate]
    by_class = {
        "08": 503,
        "09": 500,
        "0L": 403,
        "0P": 403,
        "25": 500,
        "28": 403,
        "2D": 500,
        "38": 500,
        "39": 500,
        "3B": 500,
        "40": 500,
        "53": 503,
        "54": 500,
        "55": 500,
        "57": 500,
        "58": 500,
        "F0": 500,
        "HV": 500,
        "P0": 500,
        "XX": 500,
    }
    return by_class.get(sqlstate[:2], 400)


POOL_WAIT_SECONDS = 3.0
ROLE_SETTINGS_APPLIED = frozenset(
    {"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"}
)


@dataclass
class PostgrestStandIn:
    database_url: str
    keys: StackKeys
    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ConnectionPool | None = None
    _signatures: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # Fault switch for tests and the local stack: answer as PostgREST does when it cannot reach
    # PostgreSQL (503, PGRST001), without touching the database.
    database_down: bool = False

    def open(self) -> PostgrestStandIn:
        # A request waits at most POOL_WAIT_SECONDS for a connection (PostgREST's
        # db-pool-acquisition-timeout), less than the API's 5 s client timeout; broken connections
        # (a killed backend, a restarted server) are checked and replaced on the way out.
        self._pool = ConnectionPool(
            self.database_url,
            min_size=1,
            max_size=8,
            open=True,
            timeout=POOL_WAIT_SECONDS,
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": False},
        )
        return self

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def valid_api_keys(self) -> set[str]:
        return {self.keys.api_key("anon"), self.keys.api_key("service_role")}

    def claims_for(self, authorization: str | None, apikey: str | None) -> dict[str, Any]:
        token = None
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        token = token or apikey
        if not token:
            return {"role": "anon"}
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") == "HS256":
                key: Any = self.keys.hs256_secret
            elif header.get("alg") == "ES256" and header.get("kid") == self.keys.kid:
                key = self.keys.private_key.public_key()
            else:
                raise jwt.InvalidSignatureError("unknown key")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[str(header["alg"])],
                options={"verify_aud": False},
                leeway=JWT_LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError:
            raise PostgrestError(
                401,
                "PGRST303",
                "JWT expired",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token", error_description="JWT expired"'},
            ) from None
        except jwt.PyJWTError as exc:
            raise PostgrestError(
                401,
                "PGRST301",
                f"JWT could not be decoded: {exc}",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        if claims.get("role") not in {"anon", "authenticated", "service_role"}:
            raise PostgrestError(401, "PGRST301", "JWT role claim is missing or not an API role")
        return claims

    def call(
        self,
        function: str,
        body: bytes,
        authorization: str | None,
        apikey: str | None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if apikey not in self.valid_api_keys():
            raise PostgrestError(
                401,
                "PGRST301",
                "Invalid API key",
                hint="Double check your Supabase `anon` or `service_role` API key.",
            )
        claims = self.claims_for(authorization, apikey)
        try:
            args = json.loads(body or b"{}")
        except ValueError as exc:
            raise PostgrestError(400, "PGRST102", f"Empty or invalid json: {exc}") from None
        if not isinstance(args, dict):
            raise PostgrestError(400, "PGRST102", "RPC arguments must be a JSON object")
        with self._lock:
            self.calls[function] += 1
        if self.database_down:
            raise PostgrestError(503, "PGRST001", "Database client error. Retrying the connection.")
        assert self._pool is not None
        try:
            return self._call_in_database(function, args, claims, headers or {})
        except PoolTimeout:
            raise PostgrestError(
                504, "PGRST003", "Timed out acquiring connection from connection pool."
            ) from None
        except psycopg.OperationalError as exc:
            # The connection failed under the request (server stopped, restarting, backend killed):
            # PostgREST answers 503 and reconnects.
            raise PostgrestError(
                503, exc.sqlstate or "PGRST001", f"Database client error. Retrying the connection. ({exc})"
            ) from None

    def _call_in_database(
        self, function: str, args: dict[str, Any], claims: dict[str, Any], headers: dict[str, str]
    ) -> Any:
        assert self._pool is not None
        with self._pool.connection() as conn:
            signature = self._signature(conn, function, set(args))
            sql = "select public.{}({}) as result".format(
                psycopg.sql.Identifier(function).as_string(conn),
                ", ".join(f"{name} => %({name})s::{typ}" for name, typ in signature),
            )
            params = {name: _as_param(args[name], typ) for name, typ in signature}
            anonymous = claims.get("role") == "anon"
            role_settings = self._role_settings(conn, str(claims["role"]))
            try:
                with conn.transaction():
                    conn.execute(
                        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true),"
                        " set_config('request.method', 'POST', true),"
                        " set_config('request.path', %s, true), set_config('request.headers', %s, true)",
                        (claims["role"], json.dumps(claims), f"/rpc/{function}", json.dumps(headers)),
                    )
                    # As PostgREST (>= 11) does: the impersonated role's own settings, per request
                    # (e.g. `alter role authenticated set statement_timeout = '4s'`).
                    for name, value in role_settings:
                        conn.execute("select set_config(%s, %s, true)", (name, value))
                    row = conn.execute(sql, params).fetchone()
            except psycopg.Error as exc:
                if _connection_lost(exc):
                    raise
                sqlstate = exc.sqlstate or "XX000"
                diag = exc.diag
                raise PostgrestError(
                    status_for_sqlstate(sqlstate, anonymous=anonymous),
                    sqlstate,
                    diag.message_primary or str(exc),
                    details=diag.message_detail,
                    hint=diag.message_hint,
                ) from None
        return row[0] if row else None

    def _role_settings(self, conn: psycopg.Connection[Any], role: str) -> list[tuple[str, str]]:
        rows = conn.execute(
            "select unnest(s.setconfig) from pg_db_role_setting as s"
            " join pg_roles as r on r.oid = s.setrole where r.rolname = %s"
            " and s.setdatabase in (0, (select oid from pg_database where datname = current_database()))",
            (role,),
        ).fetchall()
        conn.rollback()
        settings = []
        for (entry,) in rows:
            name, _, value = str(entry).partition("=")
            if name in ROLE_SETTINGS_APPLIED:
                settings.append((name, value))
        return settings

    def _signature(
        self, conn: psycopg.Connection[Any], function: str, names: set[str]
    ) -> list[tuple[str, str]]:
        cache_key = f"{function}({','.join(sorted(names))})"
        if cache_key in self._signatures:
            return self._signatures[cache_key]
        rows = conn.execute(
            "select p.proargnames, array(select format_type(t, null) from unnest(p.proargtypes) as t),"
            " p.pronargdefaults"
            " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = 'public' and p.proname = %s",
            (function,),
        ).fetchall()
        conn.rollback()
        for arg_names, arg_types, defaults in rows:
            pairs = list(zip(arg_names or [], arg_types, strict=False))
            required = {name for name, _ in pairs[: len(pairs) - defaults]}
            # As PostgREST: every argument without a default named, defaulted ones optional.
            if required <= names <= {name for name, _ in pairs}:
                chosen = [(name, typ) for name, typ in pairs if name in names]
                self._signatures[cache_key] = chosen
                return chosen
        wanted = ", ".join(sorted(names))
        raise PostgrestError(
            404,
            "PGRST202",
            f"Could not find the function public.{function}({wanted}) in the schema cache",
            hint="Only functions in the public schema, called with their named arguments, are served",
        )


def _connection_lost(exc: psycopg.Error) -> bool:
    """The server went away under the request (stopped, restarting, backend terminated)."""
    if not isinstance(exc, psycopg.OperationalError):
        return False
    return exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))


def _as_param(value: Any, pg_type: str) -> Any:
    if pg_type in {"json", "jsonb"} or isinstance(value, dict | list):
        return json.dumps(value)
    return value
