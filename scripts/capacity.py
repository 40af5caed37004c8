"""`make capacity`: what a set of deploy parameters refreshes a day and what it costs (DESIGN §12).

    make capacity                                   # the template's defaults, for 10k / 100k / 1M
    make capacity ARGS="--creators 250000 --param HandlesPerRun=50 --param WorkerMaxConcurrency=6"

Parameters not given come from template.yaml's defaults. Exits 1 when the parameters break a rule
between them (the same rules the functions check when they start). The model and its assumptions
live in creator_sync.capacity.
"""

from __future__ import annotations

import argparse
import re
import sys

from creator_sync.capacity import Plan, batch_run_seconds, capacity, rule_violations

from devstack.template import load_template, parameter_defaults

TEMPLATE_TO_PLAN = {
    "HandlesPerRun": "handles_per_run",
    "WorkerMaxConcurrency": "worker_max_concurrency",
    "WorkerTimeoutSeconds": "worker_timeout_seconds",
    "QueueVisibilityTimeoutSeconds": "visibility_timeout_seconds",
    "MaxReceives": "max_receives",
    "ReconcileLimit": "reconcile_limit",
    "LostAfterSeconds": "lost_after_seconds",
    "RefreshAfterSeconds": "refresh_after_seconds",
    "InactiveRefreshAfterSeconds": "inactive_refresh_after_seconds",
}


def schedule_seconds(expression: str) -> int:
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours)\)", expression)
    if not match:
        raise SystemExit(f"ReconcileSchedule {expression!r} is not rate(N minutes|hours)")
    return int(match.group(1)) * (60 if match.group(2).startswith("minute") else 3600)


def plan_from(parameters: dict[str, str]) -> Plan:
    values = {field: int(float(parameters[name])) for name, field in TEMPLATE_TO_PLAN.items()}
    memory = int(load_template()["Globals"]["Function"].get("MemorySize", 512))
    return Plan(
        **values,
        reconcile_every_seconds=schedule_seconds(parameters["ReconcileSchedule"]),
        worker_memory_mb=memory,
    )


def report(plan: Plan, creators: list[int], active_share: float) -> str:
    lines = [
        f"handles per run {plan.handles_per_run} (a run ~{batch_run_seconds(plan.handles_per_run):.0f} s),"
        f" worker concurrency {plan.worker_max_concurrency}, reconcile {plan.reconcile_limit} rows"
        f" every {plan.reconcile_every_seconds} s, refresh every {plan.refresh_after_seconds} s"
        f" ({plan.inactive_refresh_after_seconds} s when inactive), active share {active_share:.0%}",
    ]
    first = capacity(plan, creators[0], active_share)
    lines.append(
        f"ceilings: reconciler {first.reconciler_rows_per_day:,} rows/day, worker"
        f" {first.worker_handles_per_day:,} handles/day;"
        f" one reconcile run drains in {first.drain_seconds:.0f} s"
    )
    lines.append("")
    lines.append(
        f"{'creators':>10} {'due/day':>10} {'runs/day':>9} {'conc. runs':>10} {'Apify $/day':>15}"
        f" {'GB-s/day':>10}  fits?"
    )
    for count in creators:
        cap = capacity(plan, count, active_share)
        due = cap.runs_per_day * plan.handles_per_run
        fits = due <= min(cap.reconciler_rows_per_day, cap.worker_handles_per_day)
        low, high = cap.apify_usd_per_day
        lines.append(
            f"{count:>10,} {due:>10,.0f} {cap.runs_per_day:>9,.0f} {cap.concurrent_runs:>10}"
            f" {f'{low:,.0f}-{high:,.0f}':>15} {cap.lambda_gb_seconds_per_day:>10,.0f}"
            f"  {'yes' if fits else 'NO'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, action="append", help="linked creators (repeatable)")
    parser.add_argument("--active-share", type=float, default=0.6, help="share seen in InactiveAfterDays")
    parser.add_argument("--param", action="append", default=[], help="Name=Value, a template parameter")
    args = parser.parse_args(argv)
    parameters = parameter_defaults()
    for item in args.param:
        name, _, value = item.partition("=")
        if name not in parameters:
            parser.error(f"unknown template parameter {name!r}")
        parameters[name] = value
    plan = plan_from(parameters)
    print(report(plan, args.creators or [10_000, 100_000, 1_000_000], args.active_share))
    problems = rule_violations(plan)
    for problem in problems:
        print(f"RULE BROKEN: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
