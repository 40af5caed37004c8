"""The route table's own rules, apart from any app: a handler takes nothing or one pydantic model
(its body), an operation is registered once, and handlers see the request only while it runs."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from creator_sync.api.auth import AuthenticatedUser
from creator_sync.api.router import ProfileApi
from creator_sync.errors import InternalError, Unauthorized
from pydantic import BaseModel


class Greeting(BaseModel):
    name: str


def event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    return {
        "rawPath": path,
        "requestContext": {"http": {"method": method}, "requestId": "req-1"},
        "headers": {"authorization": "Bearer t", "content-type": "application/json"},
        "body": body,
    }


@pytest.fixture
def user() -> AuthenticatedUser:
    return AuthenticatedUser(user_id=uuid4(), token="t")


def test_a_handler_with_a_body_model_gets_it_validated(user: AuthenticatedUser) -> None:
    api = ProfileApi(authenticate=lambda _: user, max_body_bytes=1024)

    @api.patch("/hello", summary="s", responses={})
    def hello(greeting: Greeting) -> Greeting:
        assert api.current_user() is user
        assert api.request_id() == "req-1"
        return Greeting(name=greeting.name.upper())

    assert api.resolve(event("PATCH", "/hello", '{"name": "ada"}'))["body"] == '{"name":"ADA"}'
    refused = api.resolve(event("PATCH", "/hello", '{"name": 1}'))
    assert refused["statusCode"] == 422
    assert '"loc":["body","name"]' in refused["body"]


def test_the_request_is_gone_once_answered(user: AuthenticatedUser) -> None:
    api = ProfileApi(authenticate=lambda _: user, max_body_bytes=1024)

    @api.get("/hello", summary="s", responses={})
    def hello() -> Greeting:
        return Greeting(name="x")

    api.resolve(event("GET", "/hello"))
    with pytest.raises(InternalError):
        api.current_user()


def test_authentication_runs_before_the_body_is_read() -> None:
    def refuse(_: str | None) -> AuthenticatedUser:
        raise Unauthorized("no")

    api = ProfileApi(authenticate=refuse, max_body_bytes=4)

    @api.patch("/hello", summary="s", responses={})
    def hello(greeting: Greeting) -> Greeting:
        return greeting

    assert api.resolve(event("PATCH", "/hello", "x" * 100))["statusCode"] == 401


def test_a_handler_must_take_nothing_or_one_model() -> None:
    api = ProfileApi(authenticate=lambda _: None, max_body_bytes=1024)  # type: ignore[arg-type,return-value]

    def two(a: Greeting, b: Greeting) -> Greeting:
        return a

    def text(a: str) -> Greeting:
        return Greeting(name=a)

    for handler in (two, text):
        with pytest.raises(TypeError):
            api.get("/x", summary="s", responses={})(handler)


def test_an_operation_is_registered_once() -> None:
    api = ProfileApi(authenticate=lambda _: None, max_body_bytes=1024)  # type: ignore[arg-type,return-value]

    def hello() -> Greeting:
        return Greeting(name="x")

    api.get("/x", summary="s", responses={})(hello)
    with pytest.raises(ValueError, match="registered twice"):
        api.get("/x", summary="s", responses={})(hello)
