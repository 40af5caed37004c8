"""The local stack: every piece of DESIGN §10 on 127.0.0.1, started in one process.

Pieces whose real credentials are in the environment are used for real instead of their stand-in
(see `plan`); the start-up banner says which is which.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.api_gateway import api_server
from devstack.apify import FIXTURES_DIR, ApifyStandIn, apify_server
from devstack.database import REPO_ROOT, Database, create_user, start_database
from devstack.environments import Endpoints, aws_environment, local_function_env
from devstack.event_source import SqsEventSource
from devstack.http_server import JsonHandler, LoopbackServer, PortBusy
from devstack.keys import StackKeys
from devstack.postgrest import PostgrestStandIn
from devstack.runtime import RuntimePool
from devstack.sqs import LocalQueues, create_queues, sqs_client, start_moto
from devstack.supabase_server import supabase_server
from devstack.template import function_spec

DEFAULT_PORTS = {"api": 3000, "supabase": 54321, "sqs": 9324, "apify": 9330, "control": 3001}
DEMO_USER = "5d0c4a4e-6a3b-4c1e-9d61-0b7d3c2f9a10"  # the user the sample events act as
LOCAL_APIFY_TOKEN = "local-apify-token"  # noqa: S105 - the stand-in's own, not a secret
# Short local timings (DESIGN §10): a flaky handle reaches `failed` well within a minute.
LOCAL_VISIBILITY_TIMEOUT = 3
LOCAL_BATCH_WINDOW = 1.0
# LOST_AFTER_SECONDS keeps the deployed relation: >= visibility x receives (3 x 5) and one
# reconcile run's drain time (the stand-in finishes a run in well under a second).
LOCAL_TUNING = {
    "LOST_AFTER_SECONDS": "15",
    "WAIT_MARGIN_SECONDS": "5",
    "SCRAPE_VISIBILITY_TIMEOUT_SECONDS": str(LOCAL_VISIBILITY_TIMEOUT),
    "BATCH_RUN_SECONDS": "0.5",
    "OUTAGE_BACKOFF_SECONDS": "5",
    "OUTAGE_BACKOFF_MAX_SECONDS": "30",
}
RECONCILE_EVERY_SECONDS = 5.0


def local_tuning() -> dict[str, str]:
    """LOCAL_TUNING, plus `DEVSTACK_SET_<VARIABLE>=value` from the environment for one run (the
    benchmarks' drain run sets RECONCILE_LIMIT and LOST_AFTER_SECONDS this way)."""
    prefix = "DEVSTACK_SET_"
    return LOCAL_TUNING | {k.removeprefix(prefix): v for k, v in os.environ.items() if k.startswith(prefix)}


CONTROL_ROUTES = [
    "GET /status",
    "POST /sqs/stop",
    "POST /sqs/start",
    "POST /reconcile",
    "POST /apify/faults",
    "POST /apify/items",
    "POST /apify/outage",
    "POST /db/stop",
    "POST /db/start",
    "POST /db/hang",
]
POOL_SIZES = {"ProfileApiFunction": 4, "ScrapeWorkerFunction": 2, "ReconcilerFunction": 1}


def state_dir() -> Path:
    return Path(os.environ.get("DEVSTACK_STATE_DIR", REPO_ROOT / ".devstack"))


DEMO_HANDLE = "jane.doe"


def prepare_demo_user(database_url: str) -> None:
    """The banner's curl lines must work when pasted in order, at every start: the demo user has a
    linked, scraped handle whose last scrape request is older than the refresh cooldown, and no
    handle change counted against the hourly limit. (Local demo data only.)"""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            """
            insert into public.creator_profiles as c
              (user_id, tiktok_handle, scrape_status, scrape_generation, scrape_requested_at, scraped_at,
               next_refresh_at, last_seen_at)
            values (%(user)s, %(handle)s, 'succeeded', 1, now() - interval '1 day', now() - interval '1 day',
                    now() + interval '1 day', now())
            on conflict (user_id) do update set
              tiktok_handle = coalesce(c.tiktok_handle, excluded.tiktok_handle),
              scrape_status = case when c.tiktok_handle is null then 'succeeded' else c.scrape_status end,
              scrape_requested_at = least(c.scrape_requested_at, now() - interval '1 day'),
              handle_changed_at = '{}'
            """,
            {"user": DEMO_USER, "handle": DEMO_HANDLE},
        )


