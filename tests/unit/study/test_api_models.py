"""Request validation of the study functions, and pagination cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from aksio import errors
from aksio import paging as cursor
from aksio.study import api
from aksio.study.ids import card_id


def test_new_card_is_basic_xor_cloze_and_bounded() -> None:
    assert api.NewCard.model_validate({"deckId": "d1", "front": "f", "back": "b"}).cloze is None
    assert api.NewCard.model_validate({"deckId": "d1", "cloze": "{{c1::x}}"}).front is None
    for bad in (
        {"deckId": "d1"},
        {"deckId": "d1", "front": "f"},
        {"deckId": "d1", "front": "f", "back": "b", "cloze": "{{c1::x}}"},
        {"deckId": "d1", "front": "f" * (10 * 1024 + 1), "back": "b"},
        {"deckId": "d1", "front": "ø" * 5121, "back": "b"},  # 10,242 bytes in UTF-8
        {"deckId": "../x", "front": "f", "back": "b"},
        {"deckId": "d1", "front": "f", "back": "b", "colour": "red"},
        {"deckId": "d1", "front": "f", "back": "b", "tags": ["two words"]},
    ):
        with pytest.raises(ValidationError):
            api.NewCard.model_validate(bad)


def test_review_request() -> None:
    ok = api.ReviewRequest.model_validate({"cardId": "c1", "rating": "good", "reviewId": "0123456789abcdef"})
    assert ok.reviewed_at is None
    for bad in (
        {"cardId": "c1", "rating": 3, "reviewId": "short"},
        {"cardId": "c1", "rating": 3, "reviewId": "has/slash-0001"},
        {"cardId": "c1", "rating": 3, "reviewId": "0123456789abcdef", "durationMs": -1},
        {"cardId": "c1", "reviewId": "0123456789abcdef"},
    ):
        with pytest.raises(ValidationError):
            api.ReviewRequest.model_validate(bad)


def test_cursor_round_trip_and_garbage() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert cursor.decode(cursor.encode(when, "abc")) == (when, "abc")
    for bad in ("", "garbage!", "W10", cursor.encode(when, "a/b")):
        with pytest.raises(errors.Invalid):
            cursor.decode(bad)


def test_path_ids_that_cannot_exist_are_404() -> None:
    assert card_id("c0123") == "c0123"
    for bad in ("..", "a/b", "x" * 65, "", "a b"):
        with pytest.raises(errors.NotFound):
            card_id(bad)
