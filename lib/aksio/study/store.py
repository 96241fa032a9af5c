"""Firestore for the study core: decks, cards, reviews, the queue and stats.

Every path starts at ``users/{uid}``, so another user's deck, card or review is simply
not found (404). Read-modify-write happens in one transaction; the review transaction
reads exactly two documents (the card and the user) and writes three (the card, the
review log, the user), and is idempotent by the client's review id without a third read:
the log is written with ``create`` and a commit that fails with ALREADY_EXISTS is
answered from the stored log.

Indexes this module's queries need in production (terraform): ``cards`` on
(deckId, createdAt, __name__), (queue, due, __name__) and (deckId, queue, due, __name__),
(state), (suspended); everything else is single-field.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aksio import errors, log, paging
from aksio import settings as settings_mod
from aksio.study import api
from aksio.study import stats as stats_mod
from aksio.study.days import day_key, study_day
from aksio.study.model import Content, Schedule, cloze_cards, content_hash, note_id, utc
from aksio.study.queue import Candidate, build_queue, limits_for
from aksio.study.review import apply_review, check_reviewed_at, undo_review
from aksio.study.scheduler import SchedulerConfig

_log = log.get_logger("aksio.study")
MAX_TX_ATTEMPTS = 25
DELETE_BATCH = 400
FORECAST_DAYS = 30
FORECAST_MAX_CARDS = 20000


def _f(field: str, op: str, value: Any) -> Any:
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(field, op, value)


def _now() -> datetime:
    return datetime.now(UTC)


def user_ref(db: Any, uid: str) -> Any:
    return db.collection("users").document(uid)


def decks_col(db: Any, uid: str) -> Any:
    return user_ref(db, uid).collection("decks")


def cards_col(db: Any, uid: str) -> Any:
    return user_ref(db, uid).collection("cards")


def reviews_col(db: Any, uid: str) -> Any:
    return user_ref(db, uid).collection("reviews")


def _transaction(db: Any) -> Any:
    return db.transaction(max_attempts=MAX_TX_ATTEMPTS)


def _gave_up(exc: ValueError) -> errors.ApiError:
    """The client's transaction retries ran out (``ValueError`` chained to ABORTED) → 503;
    any other ``ValueError`` is a bug and is raised as is."""
    from google.api_core import exceptions as gexc

    if _find(exc.__cause__, gexc.Aborted) is None and "Failed to commit transaction" not in str(exc):
        raise exc
    _log.warning("transaction gave up after %s attempts", MAX_TX_ATTEMPTS)
    return errors.Unavailable("Too much contention on this data; retry shortly.", code="contention")


def _run(fn: Any, db: Any) -> Any:
    """Run a ``@firestore.transactional`` function; contention that outlasts the retries is a 503."""
    try:
        return fn(_transaction(db))
    except ValueError as exc:
        raise _gave_up(exc) from exc


def _find(exc: BaseException | None, kind: type[BaseException]) -> BaseException | None:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _user_settings(data: dict[str, Any] | None) -> settings_mod.Settings:
    return settings_mod.from_stored((data or {}).get("settings"))


def read_user(db: Any, uid: str) -> dict[str, Any]:
    snap = user_ref(db, uid).get()
    return (snap.to_dict() or {}) if snap.exists else {}


# -- decks ----------------------------------------------------------------------------------


def _deck(snap: Any, card_count: int | None = None) -> api.Deck:
    data = snap.to_dict() or {}
    return api.Deck(
        id=snap.id,
        name=data.get("name", ""),
        description=data.get("description"),
        card_count=card_count,
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
    )


def _live_deck(snap: Any, deck_id: str) -> dict[str, Any]:
    if not snap.exists or (snap.to_dict() or {}).get("deleting"):
        raise errors.NotFound(f"No deck {deck_id}.", code="deck_not_found")
    return snap.to_dict() or {}


def create_deck(db: Any, uid: str, body: api.NewDeck) -> tuple[api.Deck, bool]:
    """Create a deck; returns it and whether it is new. With a client id, a retry of the same
    create is answered with the existing deck, and a different deck under that id is a 409."""
    from google.api_core import exceptions as gexc

    now = _now()
    ref = decks_col(db, uid).document(body.id or uuid.uuid4().hex[:20])
    try:
        ref.create({"name": body.name, "description": body.description, "createdAt": now, "updatedAt": now})
    except gexc.Conflict:  # ALREADY_EXISTS: only possible with a client id
        snap = ref.get()
        data = snap.to_dict() or {}
        if data.get("deleting") or (data.get("name"), data.get("description")) != (body.name, body.description):
            raise errors.Conflict(f"Deck {ref.id} already exists with other content.", code="deck_exists") from None
        return _deck(snap), False
    return _deck(ref.get()), True


def list_decks(db: Any, uid: str, query: api.ListQuery) -> api.DeckPage:
    q = decks_col(db, uid).order_by("createdAt").order_by("__name__")
    snaps, next_cursor = paging.page(q, "createdAt", query.cursor, query.limit)
    decks = [_deck(s) for s in snaps if not (s.to_dict() or {}).get("deleting")]
    return api.DeckPage(decks=decks, next_cursor=next_cursor)


def get_deck(db: Any, uid: str, deck_id: str) -> api.Deck:
    snap = decks_col(db, uid).document(deck_id).get()
    _live_deck(snap, deck_id)
    count = cards_col(db, uid).where(filter=_f("deckId", "==", deck_id)).count(alias="n").get()
    return _deck(snap, int(count[0][0].value))


def update_deck(db: Any, uid: str, deck_id: str, body: api.DeckPatch) -> api.Deck:
    ref = decks_col(db, uid).document(deck_id)
    changes: dict[str, Any] = {"updatedAt": _now()}
    if body.name is not None:
        changes["name"] = body.name
    if "description" in body.model_fields_set:
        changes["description"] = body.description

    from google.cloud import firestore

    @firestore.transactional
    def change(tx: Any) -> None:
        _live_deck(ref.get(transaction=tx), deck_id)
        tx.update(ref, changes)

    _run(change, db)
    return _deck(ref.get())


def delete_deck(db: Any, uid: str, deck_id: str) -> api.Deleted:
    """Delete the deck and its cards. Marked first (no card can be added any more), then
    swept in batches, then removed; a retry after a crash continues the sweep."""
    from google.cloud import firestore

    ref = decks_col(db, uid).document(deck_id)

    @firestore.transactional
    def mark(tx: Any) -> None:
        snap = ref.get(transaction=tx)
        if not snap.exists:
            raise errors.NotFound(f"No deck {deck_id}.", code="deck_not_found")
        tx.update(ref, {"deleting": True, "updatedAt": _now()})

    _run(mark, db)
    deleted = 0
    query = cards_col(db, uid).where(filter=_f("deckId", "==", deck_id)).limit(DELETE_BATCH)
    while True:
        snaps = list(query.select([]).stream())
        if not snaps:
            break
        batch = db.batch()
        for snap in snaps:
            batch.delete(snap.reference)
        batch.commit()
        deleted += len(snaps)
    ref.delete()
    return api.Deleted(id=deck_id, cards_deleted=deleted)


# -- cards ----------------------------------------------------------------------------------


def _card(snap_or_data: Any, card_id: str | None = None) -> api.Card:
    if isinstance(snap_or_data, dict):
        data, cid = snap_or_data, card_id or ""
    else:
        data, cid = snap_or_data.to_dict() or {}, snap_or_data.id
    schedule = Schedule.from_stored(data)
    return api.Card(
        id=cid,
        deck_id=data.get("deckId", ""),
        note_id=data.get("noteId"),
        kind=data.get("kind", "basic"),
        front=data.get("front", ""),
        back=data.get("back", ""),
        text=data.get("text"),
        cloze_index=data.get("clozeIndex"),
        tags=list(schedule.tags),
        suspended=schedule.suspended,
        state=schedule.state,
        queue=schedule.queue,
        step=schedule.step,
        stability=schedule.stability,
        difficulty=schedule.difficulty,
        due=schedule.due,
        last_review=schedule.last_review,
        reps=schedule.reps,
        lapses=schedule.lapses,
        source=data.get("source"),
        content_hash=data.get("contentHash"),
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
    )


def _card_id(hash_hex: str) -> str:
    return "c" + hash_hex[:23]


def new_card_doc(
    deck_id: str, content: Content, *, note: str | None, tags: list[str], now: datetime, source: Any = None
) -> tuple[str, dict[str, Any]]:
    """The id and stored document of a new card (the id follows from its content, so
    creating the same card twice creates it once)."""
    digest = content_hash(deck_id, content)
    schedule = Schedule(state="new", due=now, tags=tuple(dict.fromkeys(tags)))
    doc = {
        "deckId": deck_id,
        "noteId": note,
        "kind": content.kind,
        "front": content.front,
        "back": content.back,
        "text": content.text,
        "clozeIndex": content.cloze_index,
        "source": source,
        "contentHash": digest,
        "createdAt": now,
        "updatedAt": now,
        **schedule.to_stored(),
    }
    return _card_id(digest), doc


def create_cards(db: Any, uid: str, body: api.NewCard) -> api.CardsCreated:
    from google.api_core import exceptions as gexc
    from google.cloud import firestore

    now = _now()
    if body.cloze is not None:
        contents = cloze_cards(body.cloze)
        note: str | None = note_id(body.deck_id, body.cloze)
    else:
        assert body.front is not None
        assert body.back is not None
        contents = [Content(front=body.front, back=body.back)]
        note = None
    # siblings come due one microsecond apart, so new cards of a note are studied in order
    docs = [
        new_card_doc(body.deck_id, c, note=note, tags=body.tags, now=now + timedelta(microseconds=i))
        for i, c in enumerate(contents)
    ]
    deck = decks_col(db, uid).document(body.deck_id)
    col = cards_col(db, uid)

    @firestore.transactional
    def create(tx: Any) -> None:
        _live_deck(deck.get(transaction=tx), body.deck_id)
        for card_id, doc in docs:
            tx.create(col.document(card_id), doc)

    try:
        _run(create, db)
        created = True
    except Exception as exc:
        if _find(exc, gexc.AlreadyExists) is None:
            raise
        created = False
    if created:
        return api.CardsCreated(cards=[_card(doc, cid) for cid, doc in docs], created=True)
    snaps = list(db.get_all([col.document(cid) for cid, _ in docs]))
    by_id = {s.id: s for s in snaps if s.exists}
    return api.CardsCreated(cards=[_card(by_id[cid]) for cid, _ in docs if cid in by_id], created=False)


def list_cards(db: Any, uid: str, query: api.CardListQuery) -> api.CardPage:
    q = cards_col(db, uid)
    if query.deck_id:
        _live_deck(decks_col(db, uid).document(query.deck_id).get(), query.deck_id)
        q = q.where(filter=_f("deckId", "==", query.deck_id))
    q = q.order_by("createdAt").order_by("__name__")
    snaps, next_cursor = paging.page(q, "createdAt", query.cursor, query.limit)
    return api.CardPage(cards=[_card(s) for s in snaps], next_cursor=next_cursor)


def _existing_card(snap: Any, card_id: str) -> dict[str, Any]:
    if not snap.exists:
        raise errors.NotFound(f"No card {card_id}.", code="card_not_found")
    return snap.to_dict() or {}


def get_card(db: Any, uid: str, card_id: str) -> api.Card:
    snap = cards_col(db, uid).document(card_id).get()
    _existing_card(snap, card_id)
    return _card(snap)


def update_card(db: Any, uid: str, card_id: str, body: api.CardPatch) -> api.Card:
    """Edit content or tags, move to another deck, suspend or unsuspend — atomically."""
    from google.cloud import firestore

    ref = cards_col(db, uid).document(card_id)
    uref = user_ref(db, uid)
    now = _now()

    @firestore.transactional
    def change(tx: Any) -> dict[str, Any]:
        refs = [ref]
        if body.deck_id is not None:
            refs.append(decks_col(db, uid).document(body.deck_id))
        if body.suspended is False:
            refs.append(uref)
        snaps = {s.reference.path: s for s in tx.get_all(refs)}
        data = _existing_card(snaps[ref.path], card_id)
        changes: dict[str, Any] = {"updatedAt": now}
        if body.front is not None or body.back is not None:
            if data.get("kind") == "cloze":
                raise errors.BadRequest(
                    "A cloze card's front and back follow from its note; create the note again instead.",
                    code="cloze_not_editable",
                )
            front = body.front if body.front is not None else data.get("front", "")
            back = body.back if body.back is not None else data.get("back", "")
            changes |= {"front": front, "back": back}
            changes["contentHash"] = content_hash(data.get("deckId", ""), Content(front=front, back=back))
        if body.tags is not None:
            changes["tags"] = list(dict.fromkeys(body.tags))
        if body.deck_id is not None and body.deck_id != data.get("deckId"):
            _live_deck(snaps[decks_col(db, uid).document(body.deck_id).path], body.deck_id)
            changes["deckId"] = body.deck_id
        if body.suspended is not None:
            schedule = Schedule.from_stored(data).with_(suspended=body.suspended)
            changes |= {"suspended": schedule.suspended, "queue": schedule.queue}
            if not body.suspended and schedule.state != "new" and schedule.due is not None:
                udata = snaps[uref.path].to_dict() or {} if snaps[uref.path].exists else {}
                current = udata.get("nextDueAt")
                lowered = schedule.due if current is None else min(utc(current), schedule.due)
                if current is None or lowered != utc(current):
                    tx.set(uref, {"nextDueAt": lowered}, merge=True)
        tx.update(ref, changes)
        return data | changes

    data = _run(change, db)
    return _card(data, card_id)


def delete_card(db: Any, uid: str, card_id: str) -> api.Deleted:
    from google.api_core import exceptions as gexc

    try:
        cards_col(db, uid).document(card_id).delete(option=db.write_option(exists=True))
    except gexc.NotFound:
        raise errors.NotFound(f"No card {card_id}.", code="card_not_found") from None
    return api.Deleted(id=card_id)


# -- review ---------------------------------------------------------------------------------


def _scheduler_config(user: dict[str, Any], settings: settings_mod.Settings) -> SchedulerConfig:
    options = user.get("fsrs")
    return SchedulerConfig.from_settings(settings, options if isinstance(options, dict) else None)


def _stored_review(db: Any, uid: str, review_id: str, card_id: str) -> dict[str, Any] | None:
    snap = reviews_col(db, uid).document(review_id).get()
    if not snap.exists:
        return None
    data = snap.to_dict() or {}
    if data.get("cardId") != card_id:
        raise errors.Conflict(f"Review id {review_id} was already used for another card.", code="review_id_conflict")
    return data


def _write_user(
    tx: Any, uref: Any, *, user: dict[str, Any] | None, stats: dict[str, Any], next_due: datetime | None, now: datetime
) -> None:
    """Write the user's new ``stats`` and ``nextDueAt``, leaving the profile alone.

    When the stored stats map is in the expected shape only the changed fields are sent
    (today's entry, the totals, the streak), so the write does not grow with the history;
    otherwise (first review, or a map written by an older version) the map is replaced.
    """
    from google.cloud import firestore
    from google.cloud.firestore_v1.field_path import FieldPath

    stored = (user or {}).get("stats")
    if user is None or not isinstance(stored, dict) or stats_mod.normalise(stored) != stored:
        data: dict[str, Any] = {"stats": stats, "nextDueAt": next_due}
        if user is None:
            data["createdAt"] = now
        tx.set(uref, data, merge=list(data))
        return
    update: dict[str, Any] = {"nextDueAt": next_due}
    for path, value in stats_mod.changes(stored, stats).items():
        key = FieldPath("stats", *path).to_api_repr()
        update[key] = firestore.DELETE_FIELD if value is stats_mod.DELETED else value
    tx.update(uref, update)


def review_card(db: Any, uid: str, body: api.ReviewRequest) -> tuple[api.ReviewResult, bool]:
    """Apply one review; returns the result and whether it is a replay of an earlier one."""
    from google.api_core import exceptions as gexc
    from google.cloud import firestore

    from aksio.study.model import parse_rating

    rating = parse_rating(body.rating)
    check_reviewed_at(body.reviewed_at, _now())  # a bad time is a 400 before anything is read
    card_ref = cards_col(db, uid).document(body.card_id)
    uref = user_ref(db, uid)
    log_ref = reviews_col(db, uid).document(body.review_id)

    @firestore.transactional
    def run(tx: Any) -> dict[str, Any] | None:
        snaps = {s.reference.path: s for s in tx.get_all([card_ref, uref])}
        card = _existing_card(snaps[card_ref.path], body.card_id)
        if card.get("lastReviewId") == body.review_id:
            return None  # this very review is the card's last one: a replay
        user_snap = snaps[uref.path]
        user = (user_snap.to_dict() or {}) if user_snap.exists else {}
        settings = _user_settings(user)
        # The clock is read after the reads: they lock the card, so a review that waited for
        # a concurrent one is timed after it and the two apply in the order they are logged.
        now = _now()
        reviewed_at = check_reviewed_at(body.reviewed_at, now)
        outcome = apply_review(
            card_id=body.card_id,
            card=card,
            rating=rating,
            review_id=body.review_id,
            reviewed_at=reviewed_at,
            duration_ms=body.duration_ms,
            now=now,
            settings=settings,
            config=_scheduler_config(user, settings),
            user_stats=user.get("stats"),
            next_due_at=user.get("nextDueAt"),
        )
        tx.update(card_ref, outcome.after.to_stored() | {"updatedAt": now})
        tx.create(log_ref, outcome.log | {"createdAt": now})
        _write_user(
            tx,
            uref,
            user=user if user_snap.exists else None,
            stats=outcome.stats,
            next_due=outcome.next_due_at,
            now=now,
        )
        return outcome.result

    try:
        result = run(_transaction(db))
    except errors.ApiError as exc:
        # A retry of a review that was applied before the card became unreviewable
        # (deleted, or suspended as a leech by that very review) still gets its answer.
        if exc.status in (404, 409) and exc.code in ("card_not_found", "card_suspended"):
            stored = _stored_review(db, uid, body.review_id, body.card_id)
            if stored is not None:
                return api.ReviewResult.model_validate(stored["result"]), True
        raise
    except ValueError as exc:  # the client gave up after MAX_TX_ATTEMPTS aborts
        raise _gave_up(exc) from exc
    except Exception as exc:
        if _find(exc, gexc.AlreadyExists) is None:
            raise
        result = None
    if result is not None:
        return api.ReviewResult.model_validate(result), False
    stored = _stored_review(db, uid, body.review_id, body.card_id)
    if stored is None:  # pragma: no cover - the log exists whenever the card names it
        raise errors.Unavailable("The review is being recorded; retry shortly.")
    return api.ReviewResult.model_validate(stored["result"]), True


def get_review(db: Any, uid: str, review_id: str) -> api.ReviewResult:
    snap = reviews_col(db, uid).document(review_id).get()
    if not snap.exists:
        raise errors.NotFound(f"No review {review_id}.", code="review_not_found")
    return api.ReviewResult.model_validate((snap.to_dict() or {})["result"])


def undo(db: Any, uid: str, body: api.UndoRequest) -> api.UndoResult:
    """Take back the last review of a card: the card's schedule before it and the stats
    without it. The log is kept, marked ``undoneAt`` (so a retried review stays undone).
    Undoing the same review again answers the same; an older review is a 409."""
    from google.cloud import firestore

    card_ref = cards_col(db, uid).document(body.card_id)
    uref = user_ref(db, uid)
    now = _now()

    @firestore.transactional
    def run(tx: Any) -> api.UndoResult:
        snaps = {s.reference.path: s for s in tx.get_all([card_ref, uref])}
        card = _existing_card(snaps[card_ref.path], body.card_id)
        last_id = card.get("lastReviewId")
        review_id = body.review_id or last_id
        if not review_id:
            raise errors.Conflict("This card has no review to undo.", code="nothing_to_undo")
        log_ref = reviews_col(db, uid).document(review_id)
        log_snap = log_ref.get(transaction=tx)
        if not log_snap.exists or (log_snap.to_dict() or {}).get("cardId") != body.card_id:
            raise errors.NotFound(f"No review {review_id} of this card.", code="review_not_found")
        entry = log_snap.to_dict() or {}
        if entry.get("undoneAt") is not None and last_id != review_id:
            return api.UndoResult(review_id=review_id, card_id=body.card_id, card=_schedule_model(card))
        if last_id != review_id:
            raise errors.Conflict("Only the last review of a card can be undone.", code="not_last_review")
        user_snap = snaps[uref.path]
        user = (user_snap.to_dict() or {}) if user_snap.exists else {}
        before, new_stats, next_due = undo_review(
            log=entry, user_stats=user.get("stats"), next_due_at=user.get("nextDueAt")
        )
        restored = before.to_stored() | {"updatedAt": now}
        tx.update(card_ref, restored)
        tx.update(log_ref, {"undoneAt": now})
        _write_user(tx, uref, user=user if user_snap.exists else None, stats=new_stats, next_due=next_due, now=now)
        return api.UndoResult(review_id=review_id, card_id=body.card_id, card=_schedule_model(restored))

    try:
        result: api.UndoResult = run(_transaction(db))
    except ValueError as exc:
        raise _gave_up(exc) from exc
    return result


def _schedule_model(data: dict[str, Any]) -> api.CardSchedule:
    s = Schedule.from_stored(data)
    return api.CardSchedule(
        state=s.state,
        queue=s.queue,
        step=s.step,
        stability=s.stability,
        difficulty=s.difficulty,
        due=s.due,
        last_review=s.last_review,
        reps=s.reps,
        lapses=s.lapses,
        suspended=s.suspended,
        tags=list(s.tags),
    )


# -- study queue ----------------------------------------------------------------------------


def _candidates(snaps: Iterator[Any], queue: str) -> list[Candidate]:
    out = []
    for snap in snaps:
        data = snap.to_dict() or {}
        due = data.get("due")
        out.append(
            Candidate(
                card_id=snap.id,
                queue=queue,
                due=utc(due) if isinstance(due, datetime) else datetime.min.replace(tzinfo=UTC),
                note_id=data.get("noteId"),
                data=data,
            )
        )
    return out


def _count(query: Any) -> int:
    result = query.count(alias="n").get()
    return int(result[0][0].value)


def study_queue(db: Any, uid: str, query: api.QueueQuery) -> api.StudyQueue:
    now = _now()
    user = read_user(db, uid)
    settings = _user_settings(user)
    stats = stats_mod.normalise(user.get("stats"))
    today = study_day(now, settings.timezone, settings.day_starts_at_hour)
    limits = limits_for(settings, stats_mod.today_counts(stats, today))
    base = cards_col(db, uid)
    if query.deck_id:
        _live_deck(decks_col(db, uid).document(query.deck_id).get(), query.deck_id)
        base = base.where(filter=_f("deckId", "==", query.deck_id))
    fetch = query.limit * 2  # room for buried siblings

    def due_in(queue: str, limit: int) -> Any:
        return (
            base.where(filter=_f("queue", "==", queue)).where(filter=_f("due", "<=", now)).order_by("due").limit(limit)
        )

    learning = _candidates(due_in("learning", fetch).stream(), "learning") if fetch else []
    review_n = min(fetch, limits.review_remaining)
    review = _candidates(due_in("review", review_n).stream(), "review") if review_n else []
    new_n = min(fetch, limits.new_remaining)
    new_q = base.where(filter=_f("queue", "==", "new")).order_by("due").limit(new_n)
    new = _candidates(new_q.stream(), "new") if new_n else []
    available = {
        "learning": _count(base.where(filter=_f("queue", "==", "learning")).where(filter=_f("due", "<=", now))),
        "review": _count(base.where(filter=_f("queue", "==", "review")).where(filter=_f("due", "<=", now)))
        if limits.review_remaining
        else 0,
        "new": _count(base.where(filter=_f("queue", "==", "new")).limit(limits.new_remaining))
        if limits.new_remaining
        else 0,
    }
    result = build_queue(
        learning=learning,
        review=review,
        new=new,
        settings=settings,
        limits=limits,
        studied_notes=stats_mod.studied_notes_today(stats, today),
        limit=query.limit,
        available=available,
    )
    return api.StudyQueue(
        day=day_key(today),
        cards=[_card(dict(c.data), c.card_id) for c in result.cards],
        counts=api.QueueCounts(**result.counts),
        limits=api.QueueLimits(
            new_remaining=result.limits.new_remaining, review_remaining=result.limits.review_remaining
        ),
        buried=result.buried,
    )


# -- stats ----------------------------------------------------------------------------------


def stats(db: Any, uid: str, query: api.StatsQuery) -> api.Stats:
    now = _now()
    user = read_user(db, uid)
    settings = _user_settings(user)
    tz, hour = settings.timezone, settings.day_starts_at_hour
    stored = stats_mod.normalise(user.get("stats"))
    today = study_day(now, tz, hour)
    per_day = stats_mod.reviews_per_day(stored, today, query.days)
    retention, review_count = stats_mod.true_retention(per_day)
    col = cards_col(db, uid)
    by_state = {
        state: _count(col.where(filter=_f("state", "==", state)))
        for state in ("new", "learning", "review", "relearning")
    }
    suspended = _count(col.where(filter=_f("suspended", "==", True)))
    horizon = now + timedelta(days=FORECAST_DAYS + 1)
    forecast = {day_key(today + timedelta(days=i)): 0 for i in range(FORECAST_DAYS)}
    due_query = (
        col.where(filter=_f("queue", "in", ["learning", "review"]))
        .where(filter=_f("due", "<", horizon))
        .order_by("due")
        .select(["due"])
        .limit(FORECAST_MAX_CARDS)
    )
    for snap in due_query.stream():
        due = (snap.to_dict() or {}).get("due")
        if not isinstance(due, datetime):
            continue
        key = day_key(max(study_day(due, tz, hour), today))
        if key in forecast:
            forecast[key] += 1
    return api.Stats(
        day=day_key(today),
        total_reviews=stored["totalReviews"],
        by_rating=stored["byRating"],
        streak=api.Streak(
            current=stats_mod.current_streak(stored, today),
            longest=stored["streak"]["longest"],
            last_day=stored["streak"]["lastDay"],
        ),
        reviews_per_day=[api.DayStats.model_validate(d) for d in per_day],
        retention=api.Retention(true_retention=retention, review_count=review_count, days=query.days),
        cards=api.CardCounts(**by_state, suspended=suspended, total=sum(by_state.values())),
        forecast=[api.ForecastDay(day=k, due=v) for k, v in forecast.items()],
    )
