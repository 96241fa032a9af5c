"""Ids taken from URL paths: anything that is not a plausible id is simply not found."""

from __future__ import annotations

import re

from aksio import errors

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# A user id as it may appear in a Firestore or Storage path: Firebase's own uids (28 letters
# and digits) and anything else of these characters (never "/", ".", "..", "__x__").
_UID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def valid_uid(value: object) -> bool:
    return isinstance(value, str) and bool(_UID.match(value)) and not (value.startswith("__") and value.endswith("__"))


def path_id(value: str, what: str) -> str:
    """``value`` when it is a plausible id (1-64 of ``A-Za-z0-9_-``); otherwise the thing is
    not found: :class:`aksio.errors.NotFound` with code ``{what}_not_found``."""
    if not _ID.match(value):
        raise errors.NotFound(f"No {what} {value[:64]!r}.", code=f"{what}_not_found")
    return value
