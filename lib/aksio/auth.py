"""Firebase Auth: who is calling.

The ID token comes from ``Authorization: Bearer <token>`` and is verified with
firebase-admin (signature, expiry, audience = our project, issuer). With
``check_revoked`` the user is also looked up, so revoked sessions, disabled and
deleted users are refused: one Auth API call, used by the functions that need it.

Against the Auth emulator (``FIREBASE_AUTH_EMULATOR_HOST``) firebase-admin accepts
unsigned tokens by design; every other check still applies. That variable can never be
honoured in production: there the configuration refuses to load with any
``*_EMULATOR_HOST`` set, and the function refuses to start (:mod:`aksio.config`).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aksio.config import get_config
from aksio.errors import Unauthenticated, Unavailable

if TYPE_CHECKING:  # pragma: no cover
    import firebase_admin

_lock = threading.Lock()
_app: firebase_admin.App | None = None


@dataclass(frozen=True)
class Caller:
    uid: str
    email: str | None = None
    email_verified: bool = False
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def plan(self) -> str:
        return str(self.claims.get("plan", "free"))


def firebase_app() -> firebase_admin.App:
    """The firebase-admin app, initialised once per instance."""
    global _app
    if _app is None:
        import firebase_admin

        with _lock:
            if _app is None:
                try:
                    _app = firebase_admin.get_app()
                except ValueError:
                    _app = firebase_admin.initialize_app(options={"projectId": get_config().project})
    return _app


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Missing Authorization header; send 'Authorization: Bearer <Firebase ID token>'.")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Authorization header must be 'Bearer <Firebase ID token>'.")
    if len(token) > 8192 or token.count(".") != 2:
        raise Unauthenticated("The bearer token is not a well-formed JWT.")
    return token


CLOCK_SKEW_S = 60


def _unverified_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, IndexError):
        raise Unauthenticated("The bearer token is not a well-formed JWT.") from None
    if not isinstance(claims, dict):
        raise Unauthenticated("The bearer token is not a well-formed JWT.")
    return claims


def _check_times(claims: dict[str, Any]) -> None:
    # google-auth checks these for signed tokens; the emulator path of firebase-admin does
    # not, so they are checked here too: an expired token is refused everywhere.
    now = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise Unauthenticated("The ID token lacks exp/iat claims.")
    if exp < now - CLOCK_SKEW_S:
        raise Unauthenticated("The ID token has expired; refresh it and retry.", code="token_expired")
    if iat > now + CLOCK_SKEW_S:
        raise Unauthenticated("The ID token is not valid yet.")


def verify(authorization: str | None, *, check_revoked: bool = False) -> Caller:
    """The verified caller, or :class:`Unauthenticated` (401) for any bad token."""
    token = bearer_token(authorization)
    # Times first, from the unverified payload: this can only refuse a token, never accept
    # one, and it makes an expired token read as expired rather than as revoked.
    _check_times(_unverified_claims(token))
    from firebase_admin import auth

    try:
        claims = auth.verify_id_token(token, app=firebase_app(), check_revoked=check_revoked)
    except auth.ExpiredIdTokenError:
        raise Unauthenticated("The ID token has expired; refresh it and retry.", code="token_expired") from None
    except auth.RevokedIdTokenError:
        raise Unauthenticated("The ID token was revoked; sign in again.", code="token_revoked") from None
    except auth.UserDisabledError:
        raise Unauthenticated("This account is disabled.", code="user_disabled") from None
    except auth.UserNotFoundError:
        raise Unauthenticated("This account no longer exists.", code="user_not_found") from None
    except auth.CertificateFetchError:
        raise Unavailable("Could not verify the ID token right now; retry shortly.") from None
    except (auth.InvalidIdTokenError, ValueError):
        raise Unauthenticated("The ID token is invalid.") from None
    from aksio.ids import valid_uid

    if not valid_uid(claims.get("uid")):  # it goes into Firestore and Storage paths
        raise Unauthenticated("This account's user id is not supported.", code="invalid_uid")
    return Caller(
        uid=claims["uid"],
        email=claims.get("email"),
        email_verified=bool(claims.get("email_verified", False)),
        claims=claims,
    )


# -- the account's state, for the routes that spend money ---------------------------------

_state_lock = threading.Lock()
_states: dict[str, tuple[float, bool, float]] = {}  # uid -> (fetched at, disabled, tokens valid after, s)
STATE_CACHE_MAX = 10_000


def forget_states() -> None:
    """Drop the cached account states (tests)."""
    with _state_lock:
        _states.clear()


def _state(uid: str) -> tuple[bool, float]:
    """(disabled, tokens valid after: epoch seconds) of the account, looked up at most once per
    ``REVOCATION_CACHE_SECONDS`` per instance."""
    ttl = get_config().revocation_cache_seconds
    now = time.monotonic()
    with _state_lock:
        cached = _states.get(uid)
    if cached is not None and now - cached[0] < ttl:
        return cached[1], cached[2]
    from firebase_admin import auth

    try:
        record = auth.get_user(uid, app=firebase_app())
    except auth.UserNotFoundError:
        raise Unauthenticated("This account no longer exists.", code="user_not_found") from None
    except Exception as exc:
        from aksio.edge import dependency_error

        if dependency_error(exc) is not None:
            raise Unavailable("Could not check the account right now; retry shortly.") from None
        raise
    valid_after = (record.tokens_valid_after_timestamp or 0) / 1000
    with _state_lock:
        if len(_states) >= STATE_CACHE_MAX:
            _states.clear()
        _states[uid] = (now, bool(record.disabled), valid_after)
    return bool(record.disabled), valid_after


def check_active(caller: Caller) -> None:
    """401 when the caller's account is disabled, deleted, or its sessions were revoked after
    this token was issued: checked on the routes that spend money (AI, uploads, billing),
    with a short cache so a disabled user loses them within ``REVOCATION_CACHE_SECONDS``."""
    disabled, valid_after = _state(caller.uid)
    if disabled:
        raise Unauthenticated("This account is disabled.", code="user_disabled")
    auth_time = caller.claims.get("auth_time", caller.claims.get("iat", 0))
    if isinstance(auth_time, int | float) and auth_time < valid_after:
        raise Unauthenticated("The ID token was revoked; sign in again.", code="token_revoked")
