"""OpenAI (or any OpenAI-compatible server) through the official ``openai`` client.

Configuration (read by :mod:`aksio.config`): ``OPENAI_BASE_URL`` (any compatible server),
``OPENAI_MODEL`` (default ``gpt-4o-mini``), ``OPENAI_EMBEDDING_MODEL``
(``text-embedding-3-small``), ``OPENAI_TIMEOUT_SECONDS`` (30 per request),
``OPENAI_MAX_RETRIES`` (1: the client's own retry of 429/5xx/timeouts, with backoff and
``Retry-After``; the defaults keep a call well inside the calling function's timeout), and
``OPENAI_RESPONSE_FORMAT``: ``json_schema`` (structured output, the default),
``json_object`` or ``none`` for servers that support neither. The key comes from
:func:`aksio.secrets.get_secret`.

Card output is validated with pydantic, card by card. Output that is not the expected
JSON is first repaired locally (code fences, prose around the object, a reply cut off by
the token limit keeps its complete cards); if nothing usable remains the model is asked
once more with the problem named; a second failure is a transient error (the task is
retried later and the job records why), so no output is ever dropped silently.
``openai`` is imported only when this provider is first used.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from aksio import log
from aksio.ai import prompts
from aksio.ai.base import (
    Answer,
    CardDraft,
    CardRequest,
    CardResult,
    Delta,
    Passage,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    Turn,
    Usage,
    check_draft,
    citations_from_markers,
)
from aksio.ai.text import estimate_tokens

if TYPE_CHECKING:  # pragma: no cover
    from aksio.config import Config

_log = log.get_logger("aksio.ai.openai")


@dataclass(frozen=True)
class OpenAISettings:
    api_key: str
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    embedding_model: str = "text-embedding-3-small"
    timeout_seconds: float = 30.0
    max_retries: int = 1
    response_format: str = "json_schema"
    max_output_tokens: int = 4096
    chat_max_output_tokens: int = 1024

    @classmethod
    def from_config(cls, api_key: str, cfg: Config | None = None) -> OpenAISettings:
        if cfg is None:
            from aksio.config import get_config

            cfg = get_config()
        return cls(
            api_key=api_key,
            base_url=cfg.openai_base_url,
            model=cfg.openai_model,
            embedding_model=cfg.openai_embedding_model,
            timeout_seconds=cfg.openai_timeout_seconds,
            max_retries=cfg.openai_max_retries,
            response_format=cfg.openai_response_format,
            max_output_tokens=cfg.openai_max_output_tokens,
            chat_max_output_tokens=cfg.chat_max_output_tokens,
        )


class CardOut(BaseModel):
    """One card as the model must write it."""

    kind: Literal["basic", "cloze"]
    front: str = ""
    back: str = ""
    text: str = ""
    passage: int = 1
    quote: str | None = None


class CardsOut(BaseModel):
    cards: list[Any]


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.I)


def repair_json(content: str) -> dict[str, Any] | None:
    """The JSON object in ``content``: as is, without code fences or surrounding prose, or
    (for a reply cut off mid-array) with the complete card objects before the cut."""
    text = _FENCE.sub("", content.strip())
    try:
        data = json.loads(text)
        return data if isinstance(data, dict) else ({"cards": data} if isinstance(data, list) else None)
    except ValueError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            data = json.loads(text[start : end + 1])
            if isinstance(data, dict):
                return data
        except ValueError:
            pass
    m = re.search(r'"cards"\s*:\s*\[', text)
    if not m:
        return None
    decoder = json.JSONDecoder()
    pos, items = m.end(), []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            break
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError:
            break
        items.append(item)
    return {"cards": items} if items else None


def parse_cards(content: str, passages: int) -> tuple[list[CardDraft], list[str], str | None]:
    """``(drafts, rejected reasons, problem)``: problem is set when the output as a whole
    is unusable (then it is worth asking again)."""
    data = repair_json(content)
    if data is None:
        return [], [], "it was not a JSON object"
    try:
        envelope = CardsOut.model_validate(data)
    except ValidationError:
        return [], [], 'it had no "cards" array'
    drafts: list[CardDraft] = []
    rejected: list[str] = []
    for raw in envelope.cards:
        try:
            card = CardOut.model_validate(raw)
        except ValidationError as exc:
            rejected.append("invalid card: " + "; ".join(e["msg"] for e in exc.errors(include_url=False))[:200])
            continue
        draft = CardDraft(
            kind=card.kind,
            front=card.front.strip(),
            back=card.back.strip(),
            text=card.text.strip(),
            passage=card.passage - 1,
            quote=(card.quote or "").strip() or None,
        )
        problem = check_draft(draft, passages)
        if problem:
            rejected.append(problem)
            continue
        drafts.append(draft)
    if envelope.cards and not drafts:
        return [], rejected, "none of its cards were valid: " + "; ".join(sorted(set(rejected)))[:300]
    return drafts, rejected, None


def _usage(response: Any, retried: int = 0) -> Usage:
    u = getattr(response, "usage", None)
    if u is None:
        return Usage(calls=1 + retried, retried=retried)
    prompt, completion = int(u.prompt_tokens or 0), int(getattr(u, "completion_tokens", 0) or 0)
    return Usage(prompt, completion, 1 + retried, retried)


def map_error(exc: Exception) -> ProviderError:  # noqa: PLR0911 - one return per error class
    """An ``openai`` exception as a transient or permanent provider error."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return TransientProviderError("The model timed out.", code="model_timeout")
    if isinstance(exc, openai.APIConnectionError):
        return TransientProviderError("The model could not be reached.", code="model_unreachable")
    if isinstance(exc, openai.RateLimitError):
        body = getattr(exc, "body", None)
        code = (body or {}).get("code") if isinstance(body, dict) else None
        if code == "insufficient_quota":
            return PermanentProviderError("The AI account has no quota left.", code="model_quota")
        return TransientProviderError("The model is rate limited.", code="model_rate_limited")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500 or exc.status_code in (408, 409):
            return TransientProviderError(f"The model failed ({exc.status_code}).", code="model_unavailable")
        return PermanentProviderError(f"The model refused the request ({exc.status_code}).", code="model_rejected")
    return TransientProviderError(f"Model call failed: {type(exc).__name__}", code="model_error")


