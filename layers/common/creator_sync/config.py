"""Settings read from the environment once per cold start and validated with pydantic.

A missing or malformed variable fails the cold start with a message that names it. Secrets are
never environment values in AWS: the service-role key, the Apify token and a legacy HS256 JWT secret
come from Secrets Manager by name (see `secrets`); plain values are accepted only when
`CREATOR_SYNC_LOCAL=1`, which the local stack sets.
"""

import os
from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from creator_sync.capacity import batch_run_seconds

Algorithm = Literal["ES256", "RS256", "HS256"]


class ConfigError(RuntimeError):
    pass


class _EnvModel(BaseModel):
    # Built on first use, like every model here (creator_sync.boundary).
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{str(err['loc'][0]).upper() if err['loc'] else cls.__name__}: "
                f"{'is not set' if err['type'] == 'missing' else err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"invalid configuration: {problems}") from None


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class SupabaseSettings(_EnvModel):
    supabase_url: Annotated[str, Field(pattern=r"^https?://[^/]+$")]
    postgrest_timeout_seconds: Annotated[float, Field(gt=0, le=5)] = 5.0
    creator_sync_local: bool = False

    @property
    def rest_url(self) -> str:
        return f"{self.supabase_url}/rest/v1"

    @property
    def issuer(self) -> str:
        return f"{self.supabase_url}/auth/v1"

    @property
    def jwks_url(self) -> str:
        return f"{self.supabase_url}/auth/v1/.well-known/jwks.json"


class ApiSettings(SupabaseSettings):
    supabase_anon_key: Annotated[str, Field(min_length=1, repr=False)]
    jwt_algorithms: Annotated[list[Algorithm], Field(min_length=1)] = ["ES256", "RS256"]
    supabase_jwt_secret_name: str = ""
    supabase_jwt_secret: Annotated[str, Field(repr=False)] = ""
    jwt_leeway_seconds: Annotated[int, Field(ge=0, le=30)] = 30
    scrape_queue_url: Annotated[str, Field(min_length=1)]
    sqs_timeout_seconds: Annotated[float, Field(gt=0, le=3)] = 3.0
    allowed_origins: list[str] = []
    max_body_bytes: Annotated[int, Field(gt=0)] = 16 * 1024

    _split = field_validator("jwt_algorithms", "allowed_origins", mode="before")(_split_csv)

    @model_validator(mode="after")
    def _hs256_needs_a_secret(self) -> Self:
        if "HS256" in self.jwt_algorithms and not (self.supabase_jwt_secret_name or self.supabase_jwt_secret):
            raise ValueError("HS256 is enabled but SUPABASE_JWT_SECRET_NAME is not set")
        return self


class ServiceSettings(SupabaseSettings):
    """Shared by the worker and the reconciler: they act as the service role."""

    supabase_service_role_secret_name: str = ""
    supabase_service_role_key: Annotated[str, Field(repr=False)] = ""


class WorkerSettings(ServiceSettings):
    apify_token_secret_name: str = ""
    apify_token: Annotated[str, Field(repr=False)] = ""
    apify_api_url: str = "https://api.apify.com"
    apify_actor_id: str = "clockworks/tiktok-profile-scraper"
    apify_run_timeout_seconds: Annotated[int, Field(gt=0)] = 90
    apify_memory_mbytes: Annotated[int, Field(ge=128, le=32768)] = 1024
    scrape_max_receives: Annotated[int, Field(ge=1)] = 5
    wait_margin_seconds: Annotated[float, Field(ge=0)] = 10.0
    # Cost guard [R10]
    scrape_reuse_seconds: Annotated[int, Field(ge=0, le=86_400)] = 600
    apify_daily_budget_usd: Annotated[float, Field(ge=0)] = 100.0
    scheduled_budget_share: Annotated[float, Field(ge=0, le=1)] = 0.8
    outage_backoff_seconds: Annotated[int, Field(ge=1, le=3_600)] = 60
    outage_backoff_max_seconds: Annotated[int, Field(ge=1, le=86_400)] = 900
    scrape_batch_size: Annotated[int, Field(ge=1, le=100)] = 10
    worker_timeout_seconds: Annotated[int, Field(ge=1, le=900)] = 120

    @model_validator(mode="after")
    def _the_apify_wait_fits_the_timeout(self) -> Self:
        needed = batch_run_seconds(self.scrape_batch_size) + self.wait_margin_seconds
        if needed > self.worker_timeout_seconds:
            raise ValueError(
                f"WORKER_TIMEOUT_SECONDS ({self.worker_timeout_seconds}) cannot hold one actor run for"
                f" SCRAPE_BATCH_SIZE={self.scrape_batch_size} plus the margin ({needed:.0f} s)"
            )
        return self


class ReconcilerSettings(ServiceSettings):
    scrape_queue_url: Annotated[str, Field(min_length=1)]
    sqs_timeout_seconds: Annotated[float, Field(gt=0, le=3)] = 3.0
    lost_after_seconds: Annotated[int, Field(gt=0)] = 3_600
    refresh_after_seconds: Annotated[int, Field(ge=60)] = 86_400
    inactive_after_days: Annotated[int, Field(ge=1, le=3_650)] = 14
    inactive_refresh_after_seconds: Annotated[int, Field(ge=60)] = 604_800
    reconcile_limit: Annotated[int, Field(gt=0, le=10_000)] = 500
    # The queue and worker as deployed (template parameters), for the rules below.
    scrape_visibility_timeout_seconds: Annotated[int, Field(ge=0)] = 720
    scrape_max_receives: Annotated[int, Field(ge=1)] = 5
    scrape_batch_size: Annotated[int, Field(ge=1, le=100)] = 10
    worker_max_concurrency: Annotated[int, Field(ge=1, le=1_000)] = 2
    # Seconds one actor run takes for a full batch; unset: the capacity model's estimate.
    batch_run_seconds: Annotated[float | None, Field(gt=0)] = None

    @model_validator(mode="after")
    def _never_resend_what_sqs_may_deliver(self) -> Self:
        in_flight = self.scrape_visibility_timeout_seconds * self.scrape_max_receives
        if self.lost_after_seconds < in_flight:
            raise ValueError(
                f"LOST_AFTER_SECONDS ({self.lost_after_seconds}) must be at least the visibility timeout"
                f" x max receives ({in_flight}): a shorter wait re-sends scrapes SQS may still deliver"
            )
        if self.lost_after_seconds < self.drain_seconds:
            raise ValueError(
                f"LOST_AFTER_SECONDS ({self.lost_after_seconds}) must exceed the time one reconcile run's"
                f" messages take to drain ({self.drain_seconds:.0f} s for RECONCILE_LIMIT"
                f" {self.reconcile_limit}): lower the limit or raise the worker's concurrency"
            )
        return self

    @property
    def drain_seconds(self) -> float:
        """How long the worker needs for one run's claims, at full concurrency."""
        waves = -(-self.reconcile_limit // (self.scrape_batch_size * self.worker_max_concurrency))
        return waves * (self.batch_run_seconds or batch_run_seconds(self.scrape_batch_size))
