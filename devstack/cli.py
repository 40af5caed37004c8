"""Command line of the local stack."""

from __future__ import annotations

import argparse
import signal
import threading

from devstack.database import REPO_ROOT, migration_files, start_database

STATE_DIR = REPO_ROOT / ".devstack"


def cmd_up(_: argparse.Namespace) -> int:
    database = start_database(STATE_DIR / "pgdata", delete_on_stop=False)
    print(f"PostgreSQL ready: {database.url}")
    print(f"Applied migrations: {', '.join(p.name for p in migration_files())}")
    print("Press Ctrl-C to stop.")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    database.stop()
    print("Stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the local stack in the foreground")
    up.set_defaults(run=cmd_up)
    args = parser.parse_args(argv)
    return int(args.run(args))