class OpenAIProvider:
    name = "openai"

    def __init__(self, settings: OpenAISettings) -> None:
        self.settings = settings
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import openai

                    s = self.settings
                    self._client = openai.OpenAI(
                        api_key=s.api_key, base_url=s.base_url, timeout=s.timeout_seconds, max_retries=s.max_retries
                    )
        return self._client

    def _response_format(self) -> dict[str, Any] | None:
        if self.settings.response_format == "json_schema":
            schema = {"name": "cards", "strict": True, "schema": prompts.CARDS_SCHEMA}
            return {"type": "json_schema", "json_schema": schema}
        if self.settings.response_format == "json_object":
            return {"type": "json_object"}
        return None

    def _chat(self, messages: list[dict[str, Any]], **kw: Any) -> tuple[Any, int]:
        """The completion and how many times the client sent the request again."""
        import openai

        try:
            raw = self.client.chat.completions.with_raw_response.create(
                model=self.settings.model, messages=messages, **kw
            )
            return raw.parse(), int(getattr(raw, "retries_taken", 0) or 0)
        except openai.OpenAIError as exc:
            raise map_error(exc) from exc

    # -- cards ------------------------------------------------------------------------------

    def generate_cards(self, request: CardRequest) -> CardResult:
        messages = prompts.card_messages(request)
        usage = Usage()
        kw: dict[str, Any] = {"temperature": 0.2, "max_tokens": self.settings.max_output_tokens}
        fmt = self._response_format()
        if fmt is not None:
            kw["response_format"] = fmt
        problem = None
        for attempt in range(2):
            response, retried = self._chat(messages, **kw)
            usage.add(_usage(response, retried))
            choice = response.choices[0]
            content = choice.message.content or ""
            if getattr(choice.message, "refusal", None):
                raise PermanentProviderError("The model refused to write cards from this text.", code="model_refused")
            drafts, rejected, problem = parse_cards(content, len(request.passages))
            if problem is None:
                if choice.finish_reason == "length":
                    rejected.append("the reply was cut off at the token limit; the complete cards were kept")
                return CardResult(cards=drafts, usage=usage, rejected=rejected, repaired=attempt > 0)
            _log.warning("model output unusable (%s), attempt %s", problem, attempt + 1)
            messages = [
                *messages,
                {"role": "assistant", "content": content[:4000]},
                {"role": "user", "content": prompts.REPAIR.format(problem=problem)},
            ]
        raise TransientProviderError(
            f"The model's output was unusable twice ({problem}).", code="malformed_output"
        ) from None

    # -- answers ----------------------------------------------------------------------------

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = (), on_delta: Delta | None = None
    ) -> Answer:
        import openai

        messages = prompts.chat_messages(question, passages, history)
        if on_delta is None:
            response, retried = self._chat(messages, temperature=0.2, max_tokens=self.settings.chat_max_output_tokens)
            text = response.choices[0].message.content or ""
            usage = _usage(response, retried)
        else:
            parts: list[str] = []
            usage = Usage(calls=1)
            try:
                raw = self.client.chat.completions.with_raw_response.create(
                    model=self.settings.model,
                    messages=messages,
                    temperature=0.2,
                    max_tokens=self.settings.chat_max_output_tokens,
                    stream=True,
                    stream_options={"include_usage": True},
                )
                retried = int(getattr(raw, "retries_taken", 0) or 0)
                usage = Usage(calls=1 + retried, retried=retried)
                for chunk in raw.parse():
                    if getattr(chunk, "usage", None):
                        usage = _usage(chunk, retried)
                    for choice in chunk.choices or ():
                        piece = getattr(choice.delta, "content", None)
                        if piece:
                            parts.append(piece)
                            on_delta(piece)
            except openai.OpenAIError as exc:
                raise map_error(exc) from exc
            text = "".join(parts)
            if usage.total_tokens == 0:
                prompt = sum(estimate_tokens(m["content"]) for m in messages)
                usage = Usage(prompt, estimate_tokens(text), usage.calls, usage.retried)
        citations = citations_from_markers(text, passages)
        return Answer(text=text, citations=citations, usage=usage, grounded=bool(citations))

    # -- embeddings -------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], Usage]:
        import openai

        try:
            raw = self.client.embeddings.with_raw_response.create(
                model=self.settings.embedding_model, input=list(texts)
            )
            response = raw.parse()
        except openai.OpenAIError as exc:
            raise map_error(exc) from exc
        retried = int(getattr(raw, "retries_taken", 0) or 0)
        vectors = [list(d.embedding) for d in sorted(response.data, key=lambda d: d.index)]
        tokens = int(getattr(response.usage, "prompt_tokens", 0) or 0)
        return vectors, Usage(tokens, 0, 1 + retried, retried)
