"""study-queue: the cards to study now (due learning and review cards, then today's new
cards) within the daily limits, with counts."""

from __future__ import annotations

from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.study import api as models
from aksio.study import reports

api = Api("study-queue", summary="What to study now")


@api.get("/", query=models.QueueQuery, response=models.StudyQueue, errors=(400, 404))
def queue(ctx: Ctx) -> models.StudyQueue:
    """Up to ``limit`` cards in study order, optionally of one deck, and what is left today."""
    return reports.study_queue(firestore_client(), ctx.uid, ctx.query)
