"""The query fast path (:mod:`aksio.params`) against the pydantic models it stands in for:
every declared spec names the model's fields with the same aliases, defaults and bounds,
and whatever it accepts, the model accepts with the same values."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from aksio import params
from aksio.lazy import resolve
from aksio.openapi import function_apis

ROOT = Path(__file__).resolve().parents[2]


def fast_routes() -> list[Any]:
    return [r for api in function_apis(ROOT) for r in api.routes if r.fast_query is not None]


def constraints(model: Any, alias: str) -> dict[str, Any]:
    """The bounds the model's JSON schema states for one field (through ``anyOf`` for optionals)."""
    prop = model.model_json_schema()["properties"][alias]
    out: dict[str, Any] = {}
    for part in [prop, *prop.get("anyOf", [])]:
        for key, name in (("minimum", "ge"), ("maximum", "le"), ("maxLength", "max_length"), ("pattern", "pattern")):
            if key in part:
                out[name] = part[key]
    return out


def test_light_read_routes_declare_a_fast_path() -> None:
    names = {(r.path, r.query.name if hasattr(r.query, "name") else r.query.__name__) for r in fast_routes()}
    assert ("/", "ListQuery") in names
    assert ("/", "CardListQuery") in names
    assert {"QueueQuery", "StatsQuery", "DocumentListQuery"} <= {name for _, name in names}


@pytest.mark.parametrize("route", fast_routes(), ids=lambda r: f"{r.method} {r.path} {r.handler.__module__}")
def test_each_spec_matches_its_model(route: Any) -> None:
    model = resolve(route.query)
    spec = route.fast_query
    assert set(spec.fields) == set(model.model_fields)
    for name, param in spec.fields.items():
        info = model.model_fields[name]
        assert info.alias == params.camel(name)
        assert param.default == info.default
        found = constraints(model, info.alias)
        if isinstance(param, params.Int):
            assert found == {k: v for k, v in {"ge": param.ge, "le": param.le}.items() if v is not None}
        else:
            expected = {"max_length": param.max_length, "pattern": param.pattern}
            assert found == {k: v for k, v in expected.items() if v is not None}


VALUES = [
    "",
    "0",
    "1",
    "7",
    "50",
    "100",
    "101",
    "200",
    "201",
    "365",
    "366",
    "-1",
    "01",
    "1.0",
    " 5",
    "x",
    "abc",
    "a" * 64,
    "a" * 65,
    "a" * 501,
    "ok_id-1",
    "bad id",
    "é",
]


@pytest.mark.parametrize("route", fast_routes(), ids=lambda r: f"{r.method} {r.path} {r.handler.__module__}")
def test_what_the_fast_path_accepts_the_model_accepts_alike(route: Any) -> None:
    model = resolve(route.query)
    aliases = [*route.fast_query.aliases(), "other"]
    rng = random.Random(7)
    accepted = 0
    for _ in range(400):
        args = MultiDict([(rng.choice(aliases), rng.choice(VALUES)) for _ in range(rng.randint(0, 3))])
        fast = params.parse(route.fast_query, args)
        if fast is None:
            continue
        accepted += 1
        plain = {k: v[0] if len(v) == 1 else v for k, v in args.lists()}
        try:
            validated = model.model_validate(plain)
        except ValidationError as exc:  # pragma: no cover - the assertion below reports it
            pytest.fail(f"fast path accepted {plain}, the model refused: {exc}")
        assert vars(fast) == validated.model_dump(by_alias=False)
    assert accepted > 20
