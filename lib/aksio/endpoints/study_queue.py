"""study-queue: the cards to study now (due learning and review cards, then today's new
cards) within the daily limits, with counts."""

from __future__ import annotations

from aksio import lazy, params
from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.study import reports
from aksio.study.service import Json

# models are imported when a request needs one (cold start: reads need none)
models = lazy.models("aksio.study.api")

api = Api("study-queue", summary="What to study now")


@api.get("/", query=models.QueueQuery, fast_query=params.QUEUE, response=models.StudyQueue, errors=(400, 404))
def queue(ctx: Ctx) -> Json:
    """Up to ``limit`` cards in study order, optionally of one deck, and what is left today."""
    return reports.study_queue(firestore_client(), ctx.uid, ctx.query)
