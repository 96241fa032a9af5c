"""A course as stored and as the API shows it, and the rules of its fields. Pure.

Stored at ``users/{uid}/courses/{courseId}``::

    name, description, examDate ("YYYY-MM-DD", a calendar day in the user's time zone, or
    absent), sections [{id, name}] (ordered, at most MAX_SECTIONS), createdAt, updatedAt,
    deleting {contents: bool} (set by a delete in progress)

Decks and documents name their course in their own ``courseId`` / ``sectionId`` fields (each
belongs to at most one course and section); their packages write those fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from aksio import errors
from aksio.study.days import zone
from aksio.wire import compact, iso

MAX_COURSES = 100
MAX_SECTIONS = 200

Json = dict[str, Any]


def local_today(now: datetime, timezone: str) -> date:
    """The calendar day it is at ``now`` in ``timezone``."""
    return now.astimezone(zone(timezone)).date()


def check_exam_date(value: date | None, now: datetime, timezone: str) -> str | None:
    """The exam day as stored (``YYYY-MM-DD``); a day before today (in the user's time zone)
    is a 400."""
    if value is None:
        return None
    today = local_today(now, timezone)
    if value < today:
        raise errors.Invalid(
            f"examDate {value.isoformat()} is in the past (today is {today.isoformat()} in {timezone}).",
            code="exam_date_in_past",
            details=[{"field": "examDate", "in": "body", "message": "must be today or later"}],
        )
    return value.isoformat()


def exam_day(data: dict[str, Any]) -> date | None:
    value = data.get("examDate")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def too_many_courses() -> errors.Conflict:
    return errors.Conflict(
        f"You have {MAX_COURSES} courses, the most there can be; delete one first.",
        code="too_many_courses",
        details={"limit": MAX_COURSES},
    )


def new_section_id() -> str:
    return "s" + uuid.uuid4().hex[:15]


def apply_sections(current: Sequence[dict[str, Any]], wanted: Sequence[tuple[str | None, str]]) -> list[dict[str, Any]]:
    """The course's new ordered sections from ``wanted`` (``(id or None, name)`` in order):
    a known id keeps its section (renamed), None makes a new one. An id that is not a section
    of this course is a 404 (``section_not_found``); more than :data:`MAX_SECTIONS` a 409."""
    if len(wanted) > MAX_SECTIONS:
        raise errors.Conflict(
            f"A course has at most {MAX_SECTIONS} sections ({len(wanted)} sent).",
            code="too_many_sections",
            details={"limit": MAX_SECTIONS},
        )
    known = {str(s.get("id")) for s in current}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for section_id, name in wanted:
        if section_id is not None:
            if section_id not in known:
                raise errors.NotFound(f"No section {section_id} in this course.", code="section_not_found")
            if section_id in seen:
                raise errors.Invalid(
                    f"Section {section_id} is listed twice.",
                    code="duplicate_section",
                    details=[{"field": "sections", "in": "body", "message": "an id appears twice"}],
                )
        sid = section_id or new_section_id()
        seen.add(sid)
        out.append({"id": sid, "name": name})
    return out


def removed_sections(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> list[str]:
    kept = {s["id"] for s in after}
    return [str(s.get("id")) for s in before if s.get("id") not in kept]


def has_section(data: dict[str, Any], section_id: str) -> bool:
    return any(s.get("id") == section_id for s in data.get("sections") or [])


def sections_of(data: dict[str, Any]) -> list[dict[str, str]]:
    return [{"id": str(s.get("id")), "name": str(s.get("name", ""))} for s in data.get("sections") or []]


def course_view(course_id: str, data: dict[str, Any], extra: Json | None = None) -> Json:
    """A course in the API's form (:class:`aksio.courses.api.Course`)."""
    return compact(
        {
            "id": course_id,
            "name": data.get("name", ""),
            "description": data.get("description"),
            "examDate": data.get("examDate"),
            "sections": sections_of(data),
            "createdAt": iso(data.get("createdAt")),
            "updatedAt": iso(data.get("updatedAt")),
        }
        | (extra or {})
    )


def exam_fields(exam: str | None, now: datetime, timezone: str) -> dict[str, Any]:
    """``examDate`` and the plan's margin fixed with it (``examMargin``, days without new cards
    before the exam: :func:`aksio.courses.plan.margin_days` of the days left when it is set)."""
    from aksio.courses.plan import margin_days

    if exam is None:
        return {"examDate": None, "examMargin": None}
    days_left = (date.fromisoformat(exam) - local_today(now, timezone)).days
    return {"examDate": exam, "examMargin": margin_days(days_left)}


def exam_margin(data: dict[str, Any]) -> int | None:
    value = data.get("examMargin")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
