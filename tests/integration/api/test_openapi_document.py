"""GET /openapi.json: generated from the code, public, documenting every route, model and error."""

from __future__ import annotations

from tests.support.api import ApiClient


def test_the_document_is_public_and_lists_every_route(api: ApiClient) -> None:
    reply = api.request("GET", "/openapi.json")
    assert reply.status == 200
    document = reply.body
    assert document["openapi"].startswith("3.")
    operations = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    assert operations == {
        ("/profile", "GET"),
        ("/profile", "PATCH"),
        ("/profile/refresh", "POST"),
        ("/openapi.json", "GET"),
    }
    assert document["paths"]["/openapi.json"]["get"]["security"] == []
    assert document["security"] == [{"supabase": []}]


def test_every_operation_documents_its_success_and_error_bodies(api: ApiClient) -> None:
    document = api.request("GET", "/openapi.json").body
    expected = {
        ("/profile", "get"): {"200", "401", "500", "503"},
        ("/profile", "patch"): {"200", "400", "401", "403", "413", "415", "422", "429", "500", "503"},
        ("/profile/refresh", "post"): {"202", "401", "403", "409", "429", "500", "503"},
    }
    for (path, method), statuses in expected.items():
        responses = document["paths"][path][method]["responses"]
        assert set(responses) == statuses
        for status in statuses - {"200", "202"}:
            assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith(
                "/ErrorResponse"
            )
        success = responses["200" if "200" in responses else "202"]
        assert success["content"]["application/json"]["schema"]["$ref"].endswith("/Profile")


def test_the_models_and_error_codes_are_documented(api: ApiClient) -> None:
    schemas = api.request("GET", "/openapi.json").body["components"]["schemas"]
    assert {"Profile", "ProfilePatch", "Creator", "ScrapeState", "ErrorResponse", "ErrorCode"} <= set(schemas)
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ProfilePatch"]["properties"]) == {
        "niche",
        "timezone",
        "email_notifications",
        "posting_goal_per_week",
        "tiktok_handle",
    }
    assert schemas["ProfilePatch"]["additionalProperties"] is False
    assert set(schemas["ErrorCode"]["enum"]) == {
        "bad_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "method_not_allowed",
        "conflict",
        "payload_too_large",
        "unsupported_media_type",
        "validation_error",
        "rate_limited",
        "internal_error",
        "unavailable",
    }


def test_the_committed_document_is_the_one_the_code_generates() -> None:
    """docs/openapi.json is what front ends generate their types from: regenerate it with
    `make openapi` when the API changes."""
    from scripts.export_openapi import OUTPUT, generated_document, render

    assert OUTPUT.read_text() == render(generated_document()), "docs/openapi.json drifted: run make openapi"
