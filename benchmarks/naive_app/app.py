"""The naive stack the cold-start benchmark compares against: the same job (verify the Supabase
token, call the profile RPC as the user, publish the scrape request) written the way a typical
developer would, with every client built at import: `supabase.create_client`, a boto3 SQS client,
Powertools' validating resolver, Logger, Tracer and Metrics, and `jwt.PyJWKClient`."""

import json
import os
from typing import Any

import boto3
import jwt
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from pydantic import BaseModel

from supabase import create_client

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Naive")
app = APIGatewayHttpResolver(enable_validation=True)

SUPABASE_URL = os.environ["SUPABASE_URL"]
supabase = create_client(SUPABASE_URL, os.environ["SUPABASE_ANON_KEY"])
sqs = boto3.client("sqs")
jwks = jwt.PyJWKClient(f"{SUPABASE_URL}/auth/v1/.well-known/jwks.json")


class Patch(BaseModel):
    niche: str | None = None
    tiktok_handle: str | None = None


def user_token() -> str:
    header = app.current_event.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip()
    try:
        key = jwks.get_signing_key_from_jwt(token)
        jwt.decode(
            token, key, algorithms=["ES256"], audience="authenticated", issuer=f"{SUPABASE_URL}/auth/v1"
        )
    except jwt.PyJWTError as exc:
        raise UnauthorizedError(str(exc)) from exc
    return token


@app.get("/profile")
@tracer.capture_method
def get_profile() -> dict[str, Any]:
    supabase.postgrest.auth(user_token())
    data: Any = supabase.rpc("get_profile", {}).execute().data
    return dict(data)


@app.patch("/profile")
@tracer.capture_method
def patch_profile(patch: Patch) -> dict[str, Any]:
    supabase.postgrest.auth(user_token())
    arguments = {
        "p_settings": {},
        "p_set_handle": patch.tiktok_handle is not None,
        "p_handle": patch.tiktok_handle,
    }
    data: Any = supabase.rpc("update_profile", arguments).execute().data
    if data.get("scrape"):
        sqs.send_message(QueueUrl=os.environ["SCRAPE_QUEUE_URL"], MessageBody=json.dumps(data["scrape"]))
        metrics.add_metric(name="ScrapeRequested", unit="Count", value=1)
    return dict(data["profile"])


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
