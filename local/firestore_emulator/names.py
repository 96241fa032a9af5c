"""Resource names: databases, documents, collections, and how document names sort."""

from __future__ import annotations

import re
from functools import lru_cache

from .errors import invalid

DbKey = tuple[str, str]
"""(project id, database id)."""

_NUMERIC_ID = re.compile(r"__id(-?\d+)__")
_RESERVED_ID = re.compile(r"__.*__")


def parse_database(name: str) -> DbKey:
    """``projects/{p}/databases/{d}`` → (p, d)."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "projects" or parts[2] != "databases" or not parts[1] or not parts[3]:
        raise invalid(f'Invalid database name "{name}": expected "projects/{{project}}/databases/{{database}}".')
    return parts[1], parts[3]


def database_name(db: DbKey) -> str:
    return f"projects/{db[0]}/databases/{db[1]}"


def document_name(db: DbKey, path: str) -> str:
    return f"projects/{db[0]}/databases/{db[1]}/documents/{path}"


def _split_resource(name: str) -> tuple[DbKey, list[str]]:
    parts = name.split("/")
    if len(parts) < 5 or parts[0] != "projects" or parts[2] != "databases" or parts[4] != "documents":
        raise invalid(f'Invalid resource name "{name}": it must start with "projects/{{p}}/databases/{{d}}/documents".')
    if not parts[1] or not parts[3]:
        raise invalid(f'Invalid resource name "{name}".')
    segments = parts[5:]
    if any(not s for s in segments):
        raise invalid(f'Invalid resource name "{name}": path segments must not be empty.')
    return (parts[1], parts[3]), segments


def split_document(name: str, expected_db: DbKey | None = None) -> tuple[DbKey, str]:
    """A full document name → (database, relative path such as ``users/u1/cards/c1``)."""
    db, segments = _split_resource(name)
    if not segments or len(segments) % 2:
        raise invalid(f'Document name "{name}" has {len(segments)} path segments; a document path has an even number.')
    if expected_db is not None and db != expected_db:
        raise invalid(f'Document "{name}" is not in database "{database_name(expected_db)}".')
    return db, "/".join(segments)


def split_parent(parent: str, expected_db: DbKey | None = None) -> tuple[DbKey, str]:
    """A query or listing parent (the documents root or a document) → (database, document path or "")."""
    db, segments = _split_resource(parent)
    if len(segments) % 2:
        raise invalid(f'Parent "{parent}" must be the documents root or a document.')
    if expected_db is not None and db != expected_db:
        raise invalid(f'Parent "{parent}" is not in database "{database_name(expected_db)}".')
    return db, "/".join(segments)


def check_writable_path(name: str, path: str) -> None:
    """Firestore refuses ids ``.``, ``..`` and ``__…__`` (reserved) when writing."""
    for segment in path.split("/"):
        if segment in {".", ".."} or _RESERVED_ID.fullmatch(segment):
            raise invalid(f'Resource id "{segment}" is invalid because it is reserved. (document "{name}")')
        if len(segment.encode()) > 1500:
            raise invalid(f'Resource id in "{name}" is longer than 1500 bytes.')


def parent_collection(path: str) -> str:
    """``a/b/c/d`` → ``a/b/c``."""
    return path.rsplit("/", 1)[0]


def collection_id(path: str) -> str:
    """The id of the collection that holds the document at ``path``."""
    segments = path.split("/")
    return segments[-2]


def segment_key(segment: str) -> tuple[int, int | str]:
    """Numeric ids (``__id42__``) sort before string ids, by value; strings by UTF-8 (code point) order."""
    match = _NUMERIC_ID.fullmatch(segment)
    if match:
        return (0, int(match.group(1)))
    return (1, segment)


def path_key(path: str) -> tuple[tuple[int, int | str], ...]:
    """The sort key of a relative document path."""
    return tuple(segment_key(s) for s in path.split("/"))


@lru_cache(maxsize=65536)
def reference_key(name: str) -> tuple[object, ...]:
    """The sort key of a full document name (a ``__name__`` or a reference value)."""
    parts = name.split("/")
    if len(parts) >= 5 and parts[0] == "projects" and parts[2] == "databases" and parts[4] == "documents":
        return (parts[1], parts[3], *(segment_key(s) for s in parts[5:] if s))
    return (name,)
