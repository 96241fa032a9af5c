"""Fixtures of the account tests: a user who has used every feature (through the gateway,
as a client does), and a scan of every store for anything of a user."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.conftest import User, need_env
from tests.e2e.ai.conftest import Client
from tests.e2e.billing.conftest import LocalStripe, Webhook, local_stripe, stripe_settings, webhook

__all__ = ["local_stripe", "stripe_settings", "webhook"]  # the billing fixtures, used here too

MD = "text/markdown"
DOCUMENT = (
    b"# Energy\n\nMitochondria are organelles that release energy from glucose during cellular respiration. "
    b"ATP is the molecule that cells use to store and transfer energy.\n\f"
    b"# Photosynthesis\n\nPhotosynthesis is the process by which plants convert light energy into chemical energy. "
    b"Chlorophyll is the green pigment that absorbs light in the chloroplasts."
)


@dataclass
class Footprint:
    """What a user made, as the API reported it."""

    user: User
    client: Client
    document_id: str = ""
    object_name: str = ""
    deck_id: str = ""
    job_id: str = ""
    chat_id: str = ""
    device_id: str = ""
    customer_id: str = ""
    subscription_id: str = ""
    event_ids: list[str] = field(default_factory=list)


def use_everything(
    client: Client, local_stripe: LocalStripe, webhook: Webhook, db: Any, *, generate: bool = True
) -> Footprint:
    """Profile, settings, a document (Storage + chunks), a deck, generated and hand-made cards,
    a review, a tutor chat, a push device, a paid subscription (Stripe customer, mapping,
    processed events)."""
    fp = Footprint(client.user, client)
    client.ok("PATCH", "/account", json={"displayName": "Student", "settings": {"newCardsPerDay": 15}})
    fp.document_id = client.upload("Biology.md", MD, DOCUMENT)
    doc = client.wait_document(fp.document_id)
    assert doc["status"] == "ready", doc
    fp.deck_id = client.deck("Biology")
    if generate:
        fp.job_id = client.generate(documentIds=[fp.document_id], deckId=fp.deck_id, count=6)
        assert client.wait_job(fp.job_id)["status"] == "succeeded"
    card = client.ok("POST", "/cards", 201, json={"deckId": fp.deck_id, "front": "What is ATP?", "back": "Energy"})
    review = {"cardId": card["cards"][0]["id"], "rating": 3, "reviewId": uuid.uuid4().hex}
    assert client.call("POST", "/review-card", json=review).status_code == 200
    fp.chat_id = client.ok("POST", "/chat-reply", json={"message": "What does chlorophyll absorb?"})["chatId"]
    tok = f"fcm:{uuid.uuid4().hex}_{uuid.uuid4().hex}"
    fp.device_id = client.ok("POST", "/notifications/devices", 201, json={"token": tok, "platform": "ios"})["id"]
    r = client.call("POST", "/create-checkout-session", json={"plan": "pro"})
    assert r.status_code == 200, r.text
    paid = local_stripe.complete_checkout(r.json()["id"])
    assert paid.status_code == 200, paid.text
    done = paid.json()
    assert webhook.ok(done["event"], "applied")["plan"] == "pro"
    fp.customer_id, fp.subscription_id = done["subscription"]["customer"], done["subscription"]["id"]
    fp.event_ids.append(done["event"]["id"])
    user_doc = db.collection("users").document(client.user.uid).get().to_dict()
    fp.object_name = str(
        db.collection("users")
        .document(client.user.uid)
        .collection("documents")
        .document(fp.document_id)
        .get()
        .to_dict()["objectPath"]
    )
    assert user_doc["billing"]["status"] == "active"
    return fp


# The top-level collections that may name a user (scanned even when empty), besides any other.
GLOBAL = ("stripeCustomers", "stripeEvents", "deviceTokens", "deletedAccounts")


@dataclass
class Scan:
    """Every place the scan looked, and what of the user it found there."""

    looked: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)


def _firestore(db: Any, uid: str, scan: Scan) -> None:
    user = db.collection("users").document(uid)
    scan.looked.append("firestore users/{uid} (the document and every subcollection)")
    if user.get().exists:
        scan.found.append(f"firestore {user.path}")
    for col in user.collections():
        for ref in col.list_documents():
            scan.found.append(f"firestore {ref.path}")
    for group in (
        "cards",
        "decks",
        "reviews",
        "documents",
        "chunks",
        "chats",
        "messages",
        "jobs",
        "devices",
        "notifications",
        "usage",
        "activity",
        "exports",
    ):
        scan.looked.append(f"firestore collection group {group} (paths naming the uid)")
        for snap in db.collection_group(group).select([]).stream():
            if uid in snap.reference.path:
                scan.found.append(f"firestore {snap.reference.path}")
    top = {c.id: c for c in db.collections()} | {n: db.collection(n) for n in GLOBAL}
    for name, col in sorted(top.items()):
        if name == "users":
            continue
        scan.looked.append(f"firestore {name}/* (ids and every field value)")
        for snap in col.stream():
            text = snap.id + json.dumps(snap.to_dict(), default=str)
            if uid in text:
                scan.found.append(f"firestore {snap.reference.path}")


def _storage(uid: str, scan: Scan) -> None:
    env = need_env("STORAGE_EMULATOR_HOST", "UPLOAD_BUCKET")
    url = f"{env['STORAGE_EMULATOR_HOST'].rstrip('/')}/storage/v1/b/{env['UPLOAD_BUCKET']}/o"
    scan.looked.append(f"storage gs://{env['UPLOAD_BUCKET']} (every object name)")
    params: dict[str, Any] = {}
    while True:
        r = requests.get(url, params=params, timeout=30)
        r.raise_for_status()
        page = r.json()
        scan.found += [f"storage {o['name']}" for o in page.get("items", []) if uid in o["name"]]
        if not page.get("nextPageToken"):
            return
        params["pageToken"] = page["nextPageToken"]


def _stripe(stripe: LocalStripe, uid: str, fp: Footprint | None, scan: Scan) -> None:
    scan.looked.append("stripe customers (metadata.uid)")
    scan.found += [f"stripe customer {c['id']}" for c in stripe.customers_of(uid)]
    if fp is not None and fp.customer_id:
        scan.looked.append(f"stripe customer {fp.customer_id}")
        r = stripe.get(f"/v1/customers/{fp.customer_id}")
        if r.status_code == 200 and not r.json().get("deleted"):
            scan.found.append(f"stripe customer {fp.customer_id}")
        scan.looked.append(f"stripe subscription {fp.subscription_id}")
        sub = stripe.get(f"/v1/subscriptions/{fp.subscription_id}")
        if sub.status_code == 200 and sub.json().get("status") != "canceled":
            scan.found.append(f"stripe subscription {fp.subscription_id} ({sub.json().get('status')})")


def _auth(uid: str, scan: Scan) -> None:
    from firebase_admin import auth

    from aksio.auth import firebase_app

    scan.looked.append("auth user by uid")
    try:
        auth.get_user(uid, app=firebase_app())
        scan.found.append(f"auth user {uid}")
    except auth.UserNotFoundError:
        pass


def scan_everything(db: Any, stripe: LocalStripe, uid: str, fp: Footprint | None = None) -> Scan:
    scan = Scan()
    _firestore(db, uid, scan)
    _storage(uid, scan)
    _stripe(stripe, uid, fp, scan)
    _auth(uid, scan)
    return scan


def wait_deleted(db: Any, uid: str, timeout: float = 120) -> dict[str, Any]:
    """The tombstone once its job is done (the positive signal the deletion ended)."""
    from aksio.account import repository

    deadline = time.monotonic() + timeout
    while True:
        data = repository.read_tombstone(db, uid)
        if data is not None and data.get("status") == "done":
            return data
        assert time.monotonic() < deadline, f"deletion not done: {data}"
        time.sleep(0.3)


@pytest.fixture
def everything(
    client_for: Callable[[User], Client], local_stripe: LocalStripe, webhook: Webhook, firestore_db: Any
) -> Callable[..., Footprint]:
    from tests.conftest import sign_up

    host = need_env("FIREBASE_AUTH_EMULATOR_HOST")["FIREBASE_AUTH_EMULATOR_HOST"]
    return lambda **kw: use_everything(client_for(sign_up(host)), local_stripe, webhook, firestore_db, **kw)


@pytest.fixture
def client_for(gateway_url: str) -> Callable[[User], Client]:
    return lambda user: Client(gateway_url, user, requests.Session())
