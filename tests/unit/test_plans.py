"""What a plan allows, from the stored billing state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aksio.plans import FREE, PRO, current_plan, limits_for

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_no_billing_is_free() -> None:
    assert current_plan(None, NOW) is FREE
    assert limits_for({}, NOW).max_upload_bytes == 25 * 1024 * 1024


def test_active_and_trialing_subscriptions_grant_the_plan() -> None:
    for status in ("active", "trialing"):
        assert current_plan({"billing": {"plan": "pro", "status": status}}, NOW) is PRO


def test_past_due_keeps_the_plan_only_during_grace() -> None:
    recent = {"billing": {"plan": "pro", "status": "past_due", "pastDueSince": NOW - timedelta(days=2)}}
    old = {"billing": {"plan": "pro", "status": "past_due", "pastDueSince": NOW - timedelta(days=8)}}
    assert current_plan(recent, NOW) is PRO
    assert current_plan(old, NOW) is FREE


def test_canceled_unpaid_and_unknown_plans_are_free() -> None:
    for billing in ({"plan": "pro", "status": "canceled"}, {"plan": "pro", "status": "unpaid"}, {"plan": "gold"}):
        assert current_plan({"billing": billing}, NOW) is FREE
