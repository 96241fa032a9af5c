"""cards: the signed-in user's cards (create basic or cloze, list by deck, read, edit,
suspend/unsuspend, delete)."""

from __future__ import annotations

from aksio import lazy, params
from aksio.clients import firestore_client
from aksio.http import Api, Ctx, Result
from aksio.openapi import Link
from aksio.study import service
from aksio.study.ids import card_id
from aksio.study.service import Json

# models are imported when a request needs one (cold start: reads need none)
models = lazy.models("aksio.study.api")
ListQuery = lazy.models("aksio.schema").ListQuery

api = Api("cards", summary="Flashcards of the signed-in user")

CARD = {"card": "$response.body#/cards/0/id"}
CREATED = (
    Link("read", "cards.read", CARD),
    Link("edit", "cards.edit", CARD),
    Link("suspend", "cards.suspend", CARD),
    Link("unsuspend", "cards.unsuspend", CARD),
    Link("delete", "cards.delete", CARD),
    Link("review", "review-card.review", body={"cardId": "$response.body#/cards/0/id"}),
)


@api.post(
    "/",
    body=models.NewCard,
    response=models.CardsCreated,
    status=201,
    replay_status=200,
    errors=(400, 404, 413, 415),
    links=CREATED,
)
def create(ctx: Ctx) -> Result:
    """Create a basic card, or the cards of a cloze note. The same content twice is
    created once: the second call answers 200 with the existing cards."""
    created = service.create_cards(firestore_client(), ctx.uid, ctx.body)
    return Result(created, status=201 if created["created"] else 200)


@api.get("/", query=models.CardListQuery, fast_query=params.CARD_LIST, response=models.CardPage, errors=(400, 404))
def list_(ctx: Ctx) -> Json:
    """The cards (of ``deckId`` if given), oldest first, ``limit`` at a time."""
    return service.list_cards(firestore_client(), ctx.uid, ctx.query)


@api.get("/<card>", response=models.Card, errors=(404,))
def read(ctx: Ctx) -> Json:
    """One card with its schedule."""
    return service.get_card(firestore_client(), ctx.uid, card_id(ctx.params["card"]))


@api.patch("/<card>", body=models.CardPatch, response=models.Card, errors=(400, 404, 413, 415))
def edit(ctx: Ctx) -> Json:
    """Edit front/back or tags, move to another deck, suspend or unsuspend."""
    return service.update_card(firestore_client(), ctx.uid, card_id(ctx.params["card"]), ctx.body)


@api.post("/<card>/suspend", response=models.Card, errors=(404,))
def suspend(ctx: Ctx) -> Json:
    """Suspend a card: it leaves the study queue until unsuspended."""
    patch = models.CardPatch(suspended=True)
    return service.update_card(firestore_client(), ctx.uid, card_id(ctx.params["card"]), patch)


@api.post("/<card>/unsuspend", response=models.Card, errors=(404,))
def unsuspend(ctx: Ctx) -> Json:
    """Unsuspend a card."""
    patch = models.CardPatch(suspended=False)
    return service.update_card(firestore_client(), ctx.uid, card_id(ctx.params["card"]), patch)


@api.delete("/<card>", response=models.Deleted, errors=(404,))
def delete(ctx: Ctx) -> Json:
    """Delete a card (its review logs are kept for the optimizer)."""
    return service.delete_card(firestore_client(), ctx.uid, card_id(ctx.params["card"]))
