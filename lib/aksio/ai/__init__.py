"""The AI provider layer: one interface for "make cards from these passages", "answer
with these passages" and embeddings, and the providers behind it.

- :mod:`.base`: the interface, its value types and errors (pure).
- :mod:`.prompts`: the prompts; document text is always delimited as data (pure).
- :mod:`.offline`: the provider used when no key is configured: real cards from the text
  itself and answers quoting the best passages (pure, deterministic).
- :mod:`.openai_provider`: OpenAI (or any compatible server) through the official client,
  imported only when used.

:func:`get_provider` picks one from ``AI_PROVIDER`` (:mod:`aksio.config`): ``offline``, or
``openai`` (which needs ``OPENAI_API_KEY``); unset, OpenAI when the key is configured, else
offline, except in production, where no key means no AI: :class:`aksio.errors.Unavailable`
with code ``ai_unavailable`` (a 503 on the AI routes), never a silent fallback.

The operator's switch ``AI_DISABLED`` turns every model and embedding call off at once:
:func:`get_provider` (and :func:`require_enabled`, for routes that call the model later)
raise :class:`aksio.errors.Unavailable` ``ai_disabled`` (503) and log the structured event
``ai_disabled`` (``jsonPayload.event``), which the alert on it counts.
"""

from __future__ import annotations

from aksio.ai.base import (
    Answer,
    CardDraft,
    CardRequest,
    CardResult,
    Citation,
    Passage,
    PermanentProviderError,
    Provider,
    ProviderError,
    TransientProviderError,
    Turn,
    Usage,
)

__all__ = [
    "Answer",
    "CardDraft",
    "CardRequest",
    "CardResult",
    "Citation",
    "Passage",
    "PermanentProviderError",
    "Provider",
    "ProviderError",
    "TransientProviderError",
    "Turn",
    "Usage",
    "get_provider",
    "require_enabled",
    "reset_provider",
]

_provider: Provider | None = None


AI_DISABLED_MESSAGE = "AI features are turned off for now by the operator; everything else works. Try again later."


def require_enabled(what: str = "ai") -> None:
    """:class:`aksio.errors.Unavailable` ``ai_disabled`` (logged as the event ``ai_disabled``)
    while the operator has turned AI off (``AI_DISABLED``)."""
    from aksio.config import get_config

    if not get_config().ai_disabled:
        return
    from aksio import errors, log

    log.get_logger("aksio.ai").warning("ai_disabled", extra={"event": "ai_disabled", "refused": what})
    raise errors.Unavailable(AI_DISABLED_MESSAGE, code="ai_disabled", retry_after=300)


def get_provider(what: str = "ai") -> Provider:
    """The configured provider, created once per instance; :class:`aksio.errors.Unavailable`
    (``ai_unavailable``) when AI is wanted but no key is configured (asked again next call),
    ``ai_disabled`` while the operator has turned AI off."""
    global _provider
    require_enabled(what)
    if _provider is None:
        _provider = _configured_provider()
    return _provider


def _configured_provider() -> Provider:
    from aksio.config import get_config
    from aksio.secrets import get_secret

    cfg = get_config()
    if cfg.ai_provider != "offline":
        key = get_secret("OPENAI_API_KEY", required=False)
        if key:
            from aksio.ai.openai_provider import OpenAIProvider, OpenAISettings

            return OpenAIProvider(OpenAISettings.from_config(key, cfg))
        if cfg.ai_provider == "openai" or cfg.is_production:
            from aksio import errors, log

            why = "AI_PROVIDER=openai" if cfg.ai_provider == "openai" else "production"
            log.get_logger("aksio.ai").error(
                "no OPENAI_API_KEY configured (%s): AI is unavailable", why, extra={"event": "ai_disabled"}
            )
            raise errors.Unavailable(
                "AI features are unavailable: no AI provider is configured.", code="ai_unavailable", retry_after=60
            )
    from aksio.ai.offline import OfflineProvider

    return OfflineProvider()


def reset_provider(provider: Provider | None = None) -> None:
    """Forget the provider (or install ``provider``): for tests."""
    global _provider
    _provider = provider
