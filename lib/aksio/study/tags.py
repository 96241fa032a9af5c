"""Tags across the user's cards: list them with card counts, rename and delete one
everywhere. Names are normalised (surrounding whitespace stripped, case folded); a name
with inner whitespace, empty, or over :data:`MAX_TAG` characters is a 400.

The tag names are kept on ``users/{uid}`` (``tagNames``, added to when a card is given a
tag; ``leech`` and ``generated`` are always looked at), so listing never reads the cards:
one count aggregation per name (1 read per 1,000 cards). Rename and delete go through the
cards in batches, each card written only if unchanged since it was read; a request that
stops half-way is continued by sending it again, and sending it again after it finished
changes nothing (idempotent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aksio import errors
from aksio.study import queries as q
from aksio.study.model import LEECH_TAG

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

MAX_TAG = 64
SYSTEM_TAGS = (LEECH_TAG, "generated")
BATCH = 200
MAX_CONFLICTS = 60  # batches that met a concurrent edit, before the request gives up (503)


def normalise(name: str, field: str = "tag") -> str:
    """The tag's normal form; 400 (``invalid_tag``) for one that cannot be a tag."""
    text = name.strip().casefold()
    problem = None
    if not text:
        problem = "is empty"
    elif len(text) > MAX_TAG:
        problem = f"is longer than {MAX_TAG} characters"
    elif any(c.isspace() for c in text):
        problem = "contains whitespace"
    if problem:
        raise errors.Invalid(
            f"The tag {problem}.", code="invalid_tag", details=[{"field": field, "in": "path", "message": problem}]
        )
    return text


def _known(name: object) -> str | None:
    try:
        return normalise(str(name))
    except errors.Invalid:
        return None


def list_tags(db: Client, uid: str) -> dict[str, Any]:
    """Every tag in use, with how many cards carry it, by name."""
    names = sorted({n for n in map(_known, q.tag_names(db, uid)) if n} | set(SYSTEM_TAGS))
    counted = [(name, q.count_scope(db, uid, q.Scope(tag=name))) for name in names]
    return {"tags": [{"name": name, "cardCount": n} for name, n in counted if n]}


def _sweep(db: Client, uid: str, old: str, new: str | None) -> int:
    """Every card tagged ``old`` retagged, a batch at a time. A batch that meets a concurrent
    edit writes nothing (its precondition failed) and is read again, smaller, so a busy card
    holds up only a few others; the batch grows back after each success."""
    from google.api_core import exceptions as gexc

    changed, conflicts, size = 0, 0, BATCH
    while True:
        try:
            done = q.retag(db, uid, old, new, size)
        except (gexc.FailedPrecondition, gexc.Aborted):
            conflicts += 1
            if conflicts >= MAX_CONFLICTS:
                raise errors.Contention() from None
            size = max(1, size // 4)
            continue
        if not done:
            return changed
        changed += done
        size = min(BATCH, size * 2)


def rename_tag(db: Client, uid: str, name: str, new_name: str) -> dict[str, Any]:
    """Rename a tag on every card (cards with both keep one)."""
    old, new = normalise(name), normalise(new_name, "name")
    if new != old:
        q.register_tags(db, uid, [new])
    changed = _sweep(db, uid, old, new) if new != old else 0
    if new != old:
        q.unregister_tag(db, uid, old)
    return {"name": new, "previousName": old, "cardsChanged": changed}


def delete_tag(db: Client, uid: str, name: str) -> dict[str, Any]:
    """Take a tag off every card (the cards stay)."""
    tag = normalise(name)
    changed = _sweep(db, uid, tag, None)
    q.unregister_tag(db, uid, tag)
    return {"name": tag, "deleted": True, "cardsChanged": changed}
