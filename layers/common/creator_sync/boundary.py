"""The base of every pydantic model in the bundle.

Validators are built on first use, not when the class is defined (`defer_build`): a cold start then
builds only the models its first request touches. For the profile API's `GET /profile` that is
the settings and the profile, ~20 ms less than building every model of the modules it imports
(the patch, the error body, the queue message, the worker's settings, ...). SnapStart priming
builds the ones the API uses (`snapstart.prime_api`), so a restored copy pays none of it.

For the same reason the modules that define models do without `from __future__ import
annotations`: with it, pydantic evaluates every field's annotation from its string at class
creation (~3 ms of the API's cold start).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class BoundaryModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


def build_imported_models() -> list[type[BaseModel]]:
    """Build every model imported so far that is still deferred (SnapStart priming: the snapshot
    then holds them built); returns those it built."""
    built: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = list(BoundaryModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if not model.__pydantic_complete__:
            model.model_rebuild(force=True)
            built.append(model)
    return built
