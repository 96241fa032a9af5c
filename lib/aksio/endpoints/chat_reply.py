"""chat-reply: ask the tutor (answers grounded in the user's documents, with citations),
optionally streamed as server-sent events; list chats and their messages."""

from __future__ import annotations

import contextvars
import json
import queue
import threading
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from aksio import errors, log
from aksio.chat import model as models
from aksio.chat import service
from aksio.clients import firestore_client
from aksio.edge import dependency_error, status_of
from aksio.http import Api, Ctx
from aksio.ids import path_id
from aksio.openapi import Link

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

api = Api("chat-reply", summary="The AI tutor")
_log = log.get_logger("aksio.chat_reply")


def _chat_id(ctx: Ctx) -> str:
    return path_id(ctx.params["chat"], "chat")


def _wants_stream(ctx: Ctx) -> bool:
    return "text/event-stream" in (ctx.request.headers.get("Accept") or "")


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def _stream(db: Client, prep: service.Prepared, request_id: str) -> Response:
    from aksio.ai import get_provider

    provider = get_provider()
    events: queue.Queue[tuple[str, Any] | None] = queue.Queue()

    def work() -> None:
        try:
            reply = service.complete(db, prep, provider, on_delta=lambda text: events.put(("delta", {"text": text})))
            events.put(("done", reply.model_dump(mode="json", by_alias=True, exclude_none=True)))
        except errors.AppError as exc:
            events.put(("error", exc.body(request_id)["error"] | {"status": status_of(exc)}))
        except Exception as exc:
            unavailable = dependency_error(exc)
            if unavailable is not None:
                events.put(("error", unavailable.body(request_id)["error"] | {"status": 503}))
            else:
                _log.exception("streamed reply failed")
                events.put(("error", errors.Internal().body(request_id)["error"] | {"status": 500}))
        finally:
            events.put(None)

    # the worker keeps the request's context (its log fields and its Firestore deadline budget)
    threading.Thread(target=contextvars.copy_context().run, args=(work,), name="chat-reply-stream", daemon=True).start()

    def body() -> Any:
        yield _event("start", {"chatId": prep.chat_id, "requestId": request_id})
        while (item := events.get()) is not None:
            yield _event(*item)

    return Response(
        body(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


CHAT = {"chat": "$response.body#/chatId"}
REPLIED = (
    Link("read", "chat-reply.read", CHAT),
    Link("messages", "chat-reply.messages", CHAT),
    Link("delete", "chat-reply.delete", CHAT),
    Link("askAgain", "chat-reply.reply", body={"chatId": "$response.body#/chatId"}),
)


@api.post(
    "/",
    body=models.ChatRequest,
    response=models.ChatReply,
    errors=(400, 401, 403, 404, 409, 413, 415, 429, 503),
    links=REPLIED,
    spends="ai",
)
def reply(ctx: Ctx) -> Any:
    """Ask a question (in ``chatId``, or a new chat), answered from ``documentIds`` (or the
    chat's, or all ready documents; with ``courseId``, the course's ready documents only) with
    citations. With ``Accept: text/event-stream`` the
    answer streams as events ``start``, ``delta`` (``{text}``) …, then ``done`` (the reply
    as the JSON answer would be) or ``error``. Over the daily tutor quota: 429. No AI
    configured (production without a key): 503 ``ai_unavailable``, nothing charged."""
    from aksio.ai import get_provider

    provider = get_provider()  # before the quota is charged
    db = firestore_client()
    prep = service.prepare(db, ctx.uid, ctx.body)
    if _wants_stream(ctx):
        return _stream(db, prep, ctx.request_id)
    return service.complete(db, prep, provider)


@api.get("/", query=models.PageQuery, response=models.ChatPage, errors=(400,))
def list_(ctx: Ctx) -> models.ChatPage:
    """The user's chats, most recently active first."""
    return service.list_chats(firestore_client(), ctx.uid, ctx.query)


@api.get("/<chat>", response=models.Chat, errors=(404,))
def read(ctx: Ctx) -> models.Chat:
    """One chat."""
    return service.get_chat(firestore_client(), ctx.uid, _chat_id(ctx))


@api.get("/<chat>/messages", query=models.PageQuery, response=models.MessagePage, errors=(400, 404))
def messages(ctx: Ctx) -> models.MessagePage:
    """A chat's messages, oldest first, with their citations."""
    return service.list_messages(firestore_client(), ctx.uid, _chat_id(ctx), ctx.query)


@api.delete("/<chat>", response=models.ChatDeleted, errors=(404,))
def delete(ctx: Ctx) -> models.ChatDeleted:
    """Delete a chat and its messages."""
    return service.delete_chat(firestore_client(), ctx.uid, _chat_id(ctx))
