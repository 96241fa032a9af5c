"""What the courses function does, and the courses' public API for other packages.

- courses: :func:`create_course`, :func:`list_courses`, :func:`get_course`,
  :func:`update_course`, :func:`delete_course`.
- For decks and documents (their PATCH puts them in a course): :func:`placement`.
- For the study queue, stats, generation and the tutor (scoping to a course):
  :func:`require_course`, :func:`deck_ids`, :func:`ready_document_ids`.

A course's decks and documents are found by their own ``courseId`` field, through their
packages' services (study, documents); this package writes only ``courses``. Every path
starts at ``users/{uid}``, so another user's course is simply not found (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aksio import errors, prefs
from aksio import firestore as fs
from aksio.courses import model, repository
from aksio.courses.model import Json, course_view
from aksio.wire import compact

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.courses import api


def live_course(data: dict[str, Any] | None, course_id: str) -> dict[str, Any]:
    """The course's fields; 404 for a course that does not exist or is being deleted."""
    if data is None or data.get("deleting"):
        raise errors.NotFound(f"No course {course_id}.", code="course_not_found")
    return data


def require_course(db: Client, uid: str, course_id: str) -> dict[str, Any]:
    return live_course(repository.read(db, uid, course_id), course_id)


def _timezone(db: Client, uid: str) -> str:
    return prefs.of_user(fs.read_user(db, uid)).timezone


# -- the courses function -------------------------------------------------------------------


def create_course(db: Client, uid: str, body: api.NewCourse) -> tuple[Json, bool]:
    """Create a course (409 past :data:`~aksio.courses.model.MAX_COURSES`); with a client id,
    a retry answers with the course made the first time."""
    now = fs.utcnow()
    timezone = _timezone(db, uid) if body.exam_date else "UTC"
    exam = model.check_exam_date(body.exam_date, now, timezone) if body.exam_date else None
    sections = model.apply_sections([], [(None, s.name) for s in body.sections]) if body.sections else []
    if any(s.id is not None for s in body.sections):
        raise errors.NotFound("A new course has no sections yet; send sections without ids.", code="section_not_found")
    course_id = body.id or uuid.uuid4().hex[:20]
    doc = {
        "name": body.name,
        "description": body.description,
        **model.exam_fields(exam, now, timezone),
        "sections": sections,
        "createdAt": now,
        "updatedAt": now,
    }
    try:
        repository.create(db, uid, course_id, doc)
    except repository.Exists:
        data = repository.read(db, uid, course_id) or {}
        same = (data.get("name"), data.get("description"), data.get("examDate")) == (body.name, body.description, exam)
        if data.get("deleting") or not same:
            message = f"Course {course_id} already exists with other content."
            raise errors.Conflict(message, code="course_exists") from None
        return course_view(course_id, data), False
    return course_view(course_id, doc), True


def list_courses(db: Client, uid: str, query: Any) -> Json:
    snaps, next_cursor = repository.page(db, uid, query.cursor, query.limit)
    courses = [course_view(s.id, fs.data_of(s)) for s in snaps if not fs.data_of(s).get("deleting")]
    return compact({"courses": courses, "nextCursor": next_cursor})


def get_course(db: Client, uid: str, course_id: str) -> Json:
    """The course with its sections, decks and documents."""
    from aksio.documents import service as documents
    from aksio.study import service as study

    data = require_course(db, uid, course_id)
    decks = study.course_decks(db, uid, course_id)
    docs = [
        compact({"id": d.id, "name": d.title, "sectionId": d.section_id, "status": d.status})
        for d in documents.course_documents(db, uid, course_id)
    ]
    return course_view(course_id, data, {"decks": decks, "documents": docs})


def update_course(db: Client, uid: str, course_id: str, body: api.CoursePatch) -> Json:
    """Rename, describe, set or clear the exam date, replace the sections. Decks and documents
    of a removed section stay in the course, in no section."""
    sent = body.model_fields_set
    now = fs.utcnow()
    changes: dict[str, Any] = {"updatedAt": now}
    if "name" in sent:
        changes["name"] = body.name
    if "description" in sent:
        changes["description"] = body.description
    if "exam_date" in sent:
        timezone = _timezone(db, uid)
        changes |= model.exam_fields(model.check_exam_date(body.exam_date, now, timezone), now, timezone)
    removed: list[str] = []

    def change(data: dict[str, Any] | None) -> dict[str, Any]:
        live_course(data, course_id)
        assert data is not None
        if body.sections is not None:
            sections = model.apply_sections(data.get("sections") or [], [(s.id, s.name) for s in body.sections])
            removed[:] = model.removed_sections(data.get("sections") or [], sections)
            changes["sections"] = sections
        return changes

    data = repository.change(db, uid, course_id, change)
    live_course(data, course_id)
    if removed:
        _unlink(db, uid, course_id, removed)
    return course_view(course_id, data)


def _unlink(db: Client, uid: str, course_id: str, section_ids: list[str] | None) -> tuple[int, int]:
    from aksio.documents import service as documents
    from aksio.study import service as study

    decks = study.unlink_course_decks(db, uid, course_id, section_ids)
    docs = documents.unlink_course_documents(db, uid, course_id, section_ids)
    return decks, docs


