"""ProfileApiFunction: routes -> creator_sync.api.profiles. Parse, call the use case, shape the reply.

The handlers' signatures are the API's schema: the route table validates the body model a handler
names, and Powertools generates the OpenAPI document from the same signatures.
"""

from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from creator_sync import time_budget
from creator_sync.api import snapstart
from creator_sync.api.models import Profile, ProfilePatch
from creator_sync.api.router import ProfileApi, documented_responses, last_resort_answer
from creator_sync.api.wiring import api_settings, authenticate, profile_service
from creator_sync.observability import flush_metrics_if_any, logger, tracer

OPENAPI_PATH = "/openapi.json"
AUTHED_ERRORS = (401, 500, 503)

app = ProfileApi(authenticate=authenticate, max_body_bytes=16 * 1024)


@app.get(
    "/profile",
    summary="Read the caller's profile",
    responses=documented_responses((200, Profile, "The caller's profile"), *AUTHED_ERRORS),
)
@tracer.capture_method(capture_response=False)
def get_profile() -> Profile:
    return profile_service().get(app.current_user())


@app.patch(
    "/profile",
    summary="Change settings and/or link, change or unlink the TikTok handle",
    responses=documented_responses(
        (200, Profile, "The profile after the write"), 400, 403, 413, 415, 422, 429, *AUTHED_ERRORS
    ),
)
@tracer.capture_method(capture_response=False)
def patch_profile(patch: ProfilePatch) -> Profile:
    return profile_service().update(app.current_user(), patch, app.request_id())


@app.post(
    "/profile/refresh",
    summary="Queue a new scrape of the linked handle",
    status_code=202,
    responses=documented_responses((202, Profile, "Scrape queued"), 403, 409, 429, *AUTHED_ERRORS),
)
@tracer.capture_method(capture_response=False)
def refresh_profile() -> Profile:
    return profile_service().refresh(app.current_user(), app.request_id())


@app.get(
    OPENAPI_PATH,
    summary="This document",
    responses=documented_responses((200, {"type": "object"}, "OpenAPI 3.1 document"), 500),
    public=True,
)
def openapi_document() -> dict[str, Any]:
    return openapi_json()


@cache
def openapi_json() -> dict[str, Any]:
    from creator_sync.api.openapi import generate_openapi

    return generate_openapi(
        app,
        title="creator-sync profile API",
        version="1.0.0",
        description="A creator's settings and linked TikTok profile. Errors share one body: ErrorResponse.",
    )


def _prime_for_snapshot() -> None:
    snapstart.prime_api()
    openapi_json()


snapstart.register(before_snapshot=_prime_for_snapshot, after_restore=snapstart.renew_after_restore)


# Traces keep their subsegments and timings but never the responses (here and on the routes): a
# profile is personal data, and Tracer would copy each one into X-Ray as metadata.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@flush_metrics_if_any
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    api_settings()  # fail the cold start with a clear message when configuration is missing
    time_budget.start_request(context.get_remaining_time_in_millis() / 1000)
    try:
        return app.resolve(event)
    except Exception:  # [R2]: whatever slipped past the resolver still answers in the error shape
        logger.exception("unhandled error outside the routes")
        return last_resort_answer(event)
    finally:
        time_budget.end_request()
