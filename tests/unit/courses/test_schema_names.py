"""Every model the HTTP functions name has a name of its own: the OpenAPI document keys its
schemas by class name, so two models of one name would describe one of them wrongly (found
when the courses' progress model was first named like generation's)."""

from __future__ import annotations

from pathlib import Path

from aksio import openapi
from aksio.lazy import resolve

ROOT = Path(__file__).resolve().parents[3]


def test_model_names_are_unique_across_functions() -> None:
    seen: dict[str, str] = {}
    clashes = []
    stack = []
    for api in openapi.function_apis(ROOT):
        for route in api.routes:
            stack += [resolve(m) for m in (route.body, route.query, route.response) if m is not None]
    visited = set()
    while stack:
        model = stack.pop()
        if model in visited:
            continue
        visited.add(model)
        where = f"{model.__module__}.{model.__qualname__}"
        if seen.setdefault(model.__name__, where) != where:
            clashes.append((seen[model.__name__], where))
        for field in model.model_fields.values():
            for arg in _models_in(field.annotation):
                stack.append(arg)
    assert clashes == []


def _models_in(annotation: object) -> list[type]:
    from typing import get_args

    from pydantic import BaseModel

    out: list[type] = []
    todo = [annotation]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            out.append(item)
        todo += list(get_args(item))
    return out
