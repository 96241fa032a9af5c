"""GET /account/usage and GET /account/activity over HTTP, as a client reads them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aksio import plans
from aksio.usage import period_end
from tests.conftest import User
from tests.e2e.ai.conftest import Client
from tests.e2e.billing.conftest import LocalStripe, Webhook
from tests.unit.billing import events as ev

pytestmark = pytest.mark.stack


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_usage_of_a_free_user_counts_what_they_use(client_for: Callable[[User], Client], user: User) -> None:
    client = client_for(user)
    usage = client.ok("GET", "/account/usage")
    assert (usage["plan"], usage["planName"]) == ("free", "Free")
    assert usage["limits"]["generationsPerMonth"] == plans.FREE.limits.generations_per_month
    assert usage["limits"]["maxUploadBytes"] == plans.FREE.limits.max_upload_bytes
    quotas = {q["quota"]: q for q in usage["quotas"]}
    assert {"generations", "pages", "tutorMessages"} <= set(quotas)
    now = _when(usage["at"])
    tutor = quotas["tutorMessages"]
    assert (tutor["used"], tutor["limit"], tutor["period"]) == (0, plans.FREE.limits.tutor_messages_per_day, "day")
    assert _when(tutor["resetsAt"]) == period_end("day", now)
    assert _when(quotas["generations"]["resetsAt"]) == period_end("month", now)
    assert usage["subscription"] == {}

    client.ok("POST", "/chat-reply", json={"message": "What is a cell?"})
    client.ok("POST", "/chat-reply", json={"message": "What is ATP?"})
    after = {q["quota"]: q for q in client.ok("GET", "/account/usage")["quotas"]}
    assert after["tutorMessages"]["used"] == 2
    assert after["tutorMessages"]["remaining"] == plans.FREE.limits.tutor_messages_per_day - 2
    assert after["generations"]["used"] == 0


def test_usage_shows_the_subscription_and_its_grace(
    client_for: Callable[[User], Client], user: User, local_stripe: LocalStripe, webhook: Webhook
) -> None:
    client = client_for(user)
    r = client.call("POST", "/create-checkout-session", json={"plan": "pro"})
    assert r.status_code == 200, r.text
    done = local_stripe.complete_checkout(r.json()["id"]).json()
    webhook.ok(done["event"], "applied")
    usage = client.ok("GET", "/account/usage")
    assert usage["plan"] == "pro"
    assert usage["limits"]["generationsPerMonth"] == plans.PRO.limits.generations_per_month
    sub = usage["subscription"]
    assert (sub["status"], sub["plan"], sub["cancelAtPeriodEnd"]) == ("active", "pro", False)
    assert _when(sub["currentPeriodEnd"]) > datetime.now(UTC)
    assert "graceEndsAt" not in sub

    now = int(time.time()) + 10
    sub_id, customer = done["subscription"]["id"], done["subscription"]["customer"]
    late = ev.subscription(sub_id, customer, "past_due", period_end=now + 86400 * 30, cancel_at_period_end=True)
    webhook.ok(ev.event("customer.subscription.updated", late, now), "applied")
    usage = client.ok("GET", "/account/usage")
    sub = usage["subscription"]
    assert (sub["status"], sub["cancelAtPeriodEnd"], sub["inGrace"]) == ("past_due", True, True)
    assert usage["plan"] == "pro"  # within the grace period
    grace = _when(sub["graceEndsAt"]) - datetime.fromtimestamp(now, UTC)
    assert abs(grace - plans.grace_period()) < timedelta(seconds=5)

    kinds = [a["kind"] for a in client.ok("GET", "/account/activity")["activity"]]
    assert kinds == ["plan_changed"]  # free → pro once; past_due within grace changes no plan


def test_activity_logs_devices_newest_first_in_pages(client_for: Callable[[User], Client], user: User) -> None:
    client = client_for(user)
    assert client.ok("GET", "/account/activity") == {"activity": []}
    token = f"fcm:{uuid.uuid4().hex}_{uuid.uuid4().hex}"
    device = client.ok("POST", "/notifications/devices", 201, json={"token": token, "platform": "web"})
    client.ok("POST", "/notifications/devices", 200, json={"token": token, "platform": "web"})  # same: no entry
    client.ok("DELETE", f"/notifications/devices/{device['id']}")
    page = client.ok("GET", "/account/activity", params={"limit": 1})
    assert [a["kind"] for a in page["activity"]] == ["device_removed"]
    rest = client.ok("GET", "/account/activity", params={"limit": 1, "cursor": page["nextCursor"]})
    assert [a["kind"] for a in rest["activity"]] == ["device_added"]
    assert "nextCursor" not in rest
    added: dict[str, Any] = rest["activity"][0]
    assert added["details"] == {"deviceId": device["id"], "platform": "web"}
    assert token not in str(added)
    kept = _when(added["expiresAt"]) - _when(added["at"])
    assert kept == timedelta(days=365)
    bad = client.call("GET", "/account/activity", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
