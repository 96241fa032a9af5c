"""The event → state rules: reading events, order safety, terminal states, grace."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aksio import plans
from aksio.billing import model
from aksio.billing.model import BillingState, apply, event_facts
from tests.unit.billing import events as ev

START = 1_790_000_000
CUS, SUB = "cus_test1", "sub_test1"


@pytest.fixture(autouse=True)
def _price(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_PRICE_PRO", ev.PRICE_PRO)


def fold(events: list[dict[str, Any]], state: BillingState | None = None) -> BillingState:
    state = state or BillingState(customer_id=CUS)
    for e in events:
        facts = event_facts(e)
        assert isinstance(facts, model.Facts)
        state = apply(state, facts).state
    return state


def test_subscription_event_is_read_whole() -> None:
    e = ev.event("customer.subscription.created", ev.subscription(SUB, CUS, "active", period_end=START + 99), START)
    facts = event_facts(e)
    assert isinstance(facts, model.Facts)
    assert (facts.subscription_id, facts.customer_id, facts.status, facts.full) == (SUB, CUS, "active", True)
    assert (facts.price_id, facts.plan, facts.current_period_end) == (ev.PRICE_PRO, "pro", START + 99)


def test_legacy_shapes_are_read_too() -> None:
    sub = {"id": SUB, "customer": CUS, "status": "trialing", "current_period_end": 5, "plan": {"id": ev.PRICE_PRO}}
    facts = event_facts(ev.event("customer.subscription.updated", sub, START))
    assert isinstance(facts, model.Facts)
    assert (facts.plan, facts.current_period_end) == ("pro", 5)
    inv = {"id": "in_1", "customer": CUS, "subscription": SUB, "lines": {"data": [{"price": {"id": "price_other"}}]}}
    facts = event_facts(ev.event("invoice.paid", inv, START))
    assert isinstance(facts, model.Facts)
    assert (facts.subscription_id, facts.status, facts.full, facts.plan) == (SUB, "active", False, None)


def test_invoice_events() -> None:
    paid = event_facts(ev.event("invoice.paid", ev.invoice(SUB, CUS, period_end=77, paid=True), START))
    assert isinstance(paid, model.Facts)
    assert (paid.subscription_id, paid.status, paid.current_period_end, paid.plan) == (SUB, "active", 77, "pro")
    failed = event_facts(ev.event("invoice.payment_failed", ev.invoice(SUB, CUS, period_end=77, paid=False), START))
    assert isinstance(failed, model.Facts)
    assert failed.status == "past_due"
    first = ev.invoice(SUB, CUS, period_end=77, paid=False, billing_reason="subscription_create")
    facts = event_facts(ev.event("invoice.payment_failed", first, START))
    assert isinstance(facts, model.Facts)
    assert facts.status == "incomplete"  # no grace for a plan never paid
    one_off = {"id": "in_2", "customer": CUS, "lines": {"data": []}}
    assert event_facts(ev.event("invoice.paid", one_off, START)) is None


def test_checkout_and_unknown_types() -> None:
    done = event_facts(ev.event("checkout.session.completed", ev.checkout_session(CUS, SUB, "u1"), START))
    assert isinstance(done, model.CheckoutCompleted)
    assert (done.customer_id, done.subscription_id, done.uid) == (CUS, SUB, "u1")
    payment = ev.checkout_session(CUS, SUB, "u1") | {"mode": "payment", "subscription": None}
    assert event_facts(ev.event("checkout.session.completed", payment, START)) is None
    assert event_facts(ev.event("customer.created", {"id": CUS}, START)) is None


@pytest.mark.parametrize(
    "bad",
    [[], {"id": "evt"}, {"id": "evt", "type": "x", "created": 1}, {"id": "e", "type": "x", "created": "1", "data": {}}],
)
def test_malformed_events_are_refused(bad: Any) -> None:
    with pytest.raises(model.EventError):
        event_facts(bad)
    with pytest.raises(model.EventError):
        event_facts(ev.event("customer.subscription.updated", {"id": SUB, "status": "active"}, START))


def test_in_order_lifecycle_states() -> None:
    events = ev.lifecycle(CUS, SUB, START)
    seen = []
    state = BillingState(customer_id=CUS)
    for e in events:
        facts = event_facts(e)
        assert isinstance(facts, model.Facts)
        state = apply(state, facts).state
        seen.append((state.status, state.cancel_at_period_end))
    assert seen == [
        ("active", False),
        ("active", True),
        ("past_due", True),
        ("past_due", False),
        ("active", False),
        ("active", False),
        ("canceled", False),
    ]
    assert state.past_due_since is None
    assert plans.current_plan({"billing": state.to_stored()}) is plans.FREE


@pytest.mark.parametrize("cancel", [True, False])
def test_any_order_ends_in_the_newest_state(cancel: bool) -> None:
    events = ev.lifecycle(CUS, SUB, START, cancel=cancel)
    expected = fold(events)
    assert expected.status == ("canceled" if cancel else "active")
    rng = random.Random(7)
    orders = set()
    for _ in range(300):
        shuffled = events[:]
        rng.shuffle(shuffled)
        orders.add(tuple(e["id"] for e in shuffled))
        # every delivery may come twice, too
        doubled = [e for e in shuffled for _ in range(rng.choice((1, 2)))]
        assert fold(doubled) == expected
    assert len(orders) >= 100


def test_past_due_keeps_first_since_and_grace() -> None:
    events = ev.lifecycle(CUS, SUB, START, cancel=False)[:4]
    state = fold(events)
    assert state.status == "past_due"
    assert state.past_due_since == datetime.fromtimestamp(START + 20, UTC)
    stored = {"billing": state.to_stored()}
    assert plans.current_plan(stored, state.past_due_since + timedelta(days=3)) is plans.PRO
    assert plans.current_plan(stored, state.past_due_since + timedelta(days=8)) is plans.FREE
    # a second past_due report later keeps the first time
    later = ev.event("customer.subscription.updated", ev.subscription(SUB, CUS, "past_due", period_end=1), START + 99)
    facts = event_facts(later)
    assert isinstance(facts, model.Facts)
    assert apply(state, facts).state.past_due_since == state.past_due_since


def test_same_second_events_order_by_lifecycle() -> None:
    created = ev.event("customer.subscription.created", ev.subscription(SUB, CUS, "incomplete", period_end=9), START)
    updated = ev.event("customer.subscription.updated", ev.subscription(SUB, CUS, "active", period_end=9), START)
    assert fold([created, updated]).status == "active"
    assert fold([updated, created]).status == "active"


def test_canceled_is_final_and_old_subscriptions_do_not_downgrade() -> None:
    canceled = fold(ev.lifecycle(CUS, SUB, START))
    late_paid = ev.event("invoice.paid", ev.invoice(SUB, CUS, period_end=1, paid=True), START + 500)
    facts = event_facts(late_paid)
    assert isinstance(facts, model.Facts)
    assert apply(canceled, facts).outcome == "stale"
    # a new subscription after the cancellation replaces the old one
    new = fold(
        [ev.event("customer.subscription.created", ev.subscription("sub_2", CUS, "active", period_end=9), START + 600)],
        canceled,
    )
    assert (new.subscription_id, new.status, new.plan) == ("sub_2", "active", "pro")
    # and the old one's late end (or any older event of it) changes nothing
    old_end = ev.event(
        "customer.subscription.deleted", ev.subscription(SUB, CUS, "canceled", period_end=1), START + 700
    )
    old_update = ev.event("customer.subscription.updated", ev.subscription(SUB, CUS, "active", period_end=1), START + 5)
    for e in (old_end, old_update):
        facts = event_facts(e)
        assert isinstance(facts, model.Facts)
        assert apply(new, facts).outcome == "stale"


def test_unknown_price_keeps_the_plan_from_metadata_or_free() -> None:
    sub = ev.subscription(SUB, CUS, "active", period_end=9, price="price_unknown")
    assert fold([ev.event("customer.subscription.created", sub, START)]).plan == "free"
    sub["metadata"] = {"plan": "pro"}
    assert fold([ev.event("customer.subscription.created", sub, START)]).plan == "pro"


def test_stored_round_trip() -> None:
    state = fold(ev.lifecycle(CUS, SUB, START, cancel=False)[:4])
    assert BillingState.from_stored(state.to_stored()) == state
    assert BillingState.from_stored(None) == BillingState()
