"""Builds the worker's and the reconciler's collaborators once per container, on first use. Both act
as the service role; the key (and the Apify token) come from Secrets Manager via Powertools
parameters, cached."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from creator_sync.adapters.scrape_queue import ScrapePublisher
from creator_sync.adapters.secrets import read_secret
from creator_sync.config import ReconcilerSettings, ServiceSettings, WorkerSettings
from creator_sync.scraping.batch import CostGuard, ScrapeBatch
from creator_sync.scraping.reconcile import Reconciler
from creator_sync.stores.rpc import shared_http_client
from creator_sync.stores.scrapes import PostgrestScrapeStore, RefreshPolicy

APIFY_MAX_RETRIES = 2


def _scrape_store(settings: ServiceSettings) -> PostgrestScrapeStore:
    key = read_secret(
        name=settings.supabase_service_role_secret_name,
        local_value=settings.supabase_service_role_key,
        local=settings.creator_sync_local,
        what="the Supabase service-role key",
    )
    return PostgrestScrapeStore(
        settings.rest_url, key, shared_http_client(settings.postgrest_timeout_seconds)
    )


@cache
def worker_settings() -> WorkerSettings:
    return WorkerSettings.from_env()


@cache
def scrape_batch() -> ScrapeBatch:
    from apify_client import ApifyClient

    from creator_sync.adapters.apify import ApifyProfileScraper

    settings = worker_settings()
    token = read_secret(
        name=settings.apify_token_secret_name,
        local_value=settings.apify_token,
        local=settings.creator_sync_local,
        what="the Apify token",
    )
    client = ApifyClient(
        token,
        api_url=settings.apify_api_url,
        max_retries=APIFY_MAX_RETRIES,
        min_delay_between_retries=timedelta(milliseconds=500),
        timeout_short=timedelta(seconds=5),
        timeout_medium=timedelta(seconds=10),
        timeout_long=timedelta(seconds=20),
        timeout_max=timedelta(seconds=70),
    )
    scraper = ApifyProfileScraper(
        client,
        settings.apify_actor_id,
        run_timeout_seconds=settings.apify_run_timeout_seconds,
        memory_mbytes=settings.apify_memory_mbytes,
    )
    guard = CostGuard(
        reuse_seconds=settings.scrape_reuse_seconds,
        daily_budget_usd=settings.apify_daily_budget_usd,
        scheduled_share=settings.scheduled_budget_share,
        outage_backoff_seconds=settings.outage_backoff_seconds,
        outage_backoff_max_seconds=settings.outage_backoff_max_seconds,
    )
    return ScrapeBatch(_scrape_store(settings), scraper, settings.scrape_max_receives, guard)


@cache
def reconciler_settings() -> ReconcilerSettings:
    return ReconcilerSettings.from_env()


@cache
def reconciler() -> Reconciler:
    settings = reconciler_settings()
    return Reconciler(
        _scrape_store(settings),
        ScrapePublisher(
            settings.scrape_queue_url,
            shared_http_client(settings.postgrest_timeout_seconds),
            timeout_seconds=settings.sqs_timeout_seconds,
        ),
        policy=RefreshPolicy(
            lost_after_seconds=settings.lost_after_seconds,
            refresh_after_seconds=settings.refresh_after_seconds,
            inactive_after_days=settings.inactive_after_days,
            inactive_refresh_after_seconds=settings.inactive_refresh_after_seconds,
        ),
        limit=settings.reconcile_limit,
    )
