"""Which pieces of the local stack are real and which are stand-ins, from the environment."""

from __future__ import annotations

from devstack.stack import plan


def test_nothing_configured_means_every_stand_in() -> None:
    assert plan({}) == {"supabase": "stand-in", "sqs": "stand-in", "apify": "stand-in"}


def test_each_piece_with_its_credentials_is_real() -> None:
    env = {
        "SUPABASE_URL": "https://abcd.supabase.co",
        "SUPABASE_ANON_KEY": "a",
        "SUPABASE_SERVICE_ROLE_KEY": "s",
        "APIFY_TOKEN": "t",
        "SCRAPE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q",
        "AWS_PROFILE": "dev",
    }
    assert plan(env) == {"supabase": "real", "sqs": "real", "apify": "real"}


def test_partial_credentials_keep_the_stand_in() -> None:
    env = {
        "SUPABASE_URL": "https://abcd.supabase.co",
        "SUPABASE_ANON_KEY": "a",
        "SCRAPE_QUEUE_URL": "https://q",
    }
    assert plan(env) == {"supabase": "stand-in", "sqs": "stand-in", "apify": "stand-in"}


def test_apify_alone_can_be_real() -> None:
    assert plan({"APIFY_TOKEN": "t"}) == {"supabase": "stand-in", "sqs": "stand-in", "apify": "real"}