def running_state(state: Path | None = None) -> dict[str, Any] | None:
    """What the running stack recorded (its ports, endpoints, database), or None when no stack is
    running for this state folder. `token` and `invoke` follow it, wherever the stack was moved."""
    path = (state or state_dir()) / "stack.json"
    if not path.exists():
        return None
    recorded: dict[str, Any] = json.loads(path.read_text())
    try:
        os.kill(int(recorded.get("pid", 0)), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return recorded


def ports() -> dict[str, int]:
    return {
        name: int(os.environ.get(f"DEVSTACK_{name.upper()}_PORT", port))
        for name, port in DEFAULT_PORTS.items()
    }


def plan(env: dict[str, str]) -> dict[str, str]:
    """Which pieces are real and which are stand-ins, from the credentials in `env`."""
    supabase_real = all(
        env.get(k) for k in ("SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY")
    )
    sqs_real = bool(env.get("SCRAPE_QUEUE_URL")) and bool(
        env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_PROFILE")
    )
    return {
        "supabase": "real" if supabase_real else "stand-in",
        "sqs": "real" if sqs_real else "stand-in",
        "apify": "real" if env.get("APIFY_TOKEN") else "stand-in",
    }


def check_ports_free(wanted: dict[str, int]) -> None:
    for name, port in wanted.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise PortBusy(
                    "127.0.0.1", port, f"{name} server (set DEVSTACK_{name.upper()}_PORT to move it)"
                ) from None


@dataclass
class Stack:
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    state: Path = field(default_factory=state_dir)
    port_map: dict[str, int] = field(default_factory=ports)
    pieces: dict[str, str] = field(default_factory=dict)
    database: Database | None = None
    keys: StackKeys | None = None
    postgrest: PostgrestStandIn | None = None
    apify: ApifyStandIn | None = None
    queues: LocalQueues | None = None
    pools: dict[str, RuntimePool] = field(default_factory=dict)
    pollers: list[SqsEventSource] = field(default_factory=list)
    _servers: list[Any] = field(default_factory=list)
    _moto: Any = None
    _stop: threading.Event = field(default_factory=threading.Event)
    started_seconds: float = 0.0

    # ---- start -------------------------------------------------------------------------
    def start(self) -> Stack:
        began = time.monotonic()
        self.pieces = plan(self.env)
        wanted = {"api": self.port_map["api"], "control": self.port_map["control"]}
        for piece in ("supabase", "sqs", "apify"):
            if self.pieces[piece] == "stand-in":
                wanted[piece] = self.port_map[piece]
        check_ports_free(wanted)
        self.state.mkdir(parents=True, exist_ok=True)
        try:
            endpoints = self._endpoints()
            self._start_functions(endpoints)
            self._write_state(endpoints)
        except BaseException:
            self.stop()
            raise
        self.started_seconds = time.monotonic() - began
        return self

    def _endpoints(self) -> Endpoints:
        supabase_url = self.env.get("SUPABASE_URL", "") if self.pieces["supabase"] == "real" else ""
        anon, service = self.env.get("SUPABASE_ANON_KEY", ""), self.env.get("SUPABASE_SERVICE_ROLE_KEY", "")
        if self.pieces["supabase"] == "stand-in":
            supabase_url = f"http://127.0.0.1:{self.port_map['supabase']}"
            self.database = start_database(self.state / "pgdata", delete_on_stop=False)
            self.keys = StackKeys.load_or_create(self.state, issuer=f"{supabase_url}/auth/v1")
            self.postgrest = PostgrestStandIn(self.database.authenticator_url, self.keys).open()
            self._servers.append(supabase_server(self.port_map["supabase"], self.postgrest).start())
            anon, service = self.keys.api_key("anon"), self.keys.api_key("service_role")
            create_user(self.database.url, DEMO_USER, "demo@creator-sync.local")
            prepare_demo_user(self.database.url)
        if self.pieces["sqs"] == "stand-in":
            self._moto, sqs_endpoint = start_moto(self.port_map["sqs"])
            # DEVSTACK_SET_SCRAPE_VISIBILITY_TIMEOUT_SECONDS moves it (and the reconciler's rule with it)
            visibility = int(local_tuning()["SCRAPE_VISIBILITY_TIMEOUT_SECONDS"])
            self.queues = create_queues(sqs_endpoint, visibility_timeout=visibility)
            queue_url, endpoint = self.queues.queue_url, sqs_endpoint
        else:
            queue_url, endpoint = self.env["SCRAPE_QUEUE_URL"], None
        apify_url = self.env.get("APIFY_API_URL") or "https://api.apify.com"
        apify_token = self.env.get("APIFY_TOKEN", "")
        if self.pieces["apify"] == "stand-in":
            run_seconds = float(os.environ.get("DEVSTACK_APIFY_RUN_SECONDS", "1.0"))
            fixtures = self.env.get("DEVSTACK_APIFY_FIXTURES")
            self.apify = ApifyStandIn(
                token=LOCAL_APIFY_TOKEN,
                run_seconds=run_seconds,
                fixtures_dir=Path(fixtures) if fixtures else FIXTURES_DIR,
            )
            server = apify_server(self.port_map["apify"], self.apify).start()
            self.apify.url = server.url
            self._servers.append(server)
            apify_url, apify_token = server.url, LOCAL_APIFY_TOKEN
        return Endpoints(
            supabase_url=supabase_url,
            anon_key=anon,
            service_role_key=service,
            queue_url=queue_url,
            apify_api_url=apify_url,
            apify_token=apify_token,
            sqs_endpoint=endpoint,
            jwt_algorithms="ES256"
            if self.pieces["supabase"] == "stand-in"
            else self.env.get("JWT_ALGORITHMS", "ES256,RS256"),
            tuning=local_tuning(),
            aws_env=aws_environment(self.env) if self.pieces["sqs"] == "real" else {},
        )

    def _start_functions(self, endpoints: Endpoints) -> None:
        # The worker follows WorkerMaxConcurrency (DEVSTACK_SET_WORKER_MAX_CONCURRENCY moves it).
        sizes = POOL_SIZES | {
            "ScrapeWorkerFunction": int(
                local_tuning().get("WORKER_MAX_CONCURRENCY", POOL_SIZES["ScrapeWorkerFunction"])
            )
        }
        for logical_id, size in sizes.items():
            env = local_function_env(logical_id, endpoints)
            timeout = function_spec(logical_id).timeout_seconds
            self.pools[logical_id] = RuntimePool(
                logical_id, env, size, self.state / "logs" / f"{logical_id}.log", timeout
            )
        for pool in self.pools.values():
            pool.wait_ready()
        api = self.pools["ProfileApiFunction"]
        self._servers.append(
            api_server(self.port_map["api"], api.invoke, endpoints.allowed_origins.split(",")).start()
        )
        client = sqs_client(endpoints.sqs_endpoint) if endpoints.sqs_endpoint else _real_sqs_client()
        worker = self.pools["ScrapeWorkerFunction"]
        for _ in range(sizes["ScrapeWorkerFunction"]):  # the event source's MaximumConcurrency
            self.pollers.append(
                SqsEventSource(
                    client,
                    endpoints.queue_url,
                    worker.invoke,
                    batch_size=int(local_tuning().get("SCRAPE_BATCH_SIZE", "10")),  # HandlesPerRun
                    batching_window_seconds=float(
                        os.environ.get("DEVSTACK_BATCH_WINDOW_SECONDS", LOCAL_BATCH_WINDOW)
                    ),
                ).start()
            )
        threading.Thread(target=self._reconcile_timer, name="reconciler-timer", daemon=True).start()
        self._servers.append(control_server(self.port_map["control"], self).start())

    def _reconcile_timer(self) -> None:
        while not self._stop.wait(RECONCILE_EVERY_SECONDS):
            self.reconcile_now()

    def reconcile_now(self) -> Any:
        try:
            return self.pools["ReconcilerFunction"].invoke(
                {"id": f"local-{int(time.time())}", "source": "devstack.timer"}
            )
        except Exception as exc:
            return {"error": str(exc)}

    def _write_state(self, endpoints: Endpoints) -> None:
        state = {
            "ports": self.port_map,
            "pieces": self.pieces,
            "api_url": f"http://127.0.0.1:{self.port_map['api']}",
            "control_url": f"http://127.0.0.1:{self.port_map['control']}",
            "database_url": self.database.url if self.database else None,
            "endpoints": {
                "supabase_url": endpoints.supabase_url,
                "queue_url": endpoints.queue_url,
                "dlq_url": self.queues.dlq_url if self.queues else None,
                "sqs_endpoint": endpoints.sqs_endpoint,
                "apify_api_url": endpoints.apify_api_url,
            },
            "pid": os.getpid(),
        }
        (self.state / "stack.json").write_text(json.dumps(state, indent=2))

    # ---- control -----------------------------------------------------------------------
    def stop_sqs(self) -> None:
        if self._moto is not None:
            self._moto.stop()

    def start_sqs(self) -> None:
        if self._moto is not None:
            self._moto.start()

    def status(self) -> dict[str, Any]:
        return {
            "pieces": self.pieces,
            "invocations": {name: pool.invocations for name, pool in self.pools.items()},
            "rpc_calls": dict(self.postgrest.calls) if self.postgrest else None,
            "apify_runs": len(self.apify.runs) if self.apify else None,
            "runtime_pids": {name: pool.pids() for name, pool in self.pools.items()},
        }

    # ---- stop --------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        for poller in self.pollers:
            poller.stop()
        for server in reversed(self._servers):
            server.stop()
        for pool in self.pools.values():
            pool.stop()
        if self._moto is not None:
            with contextlib.suppress(Exception):  # already stopped through the control API
                self._moto.stop()
        if self.postgrest is not None:
            self.postgrest.close()
        if self.database is not None:
            self.database.stop()
        (self.state / "stack.json").unlink(missing_ok=True)


def _real_sqs_client() -> Any:
    import boto3

    return boto3.client("sqs")


def control_server(port: int, stack: Stack) -> LoopbackServer:
    """Local-only controls for tests and demos: status, SQS off/on, a reconcile run now, Apify faults."""

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            if self.path == "/status":
                self.send_json(200, stack.status())
            else:
                self.send_json(404, {"error": f"no control route GET {self.path}", "routes": CONTROL_ROUTES})

        def do_POST(self) -> None:
            body = self.read_body()
            if self.path == "/sqs/stop":
                stack.stop_sqs()
                self.send_json(200, {"sqs": "stopped"})
            elif self.path == "/sqs/start":
                stack.start_sqs()
                self.send_json(200, {"sqs": "started"})
            elif self.path == "/reconcile":
                self.send_json(200, stack.reconcile_now())
            elif self.path == "/apify/faults" and stack.apify is not None:
                request = json.loads(body or b"{}")
                stack.apify.inject(str(request.get("fault")), int(request.get("count", 1)))
                self.send_json(200, {"queued": request})
            elif self.path == "/apify/items" and stack.apify is not None:
                # {"handle": [items...]}: what runs return for these handles from now on
                overrides = json.loads(body or b"{}")
                stack.apify.item_overrides.update({k.lower(): list(v) for k, v in overrides.items()})
                self.send_json(200, {"handles": sorted(overrides)})
            elif self.path in {"/db/stop", "/db/start", "/db/hang"} and stack.database is not None:
                if self.path == "/db/stop":
                    stack.database.stop_server()
                elif self.path == "/db/start":
                    stack.database.start_server()
                else:
                    seconds = float(json.loads(body or b"{}").get("seconds", 10))
                    stack.database.hang(seconds)
                self.send_json(200, {"database": self.path.rsplit("/", 1)[1]})
            elif self.path == "/apify/outage" and stack.apify is not None:
                seconds = float(json.loads(body or b"{}").get("seconds", 60))
                stack.apify.start_outage(seconds)
                self.send_json(200, {"outage_seconds": seconds})
            else:
                self.send_json(404, {"error": f"no control route POST {self.path}", "routes": CONTROL_ROUTES})

    return LoopbackServer(port, Handler, "local control API")
