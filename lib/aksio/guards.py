"""What a route that spends the operator's money asks of its caller, beyond a valid token.

- every such route (``spends`` on :meth:`aksio.http.Api.route`: ``ai``, ``upload``,
  ``billing``): the account is not disabled, deleted or revoked (:func:`aksio.auth.check_active`,
  cached briefly);
- ``ai`` and ``upload``: a verified email (``REQUIRE_VERIFIED_EMAIL``, on in production):
  403 ``email_not_verified``;
- ``ai``: the operator's switch (``AI_DISABLED``): 503 ``ai_disabled``, checked first, so a
  switched-off AI costs not even the account lookup.

Light: no pydantic, firebase-admin only through :mod:`aksio.auth`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aksio import errors
from aksio.config import get_config

if TYPE_CHECKING:  # pragma: no cover
    from aksio.auth import Caller

SPENDS = ("ai", "upload", "billing")
UNVERIFIED = "Verify your email address first: AI features and uploads need a verified email."


def check(caller: Caller, spends: str) -> None:
    if spends not in SPENDS:  # pragma: no cover - a route declared with a typo
        raise ValueError(f"spends={spends!r}: one of {', '.join(SPENDS)}")
    if spends == "ai":
        from aksio.ai import require_enabled

        require_enabled(spends)
    from aksio.auth import check_active

    check_active(caller)
    if spends in ("ai", "upload"):
        require_verified_email(caller)


def require_verified_email(caller: Caller) -> None:
    """403 ``email_not_verified`` when verified emails are required and this one is not."""
    if get_config().require_verified_email and not caller.email_verified:
        raise errors.PermissionDenied(UNVERIFIED, code="email_not_verified")


def check_ai_use(caller: Caller) -> None:
    """For a route that spends on AI only for some bodies (a quiz from documents, not from a
    deck): the operator's switch and a verified email, checked by the route for those bodies.
    (The account lookup of :func:`check` needs the route's ``spends``.)"""
    from aksio.ai import require_enabled

    require_enabled("ai")
    require_verified_email(caller)
