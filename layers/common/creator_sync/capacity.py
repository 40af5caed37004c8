"""The capacity model (DESIGN §12): what a set of deploy parameters can refresh a day, what it costs,
and the rules the parameters must obey between them. One source for the functions' cold-start
checks and for `make capacity`.

Assumptions (README "Capacity" states their sources):
- an actor run for a batch takes `RUN_SECONDS_BASE + RUN_SECONDS_PER_HANDLE x handles` (45 s for 10
  handles, the figure measured for the actor; start-up dominates small batches);
- the actor's list price is `USD_PER_RESULT_LOW..HIGH` per profile ($2.50-$5 per 1,000);
- a worker invocation lasts as long as its run, plus `WORKER_OVERHEAD_SECONDS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RUN_SECONDS_BASE = 30.0
RUN_SECONDS_PER_HANDLE = 1.5
USD_PER_RESULT_LOW = 0.0025
USD_PER_RESULT_HIGH = 0.005
WORKER_OVERHEAD_SECONDS = 1.0
RECONCILER_RUN_SECONDS = 2.0
SECONDS_PER_DAY = 86_400


def batch_run_seconds(handles: int) -> float:
    return RUN_SECONDS_BASE + RUN_SECONDS_PER_HANDLE * handles


@dataclass(frozen=True)
class Plan:
    """The deploy parameters the model reads (template names in README "Capacity")."""

    handles_per_run: int = 10
    worker_max_concurrency: int = 2
    worker_timeout_seconds: int = 120
    worker_memory_mb: int = 512
    visibility_timeout_seconds: int = 720
    max_receives: int = 5
    reconcile_every_seconds: int = 300
    reconcile_limit: int = 500
    lost_after_seconds: int = 3_600
    refresh_after_seconds: int = 86_400
    inactive_refresh_after_seconds: int = 604_800
    wait_margin_seconds: float = 10.0


@dataclass(frozen=True)
class Capacity:
    reconciler_rows_per_day: int
    worker_handles_per_day: int
    drain_seconds: float
    runs_per_day: float
    concurrent_runs: int
    apify_usd_per_day: tuple[float, float]
    lambda_gb_seconds_per_day: float


def capacity(plan: Plan, creators: int, active_share: float) -> Capacity:
    """Daily ceilings of the reconciler and the worker, and what refreshing `creators` costs (active
    ones every refresh interval, the others every inactive interval)."""
    run_seconds = batch_run_seconds(plan.handles_per_run)
    due_per_day = creators * (
        active_share * SECONDS_PER_DAY / plan.refresh_after_seconds
        + (1 - active_share) * SECONDS_PER_DAY / plan.inactive_refresh_after_seconds
    )
    runs = due_per_day / plan.handles_per_run
    needed = math.ceil(runs * run_seconds / SECONDS_PER_DAY) if runs else 0
    worker_seconds = runs * (run_seconds + WORKER_OVERHEAD_SECONDS)
    reconciler_seconds = SECONDS_PER_DAY / plan.reconcile_every_seconds * RECONCILER_RUN_SECONDS
    return Capacity(
        reconciler_rows_per_day=SECONDS_PER_DAY // plan.reconcile_every_seconds * plan.reconcile_limit,
        worker_handles_per_day=int(
            plan.worker_max_concurrency * plan.handles_per_run * SECONDS_PER_DAY / run_seconds
        ),
        drain_seconds=drain_seconds(plan),
        runs_per_day=runs,
        concurrent_runs=needed,
        apify_usd_per_day=(due_per_day * USD_PER_RESULT_LOW, due_per_day * USD_PER_RESULT_HIGH),
        lambda_gb_seconds_per_day=(worker_seconds * plan.worker_memory_mb + reconciler_seconds * 512) / 1024,
    )


def drain_seconds(plan: Plan) -> float:
    """How long the worker needs for one reconcile run's claims, at full concurrency."""
    waves = math.ceil(plan.reconcile_limit / (plan.handles_per_run * plan.worker_max_concurrency))
    return waves * batch_run_seconds(plan.handles_per_run)


def rule_violations(plan: Plan) -> list[str]:
    """Every rule between the parameters that `plan` breaks, each as a sentence naming them."""
    problems = []
    needed = batch_run_seconds(plan.handles_per_run) + plan.wait_margin_seconds
    if needed > plan.worker_timeout_seconds:
        problems.append(
            f"WorkerTimeoutSeconds ({plan.worker_timeout_seconds}) must hold one actor run for"
            f" HandlesPerRun={plan.handles_per_run} plus the margin ({needed:.0f} s)"
        )
    if plan.visibility_timeout_seconds < 6 * plan.worker_timeout_seconds:
        problems.append(
            f"QueueVisibilityTimeoutSeconds ({plan.visibility_timeout_seconds}) must be at least"
            f" 6 x WorkerTimeoutSeconds ({6 * plan.worker_timeout_seconds})"
        )
    in_flight = plan.visibility_timeout_seconds * plan.max_receives
    if plan.lost_after_seconds < in_flight:
        problems.append(
            f"LostAfterSeconds ({plan.lost_after_seconds}) must be at least QueueVisibilityTimeoutSeconds"
            f" x MaxReceives ({in_flight}): a shorter wait re-sends scrapes SQS may still deliver"
        )
    if plan.lost_after_seconds < drain_seconds(plan):
        problems.append(
            f"LostAfterSeconds ({plan.lost_after_seconds}) must exceed one reconcile run's drain time"
            f" ({drain_seconds(plan):.0f} s): lower ReconcileLimit or raise WorkerMaxConcurrency"
        )
    return problems
