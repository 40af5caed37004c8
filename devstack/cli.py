"""`python -m devstack up | token | invoke`: the local stack's command line."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from devstack.http_server import PortBusy


def cmd_up(_: argparse.Namespace) -> int:
    from devstack.stack import DEMO_USER, Stack

    stack = Stack()
    try:
        stack.start()
    except PortBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(banner(stack, DEMO_USER), flush=True)
    while not stop.wait(0.5):
        pass
    print("\nstopping the local stack ...", flush=True)
    stack.stop()
    print("stopped; data kept in", stack.state, flush=True)
    return 0


def banner(stack: Any, demo_user: str) -> str:
    api = f"http://127.0.0.1:{stack.port_map['api']}"
    lines = [
        f"creator-sync local stack is up in {stack.started_seconds:.1f} s",
        "",
        "  pieces:",
        f"    Supabase (PostgreSQL + PostgREST + JWKS)  {stack.pieces['supabase']:8}  "
        + (
            f"http://127.0.0.1:{stack.port_map['supabase']}"
            if stack.pieces["supabase"] == "stand-in"
            else stack.env["SUPABASE_URL"]
        ),
        f"    SQS (ScrapeQueue + DLQ)                   {stack.pieces['sqs']:8}  "
        + (
            f"http://127.0.0.1:{stack.port_map['sqs']}"
            if stack.pieces["sqs"] == "stand-in"
            else stack.env["SCRAPE_QUEUE_URL"]
        ),
        f"    Apify API                                 {stack.pieces['apify']:8}  "
        + (
            f"http://127.0.0.1:{stack.port_map['apify']}"
            if stack.pieces["apify"] == "stand-in"
            else "https://api.apify.com"
        ),
        f"    API (ProfileApiFunction)                  local     {api}",
        "    worker (SQS poller) and reconciler (timer) local",
        f"    control (status, faults)                  local     http://127.0.0.1:{stack.port_map['control']}",
        f"  function logs: {stack.state / 'logs'}",
        "",
    ]
    if stack.keys is not None:
        token = stack.keys.user_token(demo_user, expires_in=3600)
        lines += [
            f"  dev token for the demo user {demo_user} (valid 1 hour;",
            "  more: .venv/bin/python -m devstack token --user UUID):",
            "",
            "  (the demo user is reset at every start, so these work pasted in order)",
            "",
            f"export TOKEN={token}",
            f'curl -s {api}/profile -H "Authorization: Bearer $TOKEN"',
            f'curl -s -X POST {api}/profile/refresh -H "Authorization: Bearer $TOKEN"',
            f'curl -s -X PATCH {api}/profile -H "Authorization: Bearer $TOKEN" '
            "-H 'Content-Type: application/json' "
            '-d \'{"niche": "cooking", "timezone": "Europe/Paris"}\'',
            f'curl -s -X PATCH {api}/profile -H "Authorization: Bearer $TOKEN" '
            "-H 'Content-Type: application/json' "
            '-d \'{"tiktok_handle": "https://www.tiktok.com/@creator.demo"}\'',
            f"curl -s {api}/openapi.json",
            "",
            "  reserved handles: ghost.user (not found), private.user (private), no.videos,",
            "  flaky.user (fails, then rests in the DLQ)",
        ]
    else:
        lines.append("  Supabase is real: sign in with Supabase Auth and use that session's access token.")
    lines += ["", "Ctrl-C stops everything."]
    return "\n".join(lines)


def cmd_token(args: argparse.Namespace) -> int:
    from devstack.database import create_user, start_database
    from devstack.keys import StackKeys
    from devstack.stack import ports, running_state, state_dir

    state = state_dir()
    running = running_state(state)
    if running is not None:  # the running stack's issuer (its port) and database
        keys = StackKeys.load_or_create(state, issuer=f"{running['endpoints']['supabase_url']}/auth/v1")
        create_user(running["database_url"], args.user)
    else:
        keys = StackKeys.load_or_create(state, issuer=f"http://127.0.0.1:{ports()['supabase']}/auth/v1")
        database = start_database(state / "pgdata", delete_on_stop=False)
        try:
            create_user(database.url, args.user)
        finally:
            database.stop()
    print(keys.user_token(args.user, expires_in=args.expires_in))
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from devstack.environments import Endpoints, aws_environment, local_function_env
    from devstack.events import load_event
    from devstack.keys import StackKeys
    from devstack.lambda_context import load_handler, new_context
    from devstack.stack import LOCAL_APIFY_TOKEN, local_tuning, running_state, state_dir
    from devstack.template import function_spec

    spec = function_spec(args.logical_id)
    keys: StackKeys | None = None
    state = running_state()
    if state is not None:
        endpoints = state["endpoints"]
        local_supabase = state["pieces"]["supabase"] == "stand-in"
        if local_supabase:
            keys = StackKeys.load_or_create(state_dir(), issuer=f"{endpoints['supabase_url']}/auth/v1")
        env = local_function_env(
            args.logical_id,
            Endpoints(
                supabase_url=endpoints["supabase_url"],
                anon_key=keys.api_key("anon") if keys else os.environ.get("SUPABASE_ANON_KEY", ""),
                service_role_key=keys.api_key("service_role")
                if keys
                else os.environ.get("SUPABASE_SERVICE_ROLE_KEY", ""),
                queue_url=endpoints["queue_url"],
                apify_api_url=endpoints["apify_api_url"],
                apify_token=LOCAL_APIFY_TOKEN
                if state["pieces"]["apify"] == "stand-in"
                else os.environ.get("APIFY_TOKEN", ""),
                sqs_endpoint=endpoints["sqs_endpoint"],
                jwt_algorithms="ES256" if local_supabase else os.environ.get("JWT_ALGORITHMS", "ES256,RS256"),
                tuning=local_tuning(),
                aws_env=aws_environment(dict(os.environ)) if state["pieces"]["sqs"] == "real" else {},
            ),
        )
        os.environ.update(env)
    elif not os.environ.get("SUPABASE_URL"):
        print(
            "error: no local stack is running (start it with `make dev`) and no SUPABASE_URL is set",
            file=sys.stderr,
        )
        return 2

    def token_for(user_id: str) -> str:
        if keys is None:
            raise SystemExit(
                "error: this event needs a local dev token; tokens can only be minted for the local stack"
            )
        from devstack.database import create_user

        assert state is not None
        create_user(state["database_url"], user_id)
        return keys.user_token(user_id)

    event = load_event(Path(args.event), token_for)
    handler = load_handler(spec)
    try:
        result = handler(event, new_context(spec))
    except Exception as exc:  # as sam local invoke: report the unhandled error and fail
        traceback.print_exc(file=sys.stderr)
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}))
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description="creator-sync local stack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the local stack in the foreground (Ctrl-C stops it)").set_defaults(
        run=cmd_up
    )
    token = commands.add_parser("token", help="print a dev access token for a user (created if missing)")
    token.add_argument("--user", required=True, help="the user's UUID")
    token.add_argument(
        "--expires-in", type=int, default=3600, help="seconds until the token expires (default 3600)"
    )
    token.set_defaults(run=cmd_token)
    invoke = commands.add_parser(
        "invoke", help="run one function with an event file, like `sam local invoke`"
    )
    invoke.add_argument("logical_id", help="ProfileApiFunction, ScrapeWorkerFunction or ReconcilerFunction")
    invoke.add_argument(
        "--event", "-e", required=True, help="an event file, e.g. events/api-get-profile.json"
    )
    invoke.set_defaults(run=cmd_invoke)
    args = parser.parse_args(argv)
    return int(args.run(args))
