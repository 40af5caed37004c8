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


def test_the_event_source_mapping_is_as_designed() -> None:
    sqs = props("ScrapeWorkerFunction")["Events"]["ScrapeRequests"]["Properties"]
    assert (
        sqs["BatchSize"],
        sqs["MaximumBatchingWindowInSeconds"],
        sqs["FunctionResponseTypes"],
        sqs["ScalingConfig"]["MaximumConcurrency"],
    ) == (10, 20, ["ReportBatchItemFailures"], 2)


def test_the_queue_outlasts_six_worker_timeouts_and_redrives_after_five_receives() -> None:
    queue, dlq = props("ScrapeQueue"), props("ScrapeDLQ")
    assert queue["VisibilityTimeout"] >= 6 * props("ScrapeWorkerFunction")["Timeout"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["ScrapeDLQ", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert dlq["MessageRetentionPeriod"] == 14 * 86400
    alarm = props("ScrapeDLQDepthAlarm")
    assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "ApproximateNumberOfMessagesVisible",
        0,
        "GreaterThanThreshold",
    )


def test_the_reconciler_runs_every_five_minutes() -> None:
    schedule = props("ReconcilerFunction")["Events"]["EveryFiveMinutes"]["Properties"]
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"


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
