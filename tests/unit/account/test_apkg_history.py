"""An Anki package's review history becomes each card's FSRS memory state.

The package is made by the official ``anki`` library (tests/ankideck.py): 2,000 notes (1,600
basic, 400 cloze with two deletions: 2,400 cards), 20,000 review log rows. Each imported
card's stability and difficulty (fsrs-rs's ``memory_state``, lib/aksio/account/revlog.py) is
compared with an independent computation from the history the test wrote: the FSRS-6 formulas
of tests/fsrs6_reference.py in fsrs-rs's single precision. That reference is itself checked
against py-fsrs (``fsrs`` 6.3.2, its Scheduler with no learning steps and no fuzz), which
computes the same formulas in double precision: they agree to 1e-5 relative, not to 1e-6,
since fsrs-rs works in f32 (about 7 significant digits)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aksio.account import apkg, revlog
from tests import ankideck
from tests.fsrs6_reference import memory_state

DAY_MS = 86_400_000


def reviews_of(rows: list[tuple[int, int, int, int, int]]) -> list[tuple[int, int]]:
    """(rating, whole days since the previous review) of the rows the test wrote: answers only,
    from the last reset ("Forget": a manual row of ease 0 and interval 0) on."""
    out: list[tuple[int, int]] = []
    last: int | None = None
    for at_ms, ease, kind, ivl, _ in sorted(rows):
        if kind == 4 and ease == 0 and ivl == 0:
            out, last = [], None
        elif ease:
            out.append((ease, 0 if last is None else (at_ms - last) // DAY_MS))
            last = at_ms
    return out


@pytest.fixture(scope="module")
def made() -> ankideck.Made:
    return ankideck.package(notes=2_000, revlog=20_000)


@pytest.fixture(scope="module")
def imported(made: ankideck.Made) -> tuple[apkg.Package, list[list[tuple[int, revlog.History]]]]:
    package = apkg.parse(made.data)
    return package, [sorted(h.items()) for h in package.histories]


def test_every_card_of_the_anki_package_gets_the_memory_state_of_its_history(
    made: ankideck.Made, imported: tuple[apkg.Package, list[list[tuple[int, revlog.History]]]]
) -> None:
    package, histories = imported
    assert (made.notes, made.revlog) == (2_000, 20_000)
    assert (package.collection, len(package.notes), package.reviews) == ("collection.anki21b", 2_000, 20_000)
    cards = [(n, key, h) for n, of_note in enumerate(histories) for key, h in of_note]
    assert len(cards) == 1_600 + 2 * 400
    parameters = revlog.default_parameters()
    got = revlog.schedules([h for _, _, h in cards], parameters=None, retention=0.9)
    checked = new = 0
    for (n, key, history), schedule in zip(cards, got, strict=True):
        note = package.notes[n]
        # the generator's key for the card: note number, Anki's card ord (cloze number - 1)
        raw = made.histories.get(f"{note.line - 1}:{key - 1 if note.cloze else 0}")
        expected = reviews_of(raw) if raw else []
        assert len(history.entries) == len(raw or [])
        if not expected:
            assert schedule is None  # never reviewed (or reset since): new
            new += 1
            continue
        assert schedule is not None
        stability, difficulty = memory_state(expected, parameters)
        assert schedule.stability == pytest.approx(stability, abs=1e-6, rel=0)
        assert schedule.difficulty == pytest.approx(difficulty, abs=1e-6, rel=0)
        assert schedule.reps == len(expected)
        checked += 1
    assert checked > 1_900
    assert checked + new == 2_400


def test_the_reference_is_py_fsrs_in_double_precision_and_fsrs_rs_agrees_to_single(made: ankideck.Made) -> None:
    import fsrs

    parameters = revlog.default_parameters()
    scheduler = fsrs.Scheduler(parameters=parameters, learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    histories = sorted(made.histories.items())[:300]
    worst_f64 = 0.0
    for _, rows in histories:
        expected = reviews_of(rows)
        if not expected:
            continue
        card, at = fsrs.Card(card_id=1), datetime(2020, 1, 1, tzinfo=UTC)
        for rating, days in expected:
            at += timedelta(days=days, seconds=1)
            card, _ = scheduler.review_card(card, fsrs.Rating(rating), review_datetime=at)
        s64, d64 = memory_state(expected, parameters, precise=True)
        assert (s64, d64) == (pytest.approx(card.stability, rel=1e-12), pytest.approx(card.difficulty, rel=1e-12))
        history = revlog.History(tuple(revlog.Entry(*row) for row in rows))
        got = revlog.schedules([history], parameters=None, retention=0.9)[0]
        assert got is not None
        s32, d32 = got.stability or 0.0, got.difficulty or 0.0
        assert s32 == pytest.approx(s64, rel=1e-5)
        assert d32 == pytest.approx(d64, rel=1e-5)
        worst_f64 = max(worst_f64, abs(s32 - s64) / s64)
    assert worst_f64 > 0  # single and double precision do differ: hence the f32 reference


def test_a_legacy_package_of_the_same_library_carries_the_same_histories() -> None:
    small = ankideck.package(notes=60, revlog=500, legacy=True, seed=3)
    package = apkg.parse(small.data)
    assert package.collection == "collection.anki21"
    assert package.reviews == 500
    rows = sum(len(h.entries) for of_note in package.histories for h in of_note.values())
    assert rows == 500


def entry(day: float, ease: int, kind: int = 1, ivl: int = 0) -> revlog.Entry:
    return revlog.Entry(int(day * DAY_MS), ease, kind, ivl, 2500)


def test_state_and_due_follow_anki() -> None:
    base = [entry(0, 3, 0, -600), entry(0.01, 3, 0, 1), entry(1.2, 3, 1, 3)]
    review, learning, relearning, reset, none = revlog.schedules(
        [
            revlog.History((*base, entry(4.5, 3, 1, 8)), card_type=2, card_ivl=8),
            revlog.History((entry(0, 1, 0, -60),), card_type=1),
            revlog.History((*base, entry(4.5, 1, 1, -600)), card_type=3),
            revlog.History((*base, revlog.Entry(int(5 * DAY_MS), 0, 4, 0))),  # "Forget": new again
            revlog.History((revlog.Entry(0, 0, 4, 5),)),  # set due date only: no review
        ],
        parameters=None,
        retention=0.9,
    )
    assert reset is None
    assert none is None
    assert review is not None
    assert learning is not None
    assert relearning is not None
    t0 = datetime(1970, 1, 1, tzinfo=UTC)
    assert (review.state, review.step, review.reps) == ("review", None, 4)
    assert review.last_review == t0 + timedelta(days=4.5)
    assert review.due == review.last_review + timedelta(days=8)  # Anki's interval
    assert (learning.state, learning.step, learning.due) == ("learning", 0, t0 + timedelta(seconds=60))
    assert (relearning.state, relearning.lapses) == ("relearning", 1)
    assert relearning.due == t0 + timedelta(days=4.5, seconds=600)
    # the same history as fsrs-rs sees it: whole days between reviews, 0 for the first
    assert revlog.fsrs_reviews(revlog.reviews(base)) == [(3, 0), (3, 0), (3, 1)]


def test_without_an_interval_the_due_follows_the_stability_at_the_desired_retention() -> None:
    history = revlog.History((entry(0, 3, 1, 0), entry(3, 3, 1, 0)), card_type=2)
    at_90, at_80 = (revlog.schedules([history], parameters=None, retention=r)[0] for r in (0.9, 0.8))
    assert at_90 is not None
    assert at_80 is not None
    assert at_90.due is not None
    assert at_80.due is not None
    assert at_90.last_review is not None
    # at 90 % retention the interval is the stability; at 80 % it is longer
    assert (at_90.due - at_90.last_review).days == round(at_90.stability or 0)
    assert at_80.due > at_90.due
