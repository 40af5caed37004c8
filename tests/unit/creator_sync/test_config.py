"""Settings from the environment: a clear message naming what is missing, secrets never in a repr."""

from __future__ import annotations

import pytest
from creator_sync.config import ApiSettings, ConfigError, WorkerSettings

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
