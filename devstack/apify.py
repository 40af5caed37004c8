"""An Apify API v2 stand-in for what the worker's apify-client calls (routes as in
shared/reference/apify.md):

- `POST /v2/actors/{owner}~{name}/runs` and the older `/v2/acts/...` alias (gzip bodies accepted)
- `GET  /v2/actor-runs/{id}?waitForFinish=N` (held up to N s, at most 60, as the real API does)
- `POST /v2/actor-runs/{id}/abort`
- `GET  /v2/datasets/{id}/items?fields=&offset=&limit=&desc=` with the five pagination headers

Runs serve the TikTok profile actor's items from `devstack/fixtures/apify/<handle>.json`, or a
deterministic synthetic profile for any other handle. Errors use Apify's body shape. Faults can be
queued for the next requests or runs (in process, or `POST /_devstack/faults`): `http_429`,
`http_500`, `run_failed`, `never_finishes`, `empty_dataset`. In process, tests can also start a
timed outage (every request 503 until it ends) and replace a handle's items with hostile ones. Every
other route is answered 404 with a message that says the stand-in does not cover it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devstack.http_server import JsonHandler, LoopbackServer

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures" / "apify"
FAULTS = frozenset({"http_429", "http_500", "run_failed", "never_finishes", "empty_dataset"})
REQUEST_FAULTS = frozenset({"http_429", "http_500"})
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED"})
USD_PER_RESULT = 0.0037
MAX_WAIT_SECONDS = 60


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def synthetic_items(handle: str) -> list[dict[str, Any]]:
    """A found profile whose numbers derive from the handle: stable across runs and machines."""
    digest = hashlib.sha256(handle.encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    return [
        {
            "id": str(7_000_000_000_000_000_000 + number % 10**18),
            "input": handle,
            "webVideoUrl": f"https://www.tiktok.com/@{handle}/video/{number % 10**19}",
            "authorMeta": {
                "id": str(6_000_000_000_000_000_000 + (number >> 3) % 10**18),
                "name": handle,
                "profileUrl": f"https://www.tiktok.com/@{handle}",
                "nickName": handle.replace(".", " ").replace("_", " ").title(),
                "verified": digest[8] % 10 == 0,
                "signature": f"synthetic profile for {handle}",
                "bioLink": None,
                "avatar": f"https://p16-sign-va.tiktokcdn.com/avatar/{digest[:6].hex()}.jpeg",
                "privateAccount": False,
                "following": digest[9] * 3,
                "friends": digest[10],
                "fans": int.from_bytes(digest[11:14], "big"),
                "heart": int.from_bytes(digest[14:18], "big"),
                "video": digest[18] % 200 + 1,
                "digg": digest[19] * 10,
            },
        }
    ]


def items_for(handle: str, fixtures_dir: Path = FIXTURES_DIR) -> list[dict[str, Any]]:
    path = fixtures_dir / f"{handle.lower()}.json"
    items = json.loads(path.read_text()) if path.exists() else synthetic_items(handle.lower())
    return [item | {"input": handle} if "input" in item else item for item in items]


@dataclass
class Run:
    id: str
    act_id: str
    profiles: list[str]
    dataset_id: str
    started: float
    finish_at: float | None
    final_status: str
    max_items: int | None
    timeout_secs: int
    memory_mbytes: int
    status: str = "RUNNING"
    finished: float | None = None

    def refresh(self, now: float) -> None:
        if self.status == "RUNNING" and self.finish_at is not None and now >= self.finish_at:
            self.status, self.finished = self.final_status, self.finish_at

    def as_json(self, items: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "actId": self.act_id,
            "userId": "LOCALUSER",
            "startedAt": _iso(self.started),
            "finishedAt": _iso(self.finished),
            "status": self.status,
            "meta": {"origin": "API"},
            "stats": {
                "computeUnits": 0.001,
                "durationMillis": int(((self.finished or time.time()) - self.started) * 1000),
            },
            "options": {
                "build": "latest",
                "timeoutSecs": self.timeout_secs,
                "memoryMbytes": self.memory_mbytes,
                "diskMbytes": 2048,
            },
            "buildId": "LOCALBUILD",
            "defaultKeyValueStoreId": f"kvs-{self.id}",
            "defaultDatasetId": self.dataset_id,
            "defaultRequestQueueId": f"rq-{self.id}",
            "usageTotalUsd": round(items * USD_PER_RESULT, 6),
        }


class ApifyError(Exception):
    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message


@dataclass
class ApifyStandIn:
    token: str
    run_seconds: float = 0.2
    url: str = ""  # set once the server is bound
    runs: dict[str, Run] = field(default_factory=dict)
    datasets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    _faults: deque[str] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Until this time.time(), every API request answers 503 (an Apify outage).
    outage_until: float = 0.0
    # handle → the items a run returns for it instead of the fixture (hostile upstream data).
    item_overrides: dict[str, list[Any]] = field(default_factory=dict)
    # POST /runs requests refused during an outage (the runs that could not start).
    refused_starts: int = 0
    # Where fixture profiles come from (DEVSTACK_APIFY_FIXTURES on the local stack).
    fixtures_dir: Path = FIXTURES_DIR

    def start_outage(self, seconds: float) -> None:
        self.outage_until = time.time() + seconds

    def check_outage(self, starting_run: bool) -> None:
        if time.time() < self.outage_until:
            if starting_run:
                with self._lock:
                    self.refused_starts += 1
            raise ApifyError(503, "service-unavailable", "Apify is unavailable (local outage)")

    def inject(self, fault: str, count: int = 1) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
        with self._lock:
            self._faults.extend([fault] * count)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self.outage_until = 0.0
            self.item_overrides.clear()
            self.refused_starts = 0

    def _take_fault(self, kinds: frozenset[str]) -> str | None:
        with self._lock:
            if self._faults and self._faults[0] in kinds:
                return self._faults.popleft()
        return None

    def check_token(self, authorization: str | None) -> None:
        if authorization != f"Bearer {self.token}":
            raise ApifyError(
                401, "user-or-token-not-found", "User was not found or authentication token is not valid"
            )

    def request_fault(self) -> None:
        fault = self._take_fault(REQUEST_FAULTS)
        if fault == "http_429":
            raise ApifyError(429, "rate-limit-exceeded", "You have exceeded the rate limit. (local fault)")
        if fault == "http_500":
            raise ApifyError(500, "internal-server-error", "Internal server error (local fault)")

    def start_run(self, act_id: str, run_input: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        self.request_fault()
        profiles = run_input.get("profiles")
        if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
            raise ApifyError(
                400, "invalid-input", "Input is not valid: field 'profiles' must be an array of strings"
            )
        fault = self._take_fault(FAULTS - REQUEST_FAULTS)
        run_id = secrets.token_hex(8)
        now = time.time()
        max_items = int(query["maxItems"]) if "maxItems" in query else None
        items: list[dict[str, Any]] = []
        if fault != "empty_dataset":
            for handle in profiles:
                override = self.item_overrides.get(handle.lower())
                items.extend(override if override is not None else items_for(handle, self.fixtures_dir))
        if max_items is not None:
            items = items[:max_items]
        run = Run(
            id=run_id,
            act_id=act_id,
            profiles=list(profiles),
            dataset_id=f"ds-{run_id}",
            started=now,
            finish_at=None if fault == "never_finishes" else now + self.run_seconds,
            final_status="FAILED" if fault == "run_failed" else "SUCCEEDED",
            max_items=max_items,
            timeout_secs=int(query.get("timeout", 300)),
            memory_mbytes=int(query.get("memory", 1024)),
        )
        with self._lock:
            self.runs[run_id] = run
            self.datasets[run.dataset_id] = items if run.final_status == "SUCCEEDED" else []
        return run.as_json(0)

    def get_run(self, run_id: str, wait_seconds: float) -> dict[str, Any]:
        run = self._run(run_id)
        deadline = time.time() + min(max(wait_seconds, 0), MAX_WAIT_SECONDS)
        while True:
            run.refresh(time.time())
            if run.status in TERMINAL or time.time() >= deadline:
                break
            time.sleep(0.02)
        return self.run_json(run)

    def run_json(self, run: Run) -> dict[str, Any]:
        """The run as the API shows it; usage is billed per dataset item of a finished run."""
        return run.as_json(len(self.datasets.get(run.dataset_id, [])) if run.status == "SUCCEEDED" else 0)

    def abort_run(self, run_id: str) -> dict[str, Any]:
        run = self._run(run_id)
        run.refresh(time.time())
        if run.status not in TERMINAL:
            run.status, run.finished = "ABORTED", time.time()
        return run.as_json(0)

    def _run(self, run_id: str) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise ApifyError(404, "record-not-found", f"Actor run {run_id} was not found")
        return run

    def list_items(
        self, dataset_id: str, query: dict[str, str]
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        if dataset_id not in self.datasets:
            raise ApifyError(404, "record-not-found", f"Dataset {dataset_id} was not found")
        items = list(self.datasets[dataset_id])
        desc = query.get("desc") in {"1", "true"}
        if desc:
            items.reverse()
        offset = int(query.get("offset", 0))
        limit = int(query.get("limit", len(items) or 1))
        page = items[offset : offset + limit]
        if query.get("fields"):
            wanted = set(query["fields"].split(","))
            page = [{k: v for k, v in item.items() if k in wanted} for item in page]
        headers = {
            "X-Apify-Pagination-Offset": str(offset),
            "X-Apify-Pagination-Limit": str(limit),
            "X-Apify-Pagination-Count": str(len(page)),
            "X-Apify-Pagination-Total": str(len(items)),
            "X-Apify-Pagination-Desc": "true" if desc else "false",
        }
        return page, headers


def apify_server(port: int, standin: ApifyStandIn) -> LoopbackServer:
    class Handler(JsonHandler):
        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            segments = [s for s in parts.path.split("/") if s]
            body = self._body()
            try:
                if segments[:2] == ["_devstack", "faults"] and self.command == "POST":
                    request = json.loads(body or b"{}")
                    standin.inject(str(request.get("fault")), int(request.get("count", 1)))
                    self.send_json(200, {"queued": request})
                    return
                if segments[:2] == ["_devstack", "runs"] and self.command == "GET":
                    runs = [standin.run_json(r) | {"profiles": r.profiles} for r in standin.runs.values()]
                    self.send_json(200, {"runs": runs})
                    return
                standin.check_token(self.headers.get("Authorization"))
                standin.requests[f"{self.command} {'/'.join(segments[:2])}"] += 1
                standin.check_outage(starting_run=self.command == "POST" and segments[-1:] == ["runs"])
                self._route(segments, query, body)
            except ApifyError as exc:
                self.send_json(exc.status, {"error": {"type": exc.type, "message": exc.message}})
            except (ValueError, KeyError) as exc:
                self.send_json(400, {"error": {"type": "invalid-input", "message": str(exc)}})

        def _route(self, segments: list[str], query: dict[str, str], body: bytes) -> None:
            match (self.command, segments):
                case ("POST", ["v2", "actors" | "acts", act_id, "runs"]):
                    run_input = json.loads(body or b"{}")
                    self.send_json(201, {"data": standin.start_run(act_id, run_input, query)})
                case ("GET", ["v2", "actor-runs", run_id]):
                    standin.request_fault()
                    self.send_json(
                        200, {"data": standin.get_run(run_id, float(query.get("waitForFinish", 0)))}
                    )
                case ("POST", ["v2", "actor-runs", run_id, "abort"]):
                    self.send_json(200, {"data": standin.abort_run(run_id)})
                case ("GET", ["v2", "datasets", dataset_id, "items"]):
                    standin.request_fault()
                    page, headers = standin.list_items(dataset_id, query)
                    self.send_json(200, page, headers)
                case _:
                    raise ApifyError(
                        404,
                        "page-not-found",
                        f"{self.command} {self.path} is not covered by the local Apify stand-in "
                        "(it serves actor runs, run polling/abort and dataset items)",
                    )

        def _body(self) -> bytes:
            raw = self.read_body()
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                return gzip.decompress(raw)
            return raw

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):
                return self._dispatch
            raise AttributeError(name)

    return LoopbackServer(port, Handler, "Apify stand-in")