def delete_course(db: Client, uid: str, course_id: str, *, delete_contents: bool, bucket: Callable[[], Any]) -> Json:
    """Delete a course: marked first (it is gone for every reader), then its decks and
    documents unlinked, or with ``delete_contents`` deleted (decks with their cards), then the
    course itself. A retry after a crash continues with what the first request chose."""

    def mark(data: dict[str, Any] | None) -> dict[str, Any] | None:
        if data is None:
            raise errors.NotFound(f"No course {course_id}.", code="course_not_found")
        if data.get("deleting"):
            return None  # a retry: keep the first request's choice
        return {"deleting": {"contents": delete_contents}, "updatedAt": fs.utcnow()}

    data = repository.change(db, uid, course_id, mark) or {}
    contents = bool((data.get("deleting") or {}).get("contents"))
    out: Json = {"id": course_id, "deleted": True}
    if contents:
        from aksio.documents import service as documents
        from aksio.study import service as study

        out["decksDeleted"] = study.delete_course_decks(db, uid, course_id)
        out["documentsDeleted"] = documents.delete_course_documents(db, bucket(), uid, course_id)
    else:
        out["decksUnlinked"], out["documentsUnlinked"] = _unlink(db, uid, course_id, None)
    repository.delete(db, uid, course_id)
    return out


# -- for other packages -----------------------------------------------------------------------


def check_placement(db: Client, uid: str, course_id: str, section_id: str | None) -> dict[str, Any]:
    """The course a deck or document is put in; 404 for a course that is not the caller's, or
    a section that is not one of that course's."""
    data = require_course(db, uid, course_id)
    if section_id is not None and not model.has_section(data, section_id):
        raise errors.NotFound(f"No section {section_id} in course {course_id}.", code="section_not_found")
    return data


def placement(db: Client, uid: str, data: dict[str, Any], patch: Any) -> dict[str, Any]:
    """The ``courseId``/``sectionId`` fields of a deck or document (``data``, as stored) after
    ``patch`` (a request model with optional ``course_id`` and ``section_id``): ``courseId``
    null takes it out of its course (and section); a course id puts it in that course, in
    ``sectionId`` when given; ``sectionId`` alone moves it within its course (null: in none)."""
    sent: set[str] = patch.model_fields_set
    course_id, section_id = patch.course_id, patch.section_id
    if not {"course_id", "section_id"} & sent:
        return {}
    target = course_id if "course_id" in sent else data.get("courseId")
    section = section_id if "section_id" in sent else (None if "course_id" in sent else data.get("sectionId"))
    if target is None:
        if section is not None:
            raise errors.Invalid(
                "sectionId needs a course: send courseId too.",
                code="section_without_course",
                details=[{"field": "sectionId", "in": "body", "message": "not in a course"}],
            )
        return {"courseId": fs.DELETE, "sectionId": fs.DELETE}
    check_placement(db, uid, str(target), section)
    return {"courseId": target, "sectionId": section if section is not None else fs.DELETE}


def deck_ids(db: Client, uid: str, course_id: str, section_id: str | None = None) -> list[str]:
    """The decks of the caller's course (or of one of its sections); 404 for another's course."""
    return deck_ids_of(db, uid, course_id, require_course(db, uid, course_id), section_id)


def deck_ids_of(db: Client, uid: str, course_id: str, data: dict[str, Any], section_id: str | None) -> list[str]:
    from aksio.study import service as study

    if section_id is not None and not model.has_section(data, section_id):
        raise errors.NotFound(f"No section {section_id} in course {course_id}.", code="section_not_found")
    return [d["id"] for d in study.course_decks(db, uid, course_id, section_id)]


def ready_document_ids(db: Client, uid: str, course_id: str) -> list[str]:
    """The ready documents of the caller's course; 404 for another's course."""
    from aksio.documents import service as documents

    require_course(db, uid, course_id)
    return documents.course_ready_ids(db, uid, course_id)


def document_ids(db: Client, uid: str, course_id: str) -> list[str]:
    """Every document of the caller's course (any status); 404 for another's course."""
    from aksio.documents import service as documents

    require_course(db, uid, course_id)
    return [d.id for d in documents.course_documents(db, uid, course_id)]


def progress(db: Client, uid: str, course_id: str, query: Any) -> Json:
    """Progress of a course, of one of its sections (``sectionId``) or of one of its decks
    (``deckId``): cards by state, reviews and time per day, mastery now, and recall on the
    exam date with no more reviews."""
    from aksio.study import reports

    data = require_course(db, uid, course_id)
    section, deck = getattr(query, "section_id", None), getattr(query, "deck_id", None)
    decks = deck_ids_of(db, uid, course_id, data, section)
    if deck is not None:
        if deck not in decks:
            raise errors.NotFound(f"No deck {deck} in this course.", code="deck_not_found")
        decks = [deck]
    out = reports.progress(db, uid, tuple(decks), exam=model.exam_day(data), days=query.days)
    return compact({"courseId": course_id, "sectionId": section, "deckId": deck}) | out
