"""Ids taken from URL paths: anything that is not a plausible id is simply not found."""

from __future__ import annotations

import re

from aksio import errors

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _check(value: str, what: str) -> str:
    if not _ID.match(value):
        raise errors.NotFound(f"No {what} {value[:64]!r}.", code=f"{what}_not_found")
    return value


def deck_id(value: str) -> str:
    return _check(value, "deck")


def card_id(value: str) -> str:
    return _check(value, "card")


def review_id(value: str) -> str:
    return _check(value, "review")
