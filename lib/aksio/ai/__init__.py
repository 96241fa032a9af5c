"""The AI provider layer: one interface for "make cards from these passages", "answer
with these passages" and embeddings, and the providers behind it.

- :mod:`.base`: the interface, its value types and errors (pure).
- :mod:`.prompts`: the prompts; document text is always delimited as data (pure).
- :mod:`.offline`: the provider used when no key is configured: real cards from the text
  itself and answers quoting the best passages (pure, deterministic).
- :mod:`.openai_provider`: OpenAI (or any compatible server) through the official client,
  imported only when used.

:func:`get_provider` picks one: OpenAI when ``OPENAI_API_KEY`` is configured, else offline.
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
    "reset_provider",
]

_provider: Provider | None = None


def get_provider() -> Provider:
    """The configured provider, created once per instance."""
    global _provider
    if _provider is None:
        from aksio.secrets import get_secret

        key = get_secret("OPENAI_API_KEY", required=False)
        if key:
            from aksio.ai.openai_provider import OpenAIProvider, OpenAISettings

            _provider = OpenAIProvider(OpenAISettings.from_env(key))
        else:
            from aksio.ai.offline import OfflineProvider

            _provider = OfflineProvider()
    return _provider


def reset_provider(provider: Provider | None = None) -> None:
    """Forget the provider (or install ``provider``): for tests."""
    global _provider
    _provider = provider
