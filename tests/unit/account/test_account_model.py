"""The account package's pure parts: the recent sign-in rule, the usage and subscription
views, activity entries, the export's JSON form and Anki packages."""

from __future__ import annotations

import io
import sqlite3
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from aksio import errors, plans
from aksio.account import activity, anki, deletion, export
from aksio.account.service import subscription_view, usage_view
from aksio.auth import Caller

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("ago", "ok"), [(0, True), (299, True), (300, True), (301, False), (3600, False)])
def test_deletion_needs_a_sign_in_within_five_minutes(ago: int, ok: bool) -> None:
    caller = Caller("u1", claims={"auth_time": 1_000_000 - ago})
    if ok:
        deletion.check_recent_sign_in(caller, now=1_000_000)
    else:
        with pytest.raises(errors.Unauthenticated) as info:
            deletion.check_recent_sign_in(caller, now=1_000_000)
        assert info.value.code == "reauthentication_required"


def test_a_token_without_auth_time_is_not_recent() -> None:
    with pytest.raises(errors.Unauthenticated):
        deletion.check_recent_sign_in(Caller("u1", claims={}), now=1_000_000)


def test_deletion_view_counts_steps() -> None:
    assert deletion.view({"status": "running", "step": 2})["step"] == "firestore"
    done = deletion.view({"status": "done", "step": len(deletion.STEPS)})
    assert done == {"status": "done", "stepsDone": 5, "stepsTotal": 5}


def test_usage_view_lists_every_limit_and_the_subscription() -> None:
    since = NOW - timedelta(days=2)
    user = {
        "billing": {
            "plan": "pro",
            "status": "past_due",
            "pastDueSince": since,
            "currentPeriodEnd": NOW + timedelta(days=20),
            "cancelAtPeriodEnd": True,
        }
    }
    quota = {"quota": "generations", "limit": 300, "used": 3, "resetsAt": NOW}
    view = usage_view(user, [quota], NOW)
    assert view["plan"] == "pro"  # within the grace period
    assert set(view["limits"]) == {
        "maxUploadBytes",
        "maxPagesPerDocument",
        "pagesPerMonth",
        "generationsPerMonth",
        "tutorMessagesPerDay",
        "aiTokensPerMonth",
        "embeddingTokensPerMonth",
        "aiCallsPerMonth",
    }
    assert view["quotas"][0]["resetsAt"] == "2026-11-27T10:00:00Z"
    sub = view["subscription"]
    assert sub["graceEndsAt"] == (since + plans.grace_period()).isoformat().replace("+00:00", "Z")
    assert (sub["inGrace"], sub["cancelAtPeriodEnd"], sub["status"]) == (True, True, "past_due")
    late = subscription_view(user, since + plans.grace_period() + timedelta(seconds=1))
    assert late["inGrace"] is False
    assert usage_view(user, [], since + plans.grace_period() + timedelta(seconds=1))["plan"] == "free"
    assert subscription_view({}, NOW) == {}


def test_activity_entries_expire_after_a_year_and_have_stable_ids() -> None:
    entry = activity.entry("device_added", NOW, {"deviceId": "d1"})
    assert entry["expireAt"] - entry["at"] == timedelta(days=365)
    assert activity.entry_id("plan_changed", "evt_1") == activity.entry_id("plan_changed", "evt_1")
    assert activity.entry_id("plan_changed", "evt_1") != activity.entry_id("plan_changed", "evt_2")
    with pytest.raises(ValueError, match="unknown"):
        activity.entry("password_changed", NOW)


def test_export_values_are_plain_json() -> None:
    value = {"at": NOW, "raw": b"\x00\x01", "nested": [{"n": 1}], "other": object}
    out = export.plain(value)
    assert out["at"] == "2026-11-27T10:00:00Z"
    assert out["raw"] == "AAE="
    assert out["nested"] == [{"n": 1}]
    assert isinstance(out["other"], str)
    assert export.safe_name("../../etc/passwd", "x") == "_.._etc_passwd"  # no separator, no leading dot
    assert export.safe_name("???", "fallback") == "_"
    assert export.safe_name("", "fallback") == "fallback"


def _notes(apkg: bytes) -> list[tuple[str, str]]:
    """``(fields, tags)`` of each note."""
    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(io.BytesIO(apkg)).extract("collection.anki2", tmp)
        con = sqlite3.connect(f"{tmp}/collection.anki2")
        rows = [(r[0], r[1]) for r in con.execute("select flds, tags from notes")]
        con.close()
    return rows


def test_anki_package_has_one_note_per_basic_card_and_per_cloze_note() -> None:
    cards = [
        {"id": "c1", "kind": "basic", "front": "2 < 3?", "back": "yes\nindeed", "tags": ["math facts"]},
        {"id": "c2", "kind": "cloze", "noteId": "n1", "text": "{{c1::Oslo}} is in {{c2::Norway}}"},
        {"id": "c3", "kind": "cloze", "noteId": "n1", "text": "{{c1::Oslo}} is in {{c2::Norway}}"},
    ]
    notes = _notes(anki.package("d1", "Deck", cards))
    assert [t.strip() for f, t in notes if f.startswith("2")] == ["math_facts"]
    fields = sorted(f for f, _ in notes)
    assert fields == ["2 &lt; 3?\x1fyes<br>indeed", "{{c1::Oslo}} is in {{c2::Norway}}\x1f"]
    again = anki.package("d1", "Deck", list(reversed(cards)))
    assert sorted(f for f, _ in _notes(again)) == fields
