"""Models are built on first use, not at import (cold start), and all at once for a snapshot."""

from __future__ import annotations

from creator_sync.boundary import BoundaryModel, build_imported_models


def test_a_model_is_built_on_first_use_not_when_defined() -> None:
    class Reply(BoundaryModel):
        status: int

    assert Reply.__pydantic_complete__ is False
    assert Reply.model_validate({"status": 200}).status == 200
    assert Reply.__pydantic_complete__ is True


def test_priming_builds_every_deferred_model_subclasses_included() -> None:
    class Outer(BoundaryModel):
        name: str

    class Inner(Outer):
        size: int

    built = build_imported_models()
    assert {Outer, Inner} <= set(built)
    assert Outer.__pydantic_complete__
    assert Inner.__pydantic_complete__
    assert Inner(name="a", size=1).size == 1
    assert build_imported_models() == []  # nothing left to build


def test_the_api_models_are_deferred_until_used() -> None:
    from creator_sync.api.models import ProfilePatch

    assert ProfilePatch.model_config.get("defer_build") is True
