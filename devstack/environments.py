"""Each function's environment on the local stack: its template.yaml variables, with references
resolved to the local (or real) endpoints, plus what only the local stack passes (plain secret values
under CREATOR_SYNC_LOCAL=1, the SQS endpoint, dummy AWS credentials). One place, used by the stack,
`invoke` and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from devstack.template import function_environment, function_spec

LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class Endpoints:
    supabase_url: str
    anon_key: str
    service_role_key: str
    queue_url: str
    apify_api_url: str
    apify_token: str
    sqs_endpoint: str | None = None  # None: real SQS with the caller's AWS credentials
    jwt_algorithms: str = "ES256"
    allowed_origins: str = "http://localhost:5173"
    tuning: dict[str, str] = field(default_factory=dict)  # e.g. LOST_AFTER_SECONDS for the local stack
    aws_env: dict[str, str] = field(default_factory=dict)  # real SQS: the caller's AWS settings


# What reaches the functions when the queue is real: credentials (env or a profile with its files),
# region and endpoint overrides, as a deployed function gets them from its role and the runtime.
AWS_PASSTHROUGH = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SQS",
    "HOME",
)


def aws_environment(env: dict[str, str]) -> dict[str, str]:
    return {name: env[name] for name in AWS_PASSTHROUGH if env.get(name)}


def local_function_env(logical_id: str, endpoints: Endpoints) -> dict[str, str]:
    spec = function_spec(logical_id)
    refs = {
        "SupabaseUrl": endpoints.supabase_url,
        "SupabaseAnonKey": endpoints.anon_key,
        "JwtAlgorithms": endpoints.jwt_algorithms,
        "ScrapeQueue": endpoints.queue_url,
        "AllowedOrigins": endpoints.allowed_origins,
        "ApifyActorId": "clockworks/tiktok-profile-scraper",
    }
    env = function_environment(spec, refs)
    env |= {"CREATOR_SYNC_LOCAL": "1", "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_DEV": "0"}
    if endpoints.sqs_endpoint:
        env |= {"AWS_ENDPOINT_URL_SQS": endpoints.sqs_endpoint} | LOCAL_AWS
    else:
        env |= endpoints.aws_env
    if "SUPABASE_SERVICE_ROLE_SECRET_NAME" in spec.environment:  # the profile API never gets the key
        env["SUPABASE_SERVICE_ROLE_KEY"] = endpoints.service_role_key
    if "APIFY_TOKEN_SECRET_NAME" in spec.environment:
        env |= {"APIFY_TOKEN": endpoints.apify_token, "APIFY_API_URL": endpoints.apify_api_url}
    env |= {
        k: v
        for k, v in endpoints.tuning.items()
        if k in spec.environment or k in _TUNABLE.get(logical_id, ())
    }
    return {k: v for k, v in env.items() if v != ""}


_TUNABLE = {
    "ProfileApiFunction": (),
    "ScrapeWorkerFunction": (
        "WAIT_MARGIN_SECONDS",
        "APIFY_RUN_TIMEOUT_SECONDS",
        "OUTAGE_BACKOFF_SECONDS",
        "OUTAGE_BACKOFF_MAX_SECONDS",
    ),
    "ReconcilerFunction": ("BATCH_RUN_SECONDS",),
}
