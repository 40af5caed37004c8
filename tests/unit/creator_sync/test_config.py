"""Settings from the environment: a clear message naming what is missing, secrets never in a repr."""

from __future__ import annotations

import pytest
from creator_sync.config import ApiSettings, ConfigError, ReconcilerSettings, WorkerSettings

API_ENV = {
    "SUPABASE_URL": "https://abcd.supabase.co",
    "SUPABASE_ANON_KEY": "anon-key-value",
    "SCRAPE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
}


def test_a_missing_variable_is_named() -> None:
    env = {k: v for k, v in API_ENV.items() if k != "SCRAPE_QUEUE_URL"}
    with pytest.raises(ConfigError, match="SCRAPE_QUEUE_URL: is not set"):
        ApiSettings.from_env(env)


def test_a_malformed_url_is_named() -> None:
    with pytest.raises(ConfigError, match="SUPABASE_URL"):
        ApiSettings.from_env(API_ENV | {"SUPABASE_URL": "abcd.supabase.co/"})


def test_hs256_without_a_secret_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="SUPABASE_JWT_SECRET_NAME"):
        ApiSettings.from_env(API_ENV | {"JWT_ALGORITHMS": "ES256,HS256"})


def test_lists_are_read_from_comma_separated_values() -> None:
    settings = ApiSettings.from_env(
        API_ENV | {"JWT_ALGORITHMS": "ES256, RS256", "ALLOWED_ORIGINS": "https://a.example,https://b.example"}
    )
    assert settings.jwt_algorithms == ["ES256", "RS256"]
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]


def test_timeouts_above_the_budget_are_refused() -> None:
    with pytest.raises(ConfigError, match="POSTGREST_TIMEOUT_SECONDS"):
        ApiSettings.from_env(API_ENV | {"POSTGREST_TIMEOUT_SECONDS": "120"})


def test_secrets_never_appear_in_a_repr() -> None:
    settings = WorkerSettings.from_env(
        {
            "SUPABASE_URL": "https://abcd.supabase.co",
            "SUPABASE_SERVICE_ROLE_KEY": "service-secret",
            "APIFY_TOKEN": "apify-secret",
        }
    )
    api = ApiSettings.from_env(API_ENV)
    assert "service-secret" not in repr(settings)
    assert "apify-secret" not in repr(settings)
    assert "anon-key-value" not in repr(api)


BASE = {"SUPABASE_URL": "https://p.supabase.co", "SCRAPE_QUEUE_URL": "https://q"}


def test_lost_after_shorter_than_what_sqs_may_still_deliver_fails_the_cold_start() -> None:
    env = BASE | {
        "LOST_AFTER_SECONDS": "3000",
        "SCRAPE_VISIBILITY_TIMEOUT_SECONDS": "720",
        "SCRAPE_MAX_RECEIVES": "5",
    }
    with pytest.raises(ConfigError, match=r"LOST_AFTER_SECONDS \(3000\) must be at least .* \(3600\)"):
        ReconcilerSettings.from_env(env)


def test_lost_after_shorter_than_one_runs_drain_fails_the_cold_start() -> None:
    env = BASE | {"LOST_AFTER_SECONDS": "3600", "RECONCILE_LIMIT": "10000", "WORKER_MAX_CONCURRENCY": "2"}
    with pytest.raises(ConfigError, match="drain"):
        ReconcilerSettings.from_env(env)


def test_a_batch_whose_run_cannot_fit_the_worker_timeout_fails_the_cold_start() -> None:
    env = {
        "SUPABASE_URL": "https://p.supabase.co",
        "SCRAPE_BATCH_SIZE": "100",
        "WORKER_TIMEOUT_SECONDS": "120",
    }
    with pytest.raises(ConfigError, match="WORKER_TIMEOUT_SECONDS"):
        WorkerSettings.from_env(env)
    assert WorkerSettings.from_env(env | {"WORKER_TIMEOUT_SECONDS": "300"}).scrape_batch_size == 100


def test_make_capacity_exits_1_and_names_the_broken_rule(capsys: pytest.CaptureFixture[str]) -> None:
    from scripts.capacity import main

    assert main(["--creators", "1000", "--param", "LostAfterSeconds=600"]) == 1
    assert "RULE BROKEN: LostAfterSeconds (600)" in capsys.readouterr().out
    assert main(["--creators", "1000"]) == 0
