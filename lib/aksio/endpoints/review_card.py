"""review-card: grade a card 1-4 (or again/hard/good/easy) on FSRS, idempotently by the
client's review id; undo a card's last review; read a stored review."""

from __future__ import annotations

from typing import Any

from aksio import lazy, log
from aksio.clients import firestore_client
from aksio.http import Api, Ctx, Result
from aksio.openapi import Link
from aksio.study import service
from aksio.study.ids import review_id
from aksio.study.repository import FirestoreStudy
from aksio.study.service import Json

# models (and FSRS) are imported when a request needs them (cold start: reads do not)
models = lazy.models("aksio.study.api")

api = Api("review-card", summary="Review a card on the FSRS schedule")
_log = log.get_logger("aksio.review")


REVIEWED = (
    Link("read", "review-card.read", {"review": "$response.body#/reviewId"}),
    Link("undo", "review-card.undo", body={"cardId": "$response.body#/cardId", "reviewId": "$response.body#/reviewId"}),
    Link("card", "cards.read", {"card": "$response.body#/cardId"}),
)


@api.post(
    "/",
    body=models.ReviewRequest,
    response=models.ReviewResult,
    errors=(400, 404, 409, 413, 415, 503),
    links=REVIEWED,
)
def review(ctx: Ctx) -> Result:
    """Record a review. The same ``reviewId`` again returns the first result and changes
    nothing (header ``Idempotent-Replayed: true``)."""
    from aksio.study import reviews

    result, replayed = reviews.review_card(FirestoreStudy(firestore_client(), ctx.uid), ctx.body)
    if not replayed:  # the business event of the log-based metric card_reviewed (terraform/modules/monitoring)
        _log.info("card reviewed", extra={"event": "card_reviewed"})
    return Result(result, headers={"Idempotent-Replayed": "true" if replayed else "false"})


@api.post("/undo", body=models.UndoRequest, response=models.UndoResult, errors=(400, 404, 409, 413, 415, 503))
def undo(ctx: Ctx) -> Any:
    """Undo the last review of a card: its schedule and the stats go back to before it."""
    from aksio.study import reviews

    return reviews.undo(FirestoreStudy(firestore_client(), ctx.uid), ctx.body)


@api.get("/<review>", response=models.ReviewResult, errors=(404,))
def read(ctx: Ctx) -> Json:
    """A stored review's result."""
    return service.get_review(firestore_client(), ctx.uid, review_id(ctx.params["review"]))
