"""template.yaml holds what DESIGN §1, §6, §7 and §8 require: least privilege, the event source
settings, queue and DLQ, the schedule, alarms, and no secret in a plain parameter."""

from __future__ import annotations

import json
from typing import Any

from devstack.template import load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def props(logical_id: str) -> dict[str, Any]:
    return dict(RESOURCES[logical_id]["Properties"])


def test_every_function_is_python313_arm64_traced_with_a_log_group() -> None:
    globals_ = TEMPLATE["Globals"]["Function"]
    assert (globals_["Runtime"], globals_["Architectures"], globals_["Tracing"]) == (
        "python3.13",
        ["arm64"],
        "Active",
    )
    for name in ("ProfileApiFunction", "ScrapeWorkerFunction", "ReconcilerFunction"):
        group = props(name)["LoggingConfig"]["LogGroup"]["Ref"]
        assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_api_function_cannot_read_the_service_role_key_and_may_only_send() -> None:
    api = props("ProfileApiFunction")
    text = json.dumps(api)
    assert "ServiceRoleSecretName" not in text
    assert "ApifyTokenSecretName" not in text
    assert "SUPABASE_SERVICE_ROLE" not in text
    assert api["Policies"][0] == {
        "SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["ScrapeQueue", "QueueName"]}}
    }


def test_only_the_worker_and_reconciler_read_the_service_role_secret() -> None:
    readers = {
        name
        for name in ("ProfileApiFunction", "ScrapeWorkerFunction", "ReconcilerFunction")
        if "ServiceRoleSecretName" in json.dumps(props(name)["Policies"])
    }
    assert readers == {"ScrapeWorkerFunction", "ReconcilerFunction"}
    assert "ApifyTokenSecretName" not in json.dumps(props("ReconcilerFunction")["Policies"])


def default(parameter: str) -> Any:
    return TEMPLATE["Parameters"][parameter]["Default"]


def test_the_event_source_mapping_is_wired_to_the_capacity_parameters() -> None:
    sqs = props("ScrapeWorkerFunction")["Events"]["ScrapeRequests"]["Properties"]
    assert (
        sqs["BatchSize"],
        sqs["MaximumBatchingWindowInSeconds"],
        sqs["FunctionResponseTypes"],
        sqs["ScalingConfig"]["MaximumConcurrency"],
    ) == (
        {"Ref": "HandlesPerRun"},
        {"Ref": "BatchingWindowSeconds"},
        ["ReportBatchItemFailures"],
        {"Ref": "WorkerMaxConcurrency"},
    )
    # defaults as DESIGN §6, ranges as §12
    assert (default("HandlesPerRun"), default("BatchingWindowSeconds"), default("WorkerMaxConcurrency")) == (
        10,
        20,
        2,
    )
    assert TEMPLATE["Parameters"]["HandlesPerRun"]["MaxValue"] == 100
    assert TEMPLATE["Parameters"]["WorkerMaxConcurrency"]["MaxValue"] >= 60
    assert TEMPLATE["Parameters"]["ReconcileLimit"]["MaxValue"] == 10_000


def test_the_queue_outlasts_six_worker_timeouts_and_redrives_after_the_receive_limit() -> None:
    queue, dlq = props("ScrapeQueue"), props("ScrapeDLQ")
    assert queue["VisibilityTimeout"] == {"Ref": "QueueVisibilityTimeoutSeconds"}
    assert props("ScrapeWorkerFunction")["Timeout"] == {"Ref": "WorkerTimeoutSeconds"}
    assert default("QueueVisibilityTimeoutSeconds") >= 6 * default("WorkerTimeoutSeconds")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["ScrapeDLQ", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceives"},
    }
    assert default("MaxReceives") == 5
    assert dlq["MessageRetentionPeriod"] == 14 * 86400
    alarm = props("ScrapeDLQDepthAlarm")
    assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "ApproximateNumberOfMessagesVisible",
        0,
        "GreaterThanThreshold",
    )


def test_lost_after_never_resends_what_sqs_may_still_deliver_as_deployed() -> None:
    assert default("LostAfterSeconds") >= default("QueueVisibilityTimeoutSeconds") * default("MaxReceives")
    env = props("ReconcilerFunction")["Environment"]["Variables"]
    assert env["LOST_AFTER_SECONDS"] == {"Ref": "LostAfterSeconds"}
    assert env["SCRAPE_VISIBILITY_TIMEOUT_SECONDS"] == {"Ref": "QueueVisibilityTimeoutSeconds"}
    assert env["SCRAPE_MAX_RECEIVES"] == {"Ref": "MaxReceives"}


def test_the_default_parameters_obey_every_capacity_rule() -> None:
    from creator_sync.capacity import Plan, rule_violations

    plan = Plan(
        handles_per_run=default("HandlesPerRun"),
        worker_max_concurrency=default("WorkerMaxConcurrency"),
        worker_timeout_seconds=default("WorkerTimeoutSeconds"),
        visibility_timeout_seconds=default("QueueVisibilityTimeoutSeconds"),
        max_receives=default("MaxReceives"),
        reconcile_limit=default("ReconcileLimit"),
        lost_after_seconds=default("LostAfterSeconds"),
    )
    assert rule_violations(plan) == []


def test_the_budget_has_an_alarm_on_its_metric() -> None:
    alarm = props("ApifyBudgetExhaustedAlarm")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["AlarmActions"]) == (
        "CreatorSync",
        "ApifyBudgetExhausted",
        [{"Ref": "AlarmTopic"}],
    )
    worker_env = props("ScrapeWorkerFunction")["Environment"]["Variables"]
    assert worker_env["APIFY_DAILY_BUDGET_USD"] == {"Ref": "ApifyDailyBudgetUsd"}


def test_the_reconciler_runs_on_the_schedule_parameter() -> None:
    schedule = props("ReconcilerFunction")["Events"]["EveryFiveMinutes"]["Properties"]
    assert schedule["ScheduleExpression"] == {"Ref": "ReconcileSchedule"}
    assert default("ReconcileSchedule") == "rate(5 minutes)"


def test_every_request_reaches_the_function() -> None:
    event = props("ProfileApiFunction")["Events"]["Everything"]["Properties"]
    assert "Path" not in event  # no Path and no Method: the $default route
    assert "Method" not in event
    assert "CorsConfiguration" in props("HttpApi")
    assert "AccessLogSettings" in props("HttpApi")


def test_no_parameter_holds_a_secret_value() -> None:
    for name in TEMPLATE["Parameters"]:
        if "Secret" in name or "Token" in name:
            assert name.endswith("SecretName"), name
    assert TEMPLATE["Parameters"]["SupabaseAnonKey"]["NoEcho"] is True


def test_snapstart_is_an_opt_in_parameter_on_the_api_behind_its_alias() -> None:
    assert TEMPLATE["Parameters"]["EnableSnapStart"]["Default"] == "false"
    api = props("ProfileApiFunction")
    assert api["AutoPublishAlias"] == "live"  # SAM routes the HttpApi event to the alias
    assert api["SnapStart"] == {"ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}}
    assert TEMPLATE["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]}
