"""decks: the signed-in user's decks (create, cursor-paginated list, read, rename, delete)."""

from __future__ import annotations

from aksio import lazy, params
from aksio.clients import firestore_client
from aksio.http import Api, Ctx, Result
from aksio.openapi import Link
from aksio.study import service
from aksio.study.ids import deck_id
from aksio.study.service import Json

# models are imported when a request needs one (cold start: reads need none)
models = lazy.models("aksio.study.api")
ListQuery = lazy.models("aksio.schema").ListQuery

api = Api("decks", summary="Decks of the signed-in user")

DECK = {"deck": "$response.body#/id"}
CREATED = (
    Link("read", "decks.read", DECK),
    Link("rename", "decks.rename", DECK),
    Link("delete", "decks.delete", DECK),
    Link("addCard", "cards.create", body={"deckId": "$response.body#/id"}),
    Link("listCards", "cards.list_", {"query.deckId": "$response.body#/id"}),
    Link("studyQueue", "study-queue.queue", {"query.deckId": "$response.body#/id"}),
)


@api.post(
    "/",
    body=models.NewDeck,
    response=models.Deck,
    status=201,
    replay_status=200,
    errors=(400, 409, 413, 415),
    links=CREATED,
)
def create(ctx: Ctx) -> Result:
    """Create a deck (201); with a client ``id``, a retry returns the same deck (200)."""
    deck, created = service.create_deck(firestore_client(), ctx.uid, ctx.body)
    return Result(deck, status=201 if created else 200)


@api.get("/", query=ListQuery, fast_query=params.LIST, response=models.DeckPage, errors=(400,))
def list_(ctx: Ctx) -> Json:
    """The decks, oldest first, ``limit`` at a time; pass ``nextCursor`` back as ``cursor``."""
    return service.list_decks(firestore_client(), ctx.uid, ctx.query)


@api.get("/<deck>", response=models.Deck, errors=(404,))
def read(ctx: Ctx) -> Json:
    """One deck, with its number of cards."""
    return service.get_deck(firestore_client(), ctx.uid, deck_id(ctx.params["deck"]))


@api.patch("/<deck>", body=models.DeckPatch, response=models.Deck, errors=(400, 404, 413, 415))
def rename(ctx: Ctx) -> Json:
    """Rename a deck or change its description."""
    return service.update_deck(firestore_client(), ctx.uid, deck_id(ctx.params["deck"]), ctx.body)


@api.delete("/<deck>", response=models.Deleted, errors=(404,))
def delete(ctx: Ctx) -> Json:
    """Delete a deck and all its cards (their review logs are kept for the optimizer)."""
    return service.delete_deck(firestore_client(), ctx.uid, deck_id(ctx.params["deck"]))
