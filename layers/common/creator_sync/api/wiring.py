"""Builds the profile API's collaborators once per container, on first use (not at import, so a
cold start pays only for what the first request needs and tests can set the environment first)."""

from __future__ import annotations

from functools import cache

from creator_sync.adapters.scrape_queue import ScrapePublisher
from creator_sync.adapters.secrets import read_secret
from creator_sync.api.auth import AuthenticatedUser, TokenVerifier
from creator_sync.api.profiles import ProfileService
from creator_sync.config import ApiSettings
from creator_sync.stores.profiles import PostgrestProfileStore
from creator_sync.stores.rpc import shared_http_client


@cache
def api_settings() -> ApiSettings:
    return ApiSettings.from_env()


@cache
def token_verifier() -> TokenVerifier:
    settings = api_settings()
    secret = None
    if "HS256" in settings.jwt_algorithms:
        secret = read_secret(
            name=settings.supabase_jwt_secret_name,
            local_value=settings.supabase_jwt_secret,
            local=settings.creator_sync_local,
            what="the Supabase JWT secret",
        )
    return TokenVerifier(
        issuer=settings.issuer,
        jwks_url=settings.jwks_url,
        algorithms=list(settings.jwt_algorithms),
        hs256_secret=secret,
        leeway_seconds=settings.jwt_leeway_seconds,
        http_client=shared_http_client(settings.postgrest_timeout_seconds),
    )


def authenticate(authorization: str | None) -> AuthenticatedUser:
    return token_verifier().verify_header(authorization)


@cache
def profile_service() -> ProfileService:
    settings = api_settings()
    store = PostgrestProfileStore(
        settings.rest_url, settings.supabase_anon_key, shared_http_client(settings.postgrest_timeout_seconds)
    )
    publisher = ScrapePublisher(
        settings.scrape_queue_url,
        shared_http_client(settings.postgrest_timeout_seconds),
        timeout_seconds=settings.sqs_timeout_seconds,
    )
    return ProfileService(store, publisher)
