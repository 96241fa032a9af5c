"""tags: the tags of the signed-in user's cards (list with card counts, rename and delete
across every card). Cards are filtered by tag with ``GET /cards?tag=`` and the study queue
with ``GET /study-queue?tag=``."""

from __future__ import annotations

from typing import Any

from aksio import lazy
from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.study import tags

# models are imported when a request needs one (cold start: reads need none)
models = lazy.models("aksio.study.api")

api = Api("tags", summary="Tags of the signed-in user's cards")


@api.get("/", response=models.TagList)
def list_(ctx: Ctx) -> dict[str, Any]:
    """Every tag in use (case-folded), with its number of cards, by name."""
    return tags.list_tags(firestore_client(), ctx.uid)


@api.patch("/<tag>", body=models.TagRename, response=models.TagChanged, errors=(400, 413, 415, 503))
def rename(ctx: Ctx) -> dict[str, Any]:
    """Rename a tag on every card that has it, in batches; sending it again continues an
    interrupted rename, and after it finished changes nothing."""
    return tags.rename_tag(firestore_client(), ctx.uid, ctx.params["tag"], ctx.body.name)


@api.delete("/<tag>", response=models.TagChanged, errors=(400, 503))
def delete(ctx: Ctx) -> dict[str, Any]:
    """Take a tag off every card that has it (the cards stay); idempotent like a rename."""
    return tags.delete_tag(firestore_client(), ctx.uid, ctx.params["tag"])
