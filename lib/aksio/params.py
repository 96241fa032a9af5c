"""Query strings of read routes, parsed without pydantic when they are plainly valid.

A route may declare, beside its pydantic query model (the contract, the OpenAPI document and
every error message), a :class:`Spec` of the same fields. :func:`parse` accepts only
values the model certainly accepts (canonical decimal integers within the bounds, strings
within length and pattern) and returns them; anything else (an unknown parameter, a repeated
one, a value out of bounds or of another form) returns None, and the pipeline validates the
query with the model instead, so answers and errors are the model's. ``tests/unit/test_params.py``
checks every declared spec against its model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

_INT = re.compile(r"^(?:0|[1-9][0-9]{0,8})$")


@dataclass(frozen=True)
class Int:
    ge: int | None = None
    le: int | None = None
    default: int | None = None


@dataclass(frozen=True)
class Str:
    max_length: int | None = None
    pattern: str | None = None
    default: str | None = None
    _compiled: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Spec:
    """Fields by their Python name; on the wire they are camelCase (as the models' aliases)."""

    fields: dict[str, Int | Str]

    def aliases(self) -> dict[str, str]:
        return {camel(name): name for name in self.fields}


def spec(**fields: Int | Str) -> Spec:
    return Spec(fields)


def camel(name: str) -> str:
    """``deck_id`` → ``deckId`` (pydantic's ``to_camel`` for these names)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _value(param: Int | Str, raw: str) -> Any:
    """The value, or ``...`` when the model must decide."""
    if isinstance(param, Int):
        if not _INT.match(raw):
            return ...
        value = int(raw)
        if (param.ge is not None and value < param.ge) or (param.le is not None and value > param.le):
            return ...
        return value
    if param.max_length is not None and len(raw) > param.max_length:
        return ...
    if param.pattern is not None and re.search(param.pattern, raw) is None:
        return ...
    return raw


def parse(query_spec: Spec, args: Any) -> SimpleNamespace | None:
    """The query (``args``: a werkzeug MultiDict) as attributes, or None to let the model decide."""
    aliases = query_spec.aliases()
    values = {name: param.default for name, param in query_spec.fields.items()}
    for key in args:
        name = aliases.get(key)
        raw = args.getlist(key)
        if name is None or len(raw) != 1:
            return None
        value = _value(query_spec.fields[name], raw[0])
        if value is ...:
            return None
        values[name] = value
    return SimpleNamespace(**values)


# The specs of the shared query models (aksio.schema.ListQuery and its subclasses).
ID = r"^[A-Za-z0-9_-]{1,64}$"
LIST = spec(limit=Int(ge=1, le=100, default=50), cursor=Str(max_length=500))
# aksio.study.api.QueryTag (whitespace as aksio.schema.WHITE_SPACE spells it)
TAG = Str(max_length=64, pattern=r"^[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$")
CARD_LIST = spec(limit=Int(ge=1, le=100, default=50), cursor=Str(max_length=500), deck_id=Str(pattern=ID), tag=TAG)
QUEUE = spec(
    deck_id=Str(pattern=ID),
    course_id=Str(pattern=ID),
    section_id=Str(pattern=ID),
    tag=TAG,
    limit=Int(ge=1, le=200, default=50),
)
STATS = spec(
    days=Int(ge=1, le=365, default=30), deck_id=Str(pattern=ID), course_id=Str(pattern=ID), section_id=Str(pattern=ID)
)
PROGRESS = spec(days=Int(ge=1, le=120, default=30), section_id=Str(pattern=ID), deck_id=Str(pattern=ID))
