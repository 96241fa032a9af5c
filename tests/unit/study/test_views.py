"""The study service's answers are in the API's form without pydantic: each view, read
back through its model and dumped as the pipeline dumps models, is unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core.datetime_helpers import DatetimeWithNanoseconds

from aksio.study import api
from aksio.study.model import Content, Schedule, new_card
from aksio.study.service import card_view, deck_view

T = DatetimeWithNanoseconds(2026, 3, 2, 9, 30, 15, 120000, tzinfo=UTC)


def dumped(model: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = model.model_validate(data).model_dump(mode="json", by_alias=True, exclude_none=True)
    return out


def test_a_deck_view_is_the_deck_model_dumped() -> None:
    for data, count in [
        ({"name": "Cells", "createdAt": T, "updatedAt": T}, 3),
        ({"name": "x", "description": "d"}, None),
    ]:
        view = deck_view("d1", data, count)
        assert view == dumped(api.Deck, view)
    assert deck_view("d1", {"name": "Cells", "createdAt": T}, 0)["createdAt"] == "2026-03-02T09:30:15.120000Z"


def test_card_views_are_the_card_model_dumped() -> None:
    cid, new = new_card("d1", Content(front="Q", back="A"), note=None, tags=["t"], now=T)
    cloze = new_card(
        "d1",
        Content(front="[...] x", back="[y] x", kind="cloze", cloze_index=1, text="{{c1::y}} x"),
        note="n1",
        tags=[],
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )[1]
    reviewed = (
        new
        | Schedule(
            state="review",
            step=None,
            stability=3.25,
            difficulty=5.5,
            due=T + timedelta(days=3),
            last_review=T,
            reps=2,
            lapses=1,
            tags=("t", "leech"),
            last_review_id="r1",
        ).to_stored()
        | {"source": {"kind": "document", "documentId": "doc1", "page": 3, "removed": None}}
    )
    for data in (new, cloze, reviewed):
        view = card_view(data, cid)
        assert view == dumped(api.Card, view)
    assert card_view(reviewed, cid)["due"] == "2026-03-05T09:30:15.120000Z"
    assert "text" not in card_view(new, cid)


def test_review_views_are_the_review_result_model_dumped() -> None:
    from aksio.settings import Settings
    from aksio.study.review import apply_review
    from aksio.study.scheduler import SchedulerConfig
    from aksio.study.service import review_view

    settings = Settings()
    config = SchedulerConfig.from_settings(settings, None)
    cid, card = new_card("d1", Content(front="Q", back="A"), note=None, tags=[], now=T)
    when = datetime(2026, 3, 2, 10, tzinfo=UTC)
    for n, rating in enumerate([3, 1, 2, 4, 3]):
        outcome = apply_review(
            card_id=cid,
            card=card,
            rating=rating,
            review_id=f"review-{n:04d}",
            reviewed_at=when,
            duration_ms=None,
            now=when,
            settings=settings,
            config=config,
            user_stats=None,
            next_due_at=None,
        )
        expected = api.ReviewResult.model_validate(outcome.result).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        assert review_view(outcome.result) == expected
        card = card | outcome.after.to_stored()
        when += timedelta(days=n + 1, microseconds=123)
